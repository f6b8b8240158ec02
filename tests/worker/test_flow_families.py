"""The flow-matching transformer families end to end on their tiny models, `tiny-flux`, `tiny-sd3`,
`tiny-flux2-klein`, `tiny-z-image` and `tiny-qwen-image` (the architectures with random weights,
built from configs, saved and loaded back through the production loader): every operation through
Redis and a worker, `::` weights, `--chaos`, `--tile`, `--no`, previews of their latents (packed
ones unpacked), token-limit notes, and jobs sharing a call."""

from collections.abc import Callable

import numpy as np
import pytest
from PIL import Image
from redis import Redis

from broker.artifacts import ArtifactStore
from broker.queues import JobSubmitter
from broker.settings import BrokerSettings
from jobs.events import Done, Progress
from jobs.profile import ModelProfile
from jobs.prompt import parse_prompt
from jobs.resolve import generation_for, imagine_spec, reroll_spec, upscale_spec, vary_spec
from jobs.specs import Generation, JobSpec, LoraUse, Strength
from models.catalog import LoraEntry, LoraFileSource
from models.pipelines.base import PipelineFamily
from models.pipelines.flux import Flux
from models.pipelines.flux2_klein import Flux2Klein
from models.pipelines.qwen_image import QwenImage
from models.pipelines.sd3 import StableDiffusion3
from models.pipelines.z_image import ZImage
from tests.helpers import image, job_events, kinds
from tests.lora_files import save_diffusers_lora
from worker.boot import load_engines, prepare
from worker.engine import Engine
from worker.settings import WorkerSettings

FAMILIES: dict[str, type[PipelineFamily]] = {
    "tiny-flux": Flux,
    "tiny-sd3": StableDiffusion3,
    "tiny-flux2-klein": Flux2Klein,
    "tiny-z-image": ZImage,
    "tiny-qwen-image": QwenImage,
}
LATENT_CHANNELS = {"tiny-flux2-klein": 32}
"""The VAE's latent channels, where not 16."""
PROMPT_ROOM = {"tiny-flux": 254, "tiny-sd3": 254, "tiny-flux2-klein": 509, "tiny-z-image": 509}
"""Tokens of the prompt each reads: T5's 256 less its end token; Qwen3's 512 less the chat
template's `<|im_start|>user\n`; Qwen-Image 1024 after its template."""


@pytest.fixture(scope="module", params=list(FAMILIES))
def model(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def settings(worker_settings: WorkerSettings, model: str) -> WorkerSettings:
    return worker_settings.model_copy(update={"models": [model], "batch_jobs": 2})


@pytest.fixture(scope="module")
def engine(settings: WorkerSettings, model: str) -> Engine:
    return load_engines(settings)[model]


@pytest.fixture
def run_worker(
    redis: Redis, broker_settings: BrokerSettings, settings: WorkerSettings, engine: Engine, model: str
) -> Callable[[], None]:
    def run() -> None:
        prepare(redis, broker_settings, settings, {model: engine}).work(burst=True)

    return run


def _profile(engine: Engine) -> ModelProfile:
    return engine.model.entry.profile()


def _generation(engine: Engine, prompt: str) -> Generation:
    return generation_for(parse_prompt(prompt), _profile(engine))


def _pixels(images: list[Image.Image]) -> np.ndarray:
    return np.stack([np.asarray(picture.convert("RGB"), np.int16) for picture in images])


def _finish(redis: Redis, submitter: JobSubmitter, run: Callable[[], None], spec: JobSpec) -> Done:
    submitter.submit(spec)
    run()
    events = job_events(redis, spec.job_id)
    assert kinds(events)[-1] == "done", [getattr(event, "reason", "") for event in events]
    return events[-1]


def test_each_tiny_model_is_loaded_as_its_family(engine: Engine, model: str):
    assert isinstance(engine.model.pipeline, FAMILIES[model])
    text2img = engine.model.text2img
    # One copy of the weights: the other pipelines hold the very same modules.
    assert text2img.transformer is engine.model.img2img.transformer is engine.model.inpaint.transformer
    assert text2img.vae is engine.model.img2img.vae is engine.model.inpaint.vae
    profile = _profile(engine)
    assert (profile.sampler, profile.samplers, profile.size_multiple) == ("flow_euler", ("flow_euler",), 8)


def test_every_operation_runs_through_redis_and_a_worker(redis, submitter, run_worker, engine):
    profile = _profile(engine)
    source = imagine_spec(parse_prompt("a lighthouse --ar 3:2 --seed 4 --steps 3"), profile)
    done = _finish(redis, submitter, run_worker, source)
    width, height = source.generation.width, source.generation.height
    assert (width, height) == (72, 48) and done.seeds == (4, 5, 6, 7)
    store = ArtifactStore(redis, 60)
    assert image(store.get(done.grid.key)).size == (2 * width, 2 * height)
    previews = [event for event in job_events(redis, source.job_id) if isinstance(event, Progress)]
    assert previews and all(image(event.preview).format == "JPEG" for event in previews)

    upscaled = _finish(redis, submitter, run_worker, upscale_spec(source, 2, profile))
    assert image(store.get(upscaled.images[0].key)).size == (2 * width, 2 * height)
    varied = _finish(redis, submitter, run_worker, vary_spec(source, 3, Strength.STRONG, profile))
    assert image(store.get(varied.grid.key)).size == (2 * width, 2 * height)
    rerolled = _finish(redis, submitter, run_worker, reroll_spec(source))
    assert store.get(rerolled.grid.key) != store.get(done.grid.key)


def test_weights_chaos_tile_and_a_negative_prompt_change_the_pictures_or_are_noted(
    engine: Engine, model: str
):
    plain = engine.imagine(_generation(engine, "a red lighthouse --seed 9 --steps 2"), lambda *_: None)
    variants = {
        "weights": "a red lighthouse::3 a storm --seed 9 --steps 2",
        "chaos": "a red lighthouse --chaos 80 --seed 9 --steps 2",
        "tile": "a red lighthouse --tile --seed 9 --steps 2",
    }
    for name, prompt in variants.items():
        changed = engine.imagine(_generation(engine, prompt), lambda *_: None)
        assert not np.array_equal(_pixels(changed.images), _pixels(plain.images)), name
    negative = engine.imagine(
        _generation(engine, "a red lighthouse --no fog --seed 9 --steps 2"), lambda *_: None
    )
    if FAMILIES[model].negative_prompts:  # SD3's classifier-free guidance: a negative pass
        assert not np.array_equal(_pixels(negative.images), _pixels(plain.images))
        assert negative.warnings == ()
    else:  # FLUX's distilled guidance has none
        assert np.array_equal(_pixels(negative.images), _pixels(plain.images))
        assert negative.warnings == (f"`--no` was left out: `{model}` takes no negative prompt",)


def test_jobs_sharing_a_call_match_each_alone_and_see_their_own_unpacked_latents(engine: Engine, model: str):
    jobs = [
        _generation(engine, "a red lighthouse --seed 5 --steps 3 --no fog"),
        _generation(engine, "a blue boat::2 a harbour --seed 11 --steps 3 --chaos 30"),
    ]
    shapes: list[list[tuple[int, ...]]] = [[], []]
    renders = engine.imagine_together(
        [
            (generation, lambda step, total, latents, n=n: shapes[n].append(tuple(latents.shape)))
            for n, generation in enumerate(jobs)
        ]
    )
    channels = LATENT_CHANNELS.get(model, 16)
    assert shapes == [[(4, channels, 16, 16)] * 3] * 2  # (images, channels, 64 px / 4 each side)
    for generation, render in zip(jobs, renders, strict=True):
        alone = engine.imagine(generation, lambda *_: None)
        assert np.abs(_pixels(render.images) - _pixels(alone.images)).max() <= 2


def test_token_limit_notes_count_what_the_long_encoder_reads(engine: Engine, model: str):
    longer_than_clip = engine.imagine(
        _generation(engine, "a red lighthouse " * 8 + "--steps 1"), lambda *_: None
    )
    # Past CLIP's 77 tokens, within the others' windows (Qwen-Image's schedule needs two steps).
    raised = "`--steps 1` ran as 2: `tiny-qwen-image` needs at least 2 steps"
    assert longer_than_clip.warnings == ((raised,) if model == "tiny-qwen-image" else ())
    room = PROMPT_ROOM.get(model, 1024)
    text = "a red lighthouse " * (room // 10)  # more tokens than `room` with every tokenizer
    past = engine.imagine(_generation(engine, text + "--steps 2"), lambda *_: None)
    [note] = past.warnings
    assert note.startswith("The prompt is ") and f" tokens long and the model reads {room}, " in note


def test_a1111_weights_are_applied_where_the_family_reads_them_and_noted_where_not(engine, model):
    profile = engine.model.entry.profile()

    def run(text: str):
        generation = generation_for(parse_prompt(f"{text} --steps 2 --seed 3"), profile)
        return engine.imagine(generation, lambda *_: None)

    weighted, unweighted = run("a (lighthouse:1.4) at [dusk]"), run("a lighthouse at dusk")
    same = weighted.images[0].tobytes() == unweighted.images[0].tobytes()
    if FAMILIES[model].emphasis:  # FLUX: on T5's tokens
        assert weighted.warnings == () and not same
    else:
        [note] = weighted.warnings
        assert "weights were read as plain words" in note and same


def test_a_lora_changes_the_familys_pixels_and_leaves_no_trace(engine: Engine, model, tmp_path):
    path = save_diffusers_lora(engine.model.text2img, tmp_path / "lora.safetensors", seed=3)
    lora = LoraEntry(name="lora", families=(engine.model.entry.family,), source=LoraFileSource(path=path))
    with_lora = Engine(engine.model, vae_tile_pixels=1 << 20, loras={"lora": lora})
    generation = generation_for(parse_prompt("a lighthouse --steps 2 --seed 3"), engine.model.entry.profile())

    def pixels(generation: Generation) -> np.ndarray:
        return np.asarray(with_lora.imagine(generation, lambda *_: None).images[0], dtype=np.int16)

    before = pixels(generation)
    changed = pixels(generation.model_copy(update={"loras": (LoraUse(name="lora", weight=1.0),)}))
    assert np.abs(changed - before).mean() > 0.5
    assert np.array_equal(pixels(generation), before)
