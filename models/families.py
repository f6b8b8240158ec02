"""Model families and the defaults each one is served with.

Torch-free: the bot reads these through the catalog. A catalog entry may override any of the
numeric fields and the sampler for one model (see `models.catalog.CatalogEntry`).
"""

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from jobs import limits


class Family(StrEnum):
    SD15 = "sd15"
    SD2 = "sd2"
    SDXL = "sdxl"
    SD_TURBO = "sd-turbo"
    SDXL_TURBO = "sdxl-turbo"
    FLUX = "flux"
    SD3 = "sd3"
    FLUX2_KLEIN = "flux2-klein"
    Z_IMAGE = "z-image"
    QWEN_IMAGE = "qwen-image"


RGB = tuple[float, float, float]


class FamilyDefaults(BaseModel):
    """How a model of one family is run when a prompt does not say otherwise."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    native_width: int = Field(gt=0)
    native_height: int = Field(gt=0)
    size_multiple: int = Field(default=64, gt=0)
    """Width and height are multiples of this (the VAE's downscale times the UNet's)."""
    steps: int = Field(gt=0, le=limits.STEPS_MAX)
    guidance: float = Field(ge=limits.GUIDANCE_MIN, le=limits.GUIDANCE_MAX)
    sampler: str
    samplers: tuple[str, ...] = Field(min_length=1)
    """The samplers it can run: the UNet families' or the flow-matching families' (`jobs.limits`)."""
    vary_subtle: float = Field(gt=0, le=1)
    vary_strong: float = Field(gt=0, le=1)
    upscale_denoise: float = Field(gt=0, le=1)
    """Upscale (Subtle)'s refine, after the super-resolution model."""
    upscale_creative: float = Field(gt=0, le=1)
    """Upscale (Creative)'s refine: strong enough to add detail, not to change what is there."""
    max_pixels: int = Field(gt=0)
    pipeline: Literal["sd", "sdxl", "flux", "sd3", "flux2-klein", "z-image", "qwen-image"]
    """The module of `models.pipelines` that runs the family."""
    latent_rgb_factors: tuple[RGB, ...] = Field(min_length=1)
    """One row per latent channel: RGB ≈ latents · factors + bias, in about [-1, 1].

    Applies to the latents as the pipeline holds them while denoising (already scaled, and for
    FLUX shifted, by the VAE's factors, or normalised by its statistics; packed latents unpacked
    first), so a preview needs no VAE decode.
    """
    latent_rgb_bias: RGB = (0.0, 0.0, 0.0)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if not set(self.samplers) <= set(limits.SAMPLERS):
            raise ValueError(f"samplers must be among {', '.join(limits.SAMPLERS)}")
        if self.sampler not in self.samplers:
            raise ValueError(f"sampler `{self.sampler}` is not one of {', '.join(self.samplers)}")
        if self.vary_subtle >= self.vary_strong:
            raise ValueError(
                f"vary_subtle ({self.vary_subtle}) must be below vary_strong ({self.vary_strong})"
            )
        if self.upscale_denoise >= self.upscale_creative:
            raise ValueError(
                f"upscale_denoise ({self.upscale_denoise}) must be below upscale_creative"
                f" ({self.upscale_creative})"
            )
        if self.native_width % self.size_multiple or self.native_height % self.size_multiple:
            raise ValueError(
                f"the native size {self.native_width}×{self.native_height} is not a multiple of "
                f"size_multiple ({self.size_multiple})"
            )
        if self.native_width * self.native_height > self.max_pixels:
            raise ValueError(f"max_pixels ({self.max_pixels}) is smaller than the native size")
        return self


# Approximate linear maps from the (scaled) latents to RGB, fitted by the community and used for
# live previews in ComfyUI and others. SD1.x and SD2.x share one VAE, so share one map; SDXL's VAE
# is a retrained one with its own map and a bias.
_SD_VAE_RGB: tuple[RGB, ...] = (
    (0.3512, 0.2297, 0.3227),
    (0.3250, 0.4974, 0.2350),
    (-0.2829, 0.1762, 0.2721),
    (-0.2120, -0.2616, -0.7177),
)
_SDXL_VAE_RGB: tuple[RGB, ...] = (
    (0.3651, 0.4232, 0.4341),
    (-0.2533, -0.0042, 0.1068),
    (0.1076, 0.1111, -0.0362),
    (-0.3165, -0.2492, -0.2188),
)
_SDXL_VAE_BIAS: RGB = (0.1084, -0.0175, -0.0011)
# FLUX.1's VAE has 16 latent channels (shifted and scaled: (z - 0.1159) × 0.3611 while denoising).
_FLUX_VAE_RGB: tuple[RGB, ...] = (
    (-0.0346, 0.0244, 0.0681),
    (0.0034, 0.0210, 0.0687),
    (0.0275, -0.0668, -0.0433),
    (-0.0174, 0.0160, 0.0617),
    (0.0859, 0.0721, 0.0329),
    (0.0004, 0.0383, 0.0115),
    (0.0405, 0.0861, 0.0915),
    (-0.0236, -0.0185, -0.0259),
    (-0.0245, 0.0250, 0.1180),
    (0.1008, 0.0755, -0.0421),
    (-0.0515, 0.0201, 0.0011),
    (0.0428, -0.0012, -0.0036),
    (0.0817, 0.0765, 0.0749),
    (-0.1264, -0.0522, -0.1103),
    (-0.0280, -0.0881, -0.0499),
    (-0.1262, -0.0982, -0.0778),
)
_FLUX_VAE_BIAS: RGB = (-0.0329, -0.0718, -0.0851)
# SD3's VAE: 16 latent channels too, shifted and scaled its own way ((z - 0.0609) × 1.5305).
_SD3_VAE_RGB: tuple[RGB, ...] = (
    (-0.0645, 0.0177, 0.1052),
    (0.0028, 0.0312, 0.0650),
    (0.1848, 0.0762, 0.0360),
    (0.0944, 0.0360, 0.0889),
    (0.0897, 0.0506, -0.0364),
    (-0.0020, 0.1203, 0.0284),
    (0.0855, 0.0118, 0.0283),
    (-0.0539, 0.0658, 0.1047),
    (-0.0057, 0.0116, 0.0700),
    (-0.0412, 0.0281, -0.0039),
    (0.1106, 0.1171, 0.1220),
    (-0.0248, 0.0682, -0.0481),
    (0.0815, 0.0846, 0.1207),
    (-0.0120, -0.0055, -0.0867),
    (-0.0749, -0.0634, -0.0456),
    (-0.1418, -0.1457, -0.1259),
)
# FLUX.2's VAE: 32 latent channels, batch-normalised by the VAE's own statistics while denoising
# (and patched 2×2, which the preview undoes first).
_FLUX2_VAE_RGB: tuple[RGB, ...] = (
    (0.0058, 0.0113, 0.0073),
    (0.0495, 0.0443, 0.0836),
    (-0.0099, 0.0096, 0.0644),
    (0.2144, 0.3009, 0.3652),
    (0.0166, -0.0039, -0.0054),
    (0.0157, 0.0103, -0.0160),
    (-0.0398, 0.0902, -0.0235),
    (-0.0052, 0.0095, 0.0109),
    (-0.3527, -0.2712, -0.1666),
    (-0.0301, -0.0356, -0.0180),
    (-0.0107, 0.0078, 0.0013),
    (0.0746, 0.0090, -0.0941),
    (0.0156, 0.0169, 0.0070),
    (-0.0034, -0.0040, -0.0114),
    (0.0032, 0.0181, 0.0080),
    (-0.0939, -0.0008, 0.0186),
    (0.0018, 0.0043, 0.0104),
    (0.0284, 0.0056, -0.0127),
    (-0.0024, -0.0022, -0.0030),
    (0.1207, -0.0026, 0.0065),
    (0.0128, 0.0101, 0.0142),
    (0.0137, -0.0072, -0.0007),
    (0.0095, 0.0092, -0.0059),
    (0.0000, -0.0077, -0.0049),
    (-0.0465, -0.0204, -0.0312),
    (0.0095, 0.0012, -0.0066),
    (0.0290, -0.0034, 0.0025),
    (0.0220, 0.0169, -0.0048),
    (-0.0332, -0.0457, -0.0468),
    (-0.0085, 0.0389, 0.0609),
    (-0.0076, 0.0003, -0.0043),
    (-0.0111, -0.0460, -0.0614),
)
# Qwen-Image's VAE is Wan 2.1's: 16 latent channels, normalised per channel by its means and
# deviations while denoising.
_WAN_VAE_RGB: tuple[RGB, ...] = (
    (-0.1299, -0.1692, 0.2932),
    (0.0671, 0.0406, 0.0442),
    (0.3568, 0.2548, 0.1747),
    (0.0372, 0.2344, 0.1420),
    (0.0313, 0.0189, -0.0328),
    (0.0296, -0.0956, -0.0665),
    (-0.3477, -0.4059, -0.2925),
    (0.0166, 0.1902, 0.1975),
    (-0.0412, 0.0267, -0.1364),
    (-0.1293, 0.0740, 0.1636),
    (0.0680, 0.3019, 0.1128),
    (0.0032, 0.0581, 0.0639),
    (-0.1251, 0.0927, 0.1699),
    (0.0060, -0.0633, 0.0005),
    (0.3477, 0.2275, 0.2950),
    (0.1984, 0.0913, 0.1861),
)
_WAN_VAE_BIAS: RGB = (-0.1835, -0.0868, -0.3360)

# Shared reasoning for the values below:
# - steps: 25 is where the multistep DPM++ 2M (Karras sigmas) sampler has converged for SD1.5,
#   SD2 and SDXL; more steps cost time and change little. The turbo models are distilled
#   (adversarial diffusion distillation) for 1-4 steps; we take 4, the best quality they offer,
#   and so that img2img, which runs int(steps × strength) steps, still runs at least one step at
#   the lowest strength we use (4 × 0.3 → 1).
# - guidance: the diffusers pipelines' own defaults, 7.5 for SD1/SD2 and 5.0 for SDXL (SDXL burns
#   colours at SD1.5-like guidance). The turbo models were trained without classifier-free
#   guidance and must run at 0.0 (which also halves their cost: no unconditional pass).
# - vary: Fooocus runs SDXL variations at 0.5 (subtle) and 0.85 (strong). SD1.5 and SD2 re-compose
#   an image much sooner as denoise rises (their 64×64 / 96×96 latents carry less structure and
#   the models keep composition less firmly), so at those strengths a "variation" stops looking
#   like its source; 0.3 / 0.6 keeps the composition and changes detail, then layout.
# - upscale_denoise: after a plain 2× resize, img2img at low denoise re-draws detail without
#   changing content. Fooocus refines SDXL upscales at 0.382; SD1.5/SD2 hallucinate new objects
#   sooner at the larger-than-native size, so 0.3.
# - upscale_creative: Midjourney's Creative upscale adds detail and may change small things. At
#   about the vary_subtle strength of each family plus 0.2 the refine invents texture while the
#   composition, taken from the enlarged image, holds: 0.5 for SD1.5/SD2, 0.6 for SDXL (as it
#   varies at 0.5), 0.55 for the flow-matching families.
# - max_pixels: 4× the native area, i.e. a 2× upscale of a native image; beyond that the models
#   repeat subjects (they were never trained that large) and memory grows with the square.
FAMILY_DEFAULTS: Mapping[Family, FamilyDefaults] = MappingProxyType(
    {
        # Stable Diffusion 1.x: trained at 512², ε-prediction; the most community checkpoints.
        Family.SD15: FamilyDefaults(
            native_width=512,
            native_height=512,
            steps=25,
            guidance=7.5,
            sampler="dpm++2m_karras",
            samplers=limits.UNET_SAMPLERS,
            vary_subtle=0.3,
            vary_strong=0.6,
            upscale_denoise=0.3,
            upscale_creative=0.5,
            max_pixels=4 * 512 * 512,
            pipeline="sd",
            latent_rgb_factors=_SD_VAE_RGB,
        ),
        # Stable Diffusion 2.x (768-v): trained at 768², v-prediction (the scheduler config from
        # the checkpoint keeps `prediction_type`); same VAE as SD1.x.
        Family.SD2: FamilyDefaults(
            native_width=768,
            native_height=768,
            steps=25,
            guidance=7.5,
            sampler="dpm++2m_karras",
            samplers=limits.UNET_SAMPLERS,
            vary_subtle=0.3,
            vary_strong=0.6,
            upscale_denoise=0.3,
            upscale_creative=0.5,
            max_pixels=4 * 768 * 768,
            pipeline="sd",
            latent_rgb_factors=_SD_VAE_RGB,
        ),
        # SDXL base: trained at 1024² (and aspect buckets of about as many pixels); two text encoders.
        Family.SDXL: FamilyDefaults(
            native_width=1024,
            native_height=1024,
            steps=25,
            guidance=5.0,
            sampler="dpm++2m_karras",
            samplers=limits.UNET_SAMPLERS,
            vary_subtle=0.5,
            vary_strong=0.85,
            upscale_denoise=0.382,
            upscale_creative=0.6,
            max_pixels=4 * 1024 * 1024,
            pipeline="sdxl",
            latent_rgb_factors=_SDXL_VAE_RGB,
            latent_rgb_bias=_SDXL_VAE_BIAS,
        ),
        # SD-Turbo: SD2.1 distilled for 1-4 steps at 512². Its scheduler is Euler ancestral with
        # "trailing" timesteps, which the worker keeps when it maps `euler_a`.
        Family.SD_TURBO: FamilyDefaults(
            native_width=512,
            native_height=512,
            steps=4,
            guidance=0.0,
            sampler="euler_a",
            samplers=limits.UNET_SAMPLERS,
            vary_subtle=0.3,
            vary_strong=0.6,
            upscale_denoise=0.3,
            upscale_creative=0.5,
            max_pixels=4 * 512 * 512,
            pipeline="sd",
            latent_rgb_factors=_SD_VAE_RGB,
        ),
        # SDXL-Turbo: SDXL distilled for 1-4 steps, trained at 512² (not 1024²); SDXL's VAE.
        Family.SDXL_TURBO: FamilyDefaults(
            native_width=512,
            native_height=512,
            steps=4,
            guidance=0.0,
            sampler="euler_a",
            samplers=limits.UNET_SAMPLERS,
            vary_subtle=0.5,
            vary_strong=0.85,
            upscale_denoise=0.382,
            upscale_creative=0.6,
            max_pixels=4 * 512 * 512,
            pipeline="sdxl",
            latent_rgb_factors=_SDXL_VAE_RGB,
            latent_rgb_bias=_SDXL_VAE_BIAS,
        ),
        # FLUX.1 (dev, and fine-tunes such as Krea's): a 12 B rectified-flow transformer on T5
        # sequence embeddings plus pooled CLIP, trained at about 1 MP (1024², and aspect buckets
        # of about as many pixels); sizes are multiples of 16 (the VAE's 8 × 2×2 patches).
        # - steps 28 and guidance 3.5: the reference settings for dev, whose guidance is a
        #   distilled embedding (one pass per step, no negative prompt), not classifier-free.
        #   FLUX.1-schnell is distilled for 1-4 steps and takes no guidance: its catalog entry
        #   sets `steps = 4` and `guidance = 0`.
        # - flow_euler: the flow-matching Euler sampler with the checkpoint's resolution-dependent
        #   timestep shift, as FLUX is sampled by its authors.
        # - vary 0.5 / 0.8 and upscale 0.35: a flow model with a shifted schedule keeps the
        #   composition at higher strengths than SD1.5, so a subtle variation can go to 0.5; at
        #   0.85 it re-composes; an upscale past 0.35 starts adding objects at 2 MP and more.
        # - max_pixels: 4 × 1024², a 2× upscale of a native image.
        Family.FLUX: FamilyDefaults(
            native_width=1024,
            native_height=1024,
            size_multiple=16,
            steps=28,
            guidance=3.5,
            sampler="flow_euler",
            samplers=limits.FLOW_SAMPLERS,
            vary_subtle=0.5,
            vary_strong=0.8,
            upscale_denoise=0.35,
            upscale_creative=0.55,
            max_pixels=4 * 1024 * 1024,
            pipeline="flux",
            latent_rgb_factors=_FLUX_VAE_RGB,
            latent_rgb_bias=_FLUX_VAE_BIAS,
        ),
        # Stable Diffusion 3 and 3.5: an MMDiT rectified-flow transformer on two CLIPs and T5,
        # trained at about 1 MP; sizes are multiples of 16 (the VAE's 8 × 2×2 patches).
        # - steps 28 and guidance 3.5: SD3.5 Large's reference settings (its model card), with
        #   real classifier-free guidance (a negative pass each step: `--no` works). SD3.5 Medium
        #   is run at 40 steps and 4.5, SD3 Medium at 28 and 7.0: their catalog entries say so.
        # - flow_euler with the checkpoint's fixed timestep shift (3.0 for all three).
        # - vary, upscale and max_pixels: as FLUX, for the same reasons (a shifted flow schedule).
        Family.SD3: FamilyDefaults(
            native_width=1024,
            native_height=1024,
            size_multiple=16,
            steps=28,
            guidance=3.5,
            sampler="flow_euler",
            samplers=limits.FLOW_SAMPLERS,
            vary_subtle=0.5,
            vary_strong=0.8,
            upscale_denoise=0.35,
            upscale_creative=0.55,
            max_pixels=4 * 1024 * 1024,
            pipeline="sd3",
            latent_rgb_factors=_SD3_VAE_RGB,
        ),
        # FLUX.2 klein (4 B and 9 B): a rectified-flow transformer on Qwen3, trained at about 1 MP
        # and good to 4 MP; sizes are multiples of 16 (the VAE's 8 × 2×2 patches).
        # - steps 4 and guidance 1: the step-distilled klein models' reference settings (no
        #   negative pass). The base (undistilled) klein models run at 50 steps and guidance 4,
        #   with real classifier-free guidance: their catalog entries say so.
        # - flow_euler with the pipeline's own shift, computed from the token count and the steps.
        # - vary, upscale: as FLUX.1 (a shifted flow schedule keeps the composition to 0.5).
        # - max_pixels: 4 MP, what Black Forest Labs state klein renders.
        Family.FLUX2_KLEIN: FamilyDefaults(
            native_width=1024,
            native_height=1024,
            size_multiple=16,
            steps=4,
            guidance=1.0,
            sampler="flow_euler",
            samplers=limits.FLOW_SAMPLERS,
            vary_subtle=0.5,
            vary_strong=0.8,
            upscale_denoise=0.35,
            upscale_creative=0.55,
            max_pixels=4 * 1024 * 1024,
            pipeline="flux2-klein",
            latent_rgb_factors=_FLUX2_VAE_RGB,
            latent_rgb_bias=_FLUX_VAE_BIAS,
        ),
        # Z-Image (Turbo, and the base model): a 6 B single-stream flow transformer on Qwen3,
        # trained at about 1 MP; FLUX.1's VAE; sizes are multiples of 16.
        # - steps 9 and guidance 0: Z-Image-Turbo's reference settings (8 function evaluations,
        #   distilled without classifier-free guidance). The base model runs at 50 steps and a
        #   guidance of 4 (with `--no`): its catalog entry says so.
        # - flow_euler with its fixed shift of 3.
        # - vary 0.45 / 0.75: the turbo schedule spends its few steps early, so each step of
        #   strength re-composes more than on FLUX.1-dev; upscale 0.3 for the same reason.
        # - max_pixels: 4 × 1024².
        Family.Z_IMAGE: FamilyDefaults(
            native_width=1024,
            native_height=1024,
            size_multiple=16,
            steps=9,
            guidance=0.0,
            sampler="flow_euler",
            samplers=limits.FLOW_SAMPLERS,
            vary_subtle=0.45,
            vary_strong=0.75,
            upscale_denoise=0.3,
            upscale_creative=0.5,
            max_pixels=4 * 1024 * 1024,
            pipeline="z-image",
            latent_rgb_factors=_FLUX_VAE_RGB,
            latent_rgb_bias=_FLUX_VAE_BIAS,
        ),
        # Qwen-Image: a 20 B MMDiT on Qwen2.5-VL, trained at 1328² (its aspect buckets, 1664×928
        # for 16:9 and so on, hold about as many pixels); sizes are multiples of 16.
        # - steps 50 and guidance 4: Qwen's reference settings, real classifier-free guidance
        #   (`true_cfg`, so `--no` works). Lightning LoRAs or distilled fine-tunes run at 4-8 steps
        #   and guidance 1: their catalog entries say so.
        # - flow_euler with its resolution-dependent exponential shift.
        # - vary, upscale: as FLUX.1.
        # - max_pixels: 4 × 1328², a 2× upscale of a native image.
        Family.QWEN_IMAGE: FamilyDefaults(
            native_width=1328,
            native_height=1328,
            size_multiple=16,
            steps=50,
            guidance=4.0,
            sampler="flow_euler",
            samplers=limits.FLOW_SAMPLERS,
            vary_subtle=0.5,
            vary_strong=0.8,
            upscale_denoise=0.35,
            upscale_creative=0.55,
            max_pixels=4 * 1328 * 1328,
            pipeline="qwen-image",
            latent_rgb_factors=_WAN_VAE_RGB,
            latent_rgb_bias=_WAN_VAE_BIAS,
        ),
    }
)
