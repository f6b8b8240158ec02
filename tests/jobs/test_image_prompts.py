"""Image prompts: `--iw` read as img2img strength, the specs that carry the images, and the
`--ar` of a prompt written from an image."""

import pytest
from pydantic import ValidationError

from jobs import limits
from jobs.image_prompts import img2img_strength
from jobs.prompt import parse_prompt
from jobs.resolve import describe_spec, imagine_specs, reroll_spec
from jobs.sizing import aspect_of
from jobs.specs import JOB_SPEC, ImagineSpec, UploadRef
from models.catalog import load_catalog

UPLOAD = "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(("weight", "strength"), [(0, 1.0), (1, 0.7), (2, 0.4), (3, 0.1), (1.5, 0.55)])
def test_image_weight_runs_img2img_strength_down_from_pure_noise(weight, strength):
    assert img2img_strength(weight) == pytest.approx(strength)


@pytest.mark.parametrize("weight", [-0.1, limits.IMAGE_WEIGHT_MAX + 0.1])
def test_an_image_weight_out_of_range_is_refused(weight):
    with pytest.raises(ValueError, match="from 0 to 3"):
        img2img_strength(weight)


def test_a_prompt_with_images_carries_them_and_its_weight_into_every_job_and_reroll():
    images = (UploadRef(upload_id=UPLOAD, index=1), UploadRef(upload_id=UPLOAD, index=2))
    specs = imagine_specs(parse_prompt("a fox --iw 2 --repeat 2"), load_catalog(), seed=1, images=images)
    assert [(spec.images, spec.image_weight) for spec in specs] == [(images, 2.0)] * 2
    again = reroll_spec(specs[0])
    assert (again.images, again.image_weight) == (images, 2.0)
    assert JOB_SPEC.validate_json(again.model_dump_json()) == again


def test_iw_without_an_image_is_noted_not_refused():
    (spec,) = imagine_specs(parse_prompt("a fox --iw 2"), load_catalog(), seed=1)
    assert spec.images == () and "`--iw` has no effect here: the prompt has no image" in spec.warnings


@pytest.mark.parametrize(
    "images",
    [
        [{"upload_id": UPLOAD, "index": n} for n in range(1, limits.IMAGE_PROMPTS_MAX + 2)],  # too many
        [{"upload_id": "../../etc", "index": 1}],  # not an id: no key outside the store is named
        [{"upload_id": UPLOAD, "index": 0}],
    ],
)
def test_a_forged_spec_cannot_name_other_images(images):
    (spec,) = imagine_specs(parse_prompt("a fox"), load_catalog(), seed=1)
    with pytest.raises(ValidationError):
        ImagineSpec.model_validate({**spec.model_dump(), "images": images})


def test_a_describe_spec_round_trips_and_runs_on_its_models_queue():
    spec = describe_spec("shapes", UploadRef(upload_id=UPLOAD, index=1), seed=5)
    assert JOB_SPEC.validate_json(spec.model_dump_json()) == spec
    assert spec.model == "shapes"


@pytest.mark.parametrize(
    ("size", "aspect"),
    [
        ((1024, 683), (3, 2)),
        ((64, 64), (1, 1)),
        ((1920, 1080), (16, 9)),
        ((100, 1000), (1, 4)),
        ((9000, 100), (4, 1)),
    ],
)
def test_an_images_aspect_is_the_nearest_simple_ratio_within_the_limits(size, aspect):
    assert aspect_of(*size) == aspect
