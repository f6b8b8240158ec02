"""OpenAI's `images.edit` and `images.create_variation` through the official client: a masked edit
repaints the mask's area and keeps every pixel beyond its feather; an edit without a mask and a
variation start from the image; what cannot be used is a 400 naming the field."""

import base64
import io

import httpx
import numpy as np
import openai
import pytest
from PIL import Image

from playground.stack import Process
from tests.api.conftest import ClientFor, MakeKey
from tests.helpers import image
from training.shapes.measure import read
from training.shapes.scenes import Scene, render

pytestmark = pytest.mark.slow
TIMEOUT = 180
SIDE = 64
LEFT = SIDE // 2
"""The mask is transparent over the columns left of this one."""


def _png(picture: Image.Image) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def _source() -> Image.Image:
    return render(Scene("circle", "red", 1, "large", "blue", "top left"), SIDE)


def _left_half_mask(size: tuple[int, int] = (SIDE, SIDE)) -> bytes:
    """OpenAI's kind: transparent where to repaint, opaque elsewhere."""
    mask = Image.new("RGBA", size, (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), (0, 0, size[0] // 2, size[1]))
    return _png(mask)


def _images(result: openai.types.ImagesResponse) -> list[Image.Image]:
    return [image(base64.b64decode(item.b64_json)).convert("RGB") for item in result.data]


def test_an_edit_with_a_mask_repaints_the_mask_s_area_and_keeps_the_rest(
    client_for: ClientFor, api_worker: Process, make_key: MakeKey
):
    source = _source()
    result = client_for(make_key()).images.edit(
        image=("source.png", _png(source), "image/png"),
        mask=("mask.png", _left_half_mask(), "image/png"),
        prompt="a large yellow square at the top left on a blue background --seed 5",
        model="shapes",
        n=4,
        response_format="b64_json",
    )
    assert len(result.data) == 4 and result.size == f"{SIDE}x{SIDE}"
    before = np.asarray(source, dtype=float)
    # The feather reaches 2 × its radius (2 px at 64²) past the mask; beyond, the source's own pixels.
    kept = slice(LEFT + 5, SIDE)
    changed = []
    for edited in _images(result):
        after = np.asarray(edited, dtype=float)
        assert np.abs(after[:, kept] - before[:, kept]).max() <= 1, "a pixel outside the mask changed"
        changed.append(np.abs(after[:, :LEFT] - before[:, :LEFT]).mean())
    assert min(changed) > 8, f"the masked half was not repainted: mean change {changed}"


def test_an_edit_without_a_mask_starts_from_the_image(
    client_for: ClientFor, api_worker: Process, make_key: MakeKey
):
    result = client_for(make_key()).images.edit(
        image=("source.png", _png(_source()), "image/png"),
        prompt="a red circle --seed 2",
        model="shapes",
        n=4,
        input_fidelity="high",
        response_format="b64_json",
    )
    backgrounds = [read(edited).background for edited in _images(result)]
    assert backgrounds.count("blue") >= 3, backgrounds  # the prompt names none: it is the image's


# The client marks `create_variation` (DALL·E 2's endpoint) deprecated; the endpoint is still OpenAI's.
@pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")
def test_a_variation_keeps_close_to_its_image(client_for: ClientFor, api_worker: Process, make_key: MakeKey):
    result = client_for(make_key()).images.create_variation(
        image=("source.png", _png(_source()), "image/png"), model="shapes", n=4, response_format="b64_json"
    )
    seen = [read(variant) for variant in _images(result)]
    assert sum(s.background == "blue" and s.colour == "red" for s in seen) >= 3, seen


@pytest.mark.parametrize(
    ("files", "data", "param", "said"),
    [
        ({"mask": _left_half_mask()}, {}, "image", "Field required"),
        ({"image": b"not a picture"}, {}, "image", "isn't a PNG"),
        ({"image": _png(_source()), "mask": _left_half_mask((32, 32))}, {}, "mask", "same size"),
        (
            {"image": _png(_source()), "mask": _png(Image.new("RGBA", (SIDE, SIDE), "black"))},
            {},
            "mask",
            "nothing",
        ),
        ({"image": _png(_source())}, {"background": "transparent"}, "background", "transparent"),
        ({"image": _png(_source())}, {"markup": "x"}, "markup", "Extra inputs"),
    ],
    ids=["no-image", "not-an-image", "mask-size", "empty-mask", "transparent", "unknown-field"],
)
def test_an_edit_that_cannot_be_made_is_400_naming_the_field(
    api_url: str, make_key: MakeKey, files: dict, data: dict, param: str, said: str
):
    answer = httpx.post(
        f"{api_url}/v1/images/edits",
        files={name: (f"{name}.png", content, "image/png") for name, content in files.items()},
        data={"prompt": "a red circle", **data},
        headers={"Authorization": f"Bearer {make_key()}"},
        timeout=30,
    )
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["param"] == param and said in error["message"], error


def test_a_mask_with_more_than_one_image_is_refused(api_url: str, make_key: MakeKey):
    picture = _png(_source())
    answer = httpx.post(
        f"{api_url}/v1/images/edits",
        files=[
            ("image[]", ("a.png", picture)),
            ("image[]", ("b.png", picture)),
            ("mask", ("m.png", _left_half_mask())),
        ],
        data={"prompt": "a red circle"},
        headers={"Authorization": f"Bearer {make_key()}"},
        timeout=30,
    )
    assert answer.status_code == 400 and answer.json()["error"]["param"] == "mask", answer.text
