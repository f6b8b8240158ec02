"""A job's sizes checked against its model's limits before anything is rendered.

The bot resolves prompts within these limits, but Redis is a trust boundary: a spec asking for
4096×4096 images of a 64² model would be rendered until memory ran out.
"""

import math

from jobs import limits
from jobs.profile import ModelProfile
from jobs.resolve import image_size
from jobs.specs import JobSpec, UpscaleSpec, VarySpec
from worker.errors import InvalidJobError, JobTooLargeError

MAX_RUN_STEPS = 2 * limits.STEPS_MAX
"""Most denoising steps a job may run (`--steps 150 --q 2`), img2img's minimum included."""


def check_fits(spec: JobSpec, profile: ModelProfile) -> None:
    """Raise a JobError, worded for the member, unless `profile`'s model can make `spec`."""
    if spec.generation.sampler not in profile.samplers:
        raise InvalidJobError(
            f"the job asks for the sampler `{spec.generation.sampler}`, which the model"
            f" `{profile.name}` cannot run: it runs {', '.join(profile.samplers)}"
        )
    width, height = image_size(spec)
    check_size(f"the job asks for {width}×{height} images", width, height, profile)
    if isinstance(spec, UpscaleSpec | VarySpec):
        g = spec.generation
        check_size(f"the job's source image is {g.width}×{g.height}", g.width, g.height, profile)
        # img2img runs at least one step, so it asks for 1/denoise in all (`Engine.refine`).
        if math.ceil(1 / spec.denoise) > MAX_RUN_STEPS:
            raise JobTooLargeError(
                f"the job's denoise of {spec.denoise:g} would need more than {MAX_RUN_STEPS} steps"
            )


def check_pixels(what: str, width: int, height: int, profile: ModelProfile) -> None:
    if width * height > profile.max_pixels:
        most = profile.max_pixels
        raise JobTooLargeError(f"{what}; the model `{profile.name}` makes at most {most} pixels")


def check_size(what: str, width: int, height: int, profile: ModelProfile) -> None:
    """`what` names the size for the message, e.g. "the job asks for 4096×4096 images"."""
    check_pixels(what, width, height, profile)
    multiple = profile.size_multiple
    if width % multiple or height % multiple:
        raise JobTooLargeError(
            f"{what}; the model `{profile.name}` needs sides that are multiples of {multiple}"
        )
    # Sizes are rounded to whole multiples, so a 4:1 request may come out a multiple past 4:1.
    long, short = max(width, height), min(width, height)
    if long > limits.ASPECT_MAX_RATIO * (short + multiple):
        widest = f"{limits.ASPECT_MAX_RATIO:g}"
        raise JobTooLargeError(
            f"{what}; images can be at most {widest} times as wide as tall, or as tall as wide"
        )
