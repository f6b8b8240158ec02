"""`--stop`: the estimate of the finished image from two successive latents, checked against each
kind of sampler's own steps, and the engine ending a call early and decoding that estimate."""

import numpy as np
import pytest
import torch

from jobs.prompt import parse_prompt
from jobs.resolve import generation_for
from models.tiny.parts import FLUX_NOISE_SCHEDULE, SD_NOISE_SCHEDULE
from worker.boot import load_engines
from worker.engine import Engine
from worker.schedulers import SchedulerCache
from worker.settings import WorkerSettings
from worker.stopping import denoised, noise_level, stop_step

# The deterministic samplers of each bookkeeping: flow matching, Karras-style σ (VE), VP by σ, and
# VP by timestep. (The ancestral ones add fresh noise each step: their estimate is approximate.)
EXACT = ["flow_euler", "euler", "lms", "dpm++2m", "dpm++2m_karras", "unipc", "ddim"]


# Mid-schedule (img2img), diffusers' LMS takes its full order on a one-derivative history, so its
# own steps leave the noise path: its estimate is approximate there, as its denoising is.
CASES = [(sampler, 0) for sampler in EXACT] + [(sampler, 4) for sampler in EXACT if sampler != "lms"]


@pytest.mark.parametrize(("sampler", "first"), CASES, ids=[f"{s}-from-step-{f}" for s, f in CASES])
def test_two_steps_of_a_model_that_knows_the_answer_give_back_the_clean_image(sampler: str, first: int):
    flow = sampler == "flow_euler"
    config = {**FLUX_NOISE_SCHEDULE, "use_dynamic_shifting": False} if flow else SD_NOISE_SCHEDULE
    scheduler = SchedulerCache(config).get(sampler)
    scheduler.set_timesteps(12)
    if hasattr(scheduler, "set_begin_index"):
        scheduler.set_begin_index(first)  # as the img2img pipelines do when they skip steps
    clean, noise = torch.randn(2, 1, 4, 8, 8, generator=torch.Generator().manual_seed(0))
    clean = clean.tanh()  # within [-1, 1], where DDIM's default `clip_sample` leaves it be
    output = noise - clean if flow else noise  # the true velocity, or the true ε, at every step
    a, s = noise_level(scheduler, first)
    latents = [a * clean + s * noise]
    for timestep in scheduler.timesteps[first : first + 4]:
        if hasattr(scheduler, "scale_model_input"):  # what the model would read; some count it
            scheduler.scale_model_input(latents[-1], timestep)
        latents.append(scheduler.step(output, timestep, latents[-1]).prev_sample)
    for done in (2, 4):  # an estimate from any two successive steps
        levels = noise_level(scheduler, first + done - 1), noise_level(scheduler, first + done)
        estimate = denoised(latents[done - 1], latents[done], *levels)
        torch.testing.assert_close(estimate, clean, atol=1e-3, rtol=1e-3)
    assert not torch.allclose(latents[4], clean, atol=1e-2)  # the latents themselves are still noisy


def test_the_stop_step_is_the_percentage_rounded_up_and_never_below_two():
    assert [stop_step(20, stop) for stop in (10, 50, 99, 100)] == [2, 10, 20, 20]
    assert stop_step(4, 10) == 2 and stop_step(1, 10) == 1  # one step: nothing to stop


@pytest.fixture(scope="module", params=["tiny", "tiny-flux"])
def engine(request: pytest.FixtureRequest, worker_settings: WorkerSettings) -> Engine:
    return load_engines(worker_settings.model_copy(update={"models": [request.param]}))[request.param]


def test_a_stopped_job_runs_that_share_of_its_steps_and_decodes_their_estimate(engine: Engine):
    profile = engine.model.entry.profile()
    steps: list[tuple[int, int]] = []
    full = engine.imagine(
        generation_for(parse_prompt("a red fox --seed 3 --steps 8"), profile), lambda *_: None
    )
    stopped = engine.imagine(
        generation_for(parse_prompt("a red fox --seed 3 --steps 8 --stop 50"), profile),
        lambda step, total, _: steps.append((step, total)),
    )
    assert steps == [(1, 4), (2, 4), (3, 4), (4, 4)]  # progress runs to 100% of what is run
    pixels = [
        np.stack([np.asarray(image, np.float32) for image in render.images]) for render in (full, stopped)
    ]
    assert pixels[1].std() > 1  # a picture, not a flat (NaN or black) one
    assert not np.array_equal(pixels[0], pixels[1])  # and not the finished one
