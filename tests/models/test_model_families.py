"""Every family's defaults are usable as they stand."""

import re

import pytest

from jobs import limits
from models.families import FAMILY_DEFAULTS, Family, FamilyDefaults


def test_every_family_has_defaults():
    assert set(FAMILY_DEFAULTS) == set(Family)


@pytest.mark.parametrize("family", list(Family))
def test_family_defaults_are_sane(family):
    defaults = FAMILY_DEFAULTS[family]
    assert defaults.steps > 0
    assert 0 < defaults.vary_subtle < defaults.vary_strong <= 1
    assert 0 < defaults.upscale_denoise < 1
    assert defaults.sampler in defaults.samplers
    assert set(defaults.samplers) <= set(limits.SAMPLERS)
    # The UNet families' VAEs have 4 latent channels, FLUX's and SD3's 16.
    # SD's VAEs have 4 latent channels, FLUX.2's 32, the other flow families' 16.
    channels = {"sd": 4, "sdxl": 4, "flux2-klein": 32}.get(defaults.pipeline, 16)
    assert len(defaults.latent_rgb_factors) == channels
    assert defaults.native_width % defaults.size_multiple == 0
    assert defaults.native_height % defaults.size_multiple == 0
    assert defaults.max_pixels >= defaults.native_width * defaults.native_height
    # img2img runs int(steps × strength) steps: every operation must get at least one.
    assert int(defaults.steps * min(defaults.vary_subtle, defaults.upscale_denoise)) >= 1


@pytest.mark.parametrize(
    ("family", "size", "pipeline"),
    [
        (Family.SD15, 512, "sd"),
        (Family.SD2, 768, "sd"),
        (Family.SDXL, 1024, "sdxl"),
        (Family.SD_TURBO, 512, "sd"),
        (Family.SDXL_TURBO, 512, "sdxl"),
        (Family.FLUX, 1024, "flux"),
        (Family.SD3, 1024, "sd3"),
    ],
)
def test_native_size_and_pipeline(family, size, pipeline):
    defaults = FAMILY_DEFAULTS[family]
    assert (defaults.native_width, defaults.native_height, defaults.pipeline) == (size, size, pipeline)


@pytest.mark.parametrize("family", [Family.SD_TURBO, Family.SDXL_TURBO])
def test_turbo_models_run_without_guidance(family):
    assert FAMILY_DEFAULTS[family].guidance == 0.0
    assert FAMILY_DEFAULTS[family].steps <= 4


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"vary_subtle": 0.9}, "vary_subtle (0.9) must be below vary_strong"),
        ({"sampler": "k_lms"}, "sampler `k_lms` is not one of"),
        ({"native_width": 500}, "not a multiple of size_multiple"),
        ({"max_pixels": 1000}, "max_pixels (1000) is smaller than the native size"),
    ],
)
def test_inconsistent_defaults_are_refused(change, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        FamilyDefaults.model_validate(FAMILY_DEFAULTS[Family.SD15].model_dump() | change)
