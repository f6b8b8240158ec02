"""`--stop`: end the denoising early and decode the clean image the last two steps point to.

Every sampler here holds its latents as `a·x₀ + s·ε` at each step's noise level: `a = 1 - σ`,
`s = σ` on a flow-matching path; `a = 1`, `s = σ` for the Karras-style samplers (Euler, Heun, LMS);
`a = √ᾱ`, `s = √(1 - ᾱ)` for the VP ones (DPM-Solver, UniPC, DDIM, PNDM). Two successive latents
on one path are two equations in `x₀` and `ε`: solving them gives the estimate of the finished
image at that point, which is what is decoded (blurrier the earlier the stop, as in Midjourney).
Samplers that add fresh noise at each step (`euler_a`, `dpm++sde`) make it an approximation.
"""

import math

import torch
from diffusers import (
    DDIMScheduler,
    DPMSolverMultistepScheduler,
    FlowMatchEulerDiscreteScheduler,
    PNDMScheduler,
    UniPCMultistepScheduler,
)
from diffusers.schedulers.scheduling_utils import SchedulerMixin

_VARIANCE_PRESERVING = (DPMSolverMultistepScheduler, UniPCMultistepScheduler)
_BY_TIMESTEP = (DDIMScheduler, PNDMScheduler)


def stop_step(steps: int, stop: int) -> int:
    """After how many of `steps` a `--stop` percentage ends the denoising: at least two (the
    estimate needs two successive latents), and all of them at 100."""
    if stop >= 100:
        return steps
    return min(steps, max(2, math.ceil(steps * stop / 100)))


def noise_level(scheduler: SchedulerMixin, position: int) -> tuple[float, float]:
    """(a, s) of the latents at `position` in the scheduler's current schedule: before its
    `position`-th step (0-based), or after the last one."""
    if isinstance(scheduler, _BY_TIMESTEP):
        timesteps = scheduler.timesteps
        alphas = scheduler.alphas_cumprod
        if position < len(timesteps):
            cumulative = float(alphas[int(timesteps[position])])
        else:
            cumulative = float(scheduler.final_alpha_cumprod)
        return math.sqrt(cumulative), math.sqrt(1 - cumulative)
    sigma = float(scheduler.sigmas[position])
    if isinstance(scheduler, FlowMatchEulerDiscreteScheduler):
        return 1 - sigma, sigma
    if isinstance(scheduler, _VARIANCE_PRESERVING):
        alpha = 1 / math.sqrt(sigma**2 + 1)
        return alpha, sigma * alpha
    return 1.0, sigma


def denoised(
    previous: torch.Tensor, current: torch.Tensor, before: tuple[float, float], after: tuple[float, float]
) -> torch.Tensor:
    """The `x₀` that latents `previous` at noise level `before` and `current` at `after` share."""
    (a1, s1), (a2, s2) = before, after
    determinant = s2 * a1 - s1 * a2
    estimate = (s2 * previous.float() - s1 * current.float()) / determinant
    return estimate.to(current.dtype)
