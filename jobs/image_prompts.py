"""How much a member's image prompts count (`--iw`), in the terms of the pipeline that uses them.

Every family runs image prompts through its img2img pipeline (built from the text-to-image one's
components with `from_pipe`): each grid image starts from one of the images, noised to the
strength below and denoised with the prompt. Midjourney's `--iw` runs from 0 (the image barely
counts) to 3 (it dominates), 1 by default; img2img's strength runs the other way, from 1 (start
from pure noise: the image is ignored) down to 0 (keep the image).
"""

from jobs import limits

_LEAST_STRENGTH = 0.1
"""Below this img2img hardly changes the image: `--iw 3` is as close as it goes."""


def img2img_strength(image_weight: float) -> float:
    """`--iw` as img2img strength, linearly: 0 → 1.0, 1 → 0.7, 2 → 0.4, 3 → 0.1.

    The same line suits every family: strength is the share of the noise schedule the pipeline
    runs, which means the same thing to the ε-, v-prediction and flow-matching samplers alike. At
    the default of 0.7 the composition and colours of the image carry over and the prompt redraws
    the rest; the families differ only in how few steps a strength leaves them, which the engine
    tops up so that at least one step runs.
    """
    if not 0 <= image_weight <= limits.IMAGE_WEIGHT_MAX:
        raise ValueError(f"an image weight runs from 0 to {limits.IMAGE_WEIGHT_MAX:g}, not {image_weight:g}")
    span = 1 - _LEAST_STRENGTH
    return round(1 - span * image_weight / limits.IMAGE_WEIGHT_MAX, 6)
