"""NSFW checks on the worker, with tiny checkers saved next to the tiny model and loaded back for real."""

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from redis import Redis

from broker.artifacts import ArtifactStore
from broker.queues import JobSubmitter
from jobs import keys
from jobs.events import Done, Progress
from jobs.profile import ModelProfile
from jobs.prompt import parse_prompt
from jobs.resolve import imagine_spec, reroll_spec, upscale_spec, vary_spec
from jobs.specs import JobSpec, Safety, Strength
from models.catalog import load_catalog
from models.loader import LoadedModel, load_model
from models.safety import OwnSafetyChecker
from models.tiny.checkers import save_tiny_catalog
from tests.helpers import image, job_events, kinds
from worker import safety as worker_safety
from worker.boot import load_engines, prepare
from worker.engine import Engine
from worker.safety import STAND_IN_COLOUR, SafetyChecks
from worker.settings import WorkerSettings

Serve = Callable[[Engine], None]


@pytest.fixture(scope="module")
def profile() -> ModelProfile:
    return load_catalog().get("tiny").profile()


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory, model_cache: Path) -> dict[str, LoadedModel]:
    """The tiny model with its own checker: one that flags every image, and one that flags none."""
    root = tmp_path_factory.mktemp("checked-models")
    return {
        verdict: load_model(
            load_catalog(save_tiny_catalog(root / verdict, safety=verdict)).get("tiny"),
            cache_dir=model_cache,
            device=torch.device("cpu"),
        )
        for verdict in ("flag-all", "pass-all")
    }


@pytest.fixture
def serve(redis, broker_settings, worker_settings) -> Serve:
    """Runs a worker serving `engine` as the model `tiny` until the queue is empty."""

    def run(engine: Engine) -> None:
        prepare(redis, broker_settings, worker_settings, {"tiny": engine}).work(burst=True)

    return run


def engine_for(model: LoadedModel, safety: SafetyChecks | None = None) -> Engine:
    """An engine with checkers of its own, so no test sees what another loaded."""
    return Engine(model, vae_tile_pixels=1 << 20, safety=safety or SafetyChecks())


def imagine(profile: ModelProfile, safety: Safety, prompt: str = "a red circle --steps 2") -> JobSpec:
    return imagine_spec(parse_prompt(prompt), profile).model_copy(update={"safety": safety})


def finish(redis: Redis, submitter: JobSubmitter, serve: Serve, engine: Engine, spec: JobSpec) -> Done:
    submitter.submit(spec)
    serve(engine)
    events = job_events(redis, spec.job_id)
    assert kinds(events)[-1] == "done", [getattr(event, "reason", "") for event in events]
    return events[-1]


def stored(redis: Redis, key: str) -> np.ndarray:
    return np.asarray(image(ArtifactStore(redis, 60).get(key)).convert("RGB"))


def is_stand_in(pixels: np.ndarray) -> bool:
    return bool((pixels == np.array(STAND_IN_COLOUR, dtype=np.uint8)).all())


def tiles(grid: np.ndarray) -> list[np.ndarray]:
    height, width = grid.shape[0] // 2, grid.shape[1] // 2
    return [grid[(i // 2) * height :][:height, (i % 2) * width :][:, :width] for i in range(4)]


def test_block_replaces_flagged_images_everywhere_they_are_stored(redis, submitter, serve, models, profile):
    spec = imagine(profile, Safety.BLOCK)
    done = finish(redis, submitter, serve, engine_for(models["flag-all"]), spec)
    assert (done.flagged, done.safety_checked) == ((1, 2, 3, 4), True)
    size = (spec.generation.height, spec.generation.width, 3)
    assert all(
        stored(redis, ref.key).shape == size and is_stand_in(stored(redis, ref.key)) for ref in done.images
    )
    assert is_stand_in(stored(redis, done.grid.key))
    # What a follow-up (U1-U4, V1-V4) would start from is the stand-in too.
    store = ArtifactStore(redis, 60)
    assert all(
        is_stand_in(np.asarray(image(store.image(spec.job_id, i)).convert("RGB"))) for i in range(1, 5)
    )
    # Nor do the previews show what was made: a blocking job's progress comes without them.
    progress = [event for event in job_events(redis, spec.job_id) if isinstance(event, Progress)]
    assert progress and all(event.preview is None for event in progress)


def test_spoiler_keeps_flagged_images(redis, submitter, serve, models, profile):
    spec = imagine(profile, Safety.SPOILER)
    done = finish(redis, submitter, serve, engine_for(models["flag-all"]), spec)
    assert (done.flagged, done.safety_checked) == ((1, 2, 3, 4), True)
    images = [stored(redis, ref.key) for ref in done.images]
    assert not any(is_stand_in(pixels) for pixels in images)
    assert all(
        np.array_equal(tile, pixels)
        for tile, pixels in zip(tiles(stored(redis, done.grid.key)), images, strict=True)
    )
    progress = [event for event in job_events(redis, spec.job_id) if isinstance(event, Progress)]
    assert progress and all(image(event.preview).format == "JPEG" for event in progress)


def concept_similarity(checker: OwnSafetyChecker, images: list[Image.Image]) -> torch.Tensor:
    """Each image's cosine similarity to the checker's first concept, as the checker computes it."""
    clip_input = checker.processor(images=images, return_tensors="pt").pixel_values
    with torch.no_grad():
        embeds = checker.checker.visual_projection(checker.checker.vision_model(clip_input)[1])
    concept = checker.checker.concept_embeds[:1]
    return (torch.nn.functional.normalize(embeds) @ torch.nn.functional.normalize(concept).T)[:, 0]


def test_block_replaces_only_the_flagged_images_and_tiles(redis, submitter, serve, models, profile):
    engine = engine_for(models["pass-all"])
    prompt = "a red circle --seed 5 --steps 2"
    kept = finish(redis, submitter, serve, engine, imagine(profile, Safety.OFF, prompt))
    originals = [stored(redis, ref.key) for ref in kept.images]
    # The real checker, told to flag the two images most like its first concept: that concept's
    # threshold goes halfway between the second and third most similar image.
    checker = engine.safety_checker()
    assert isinstance(checker, OwnSafetyChecker)
    similarity = concept_similarity(checker, [Image.fromarray(pixels) for pixels in originals])
    ranked = similarity.sort(descending=True).values
    assert ranked[1] - ranked[2] > 0.01  # well clear of the checker's rounding to 3 decimals
    threshold = (ranked[1] + ranked[2]) / 2
    with torch.no_grad():
        checker.checker.concept_embeds_weights[0] = threshold
    expected = tuple(index for index, value in enumerate(similarity.tolist(), start=1) if value > threshold)

    done = finish(redis, submitter, serve, engine, imagine(profile, Safety.BLOCK, prompt))
    assert len(expected) == 2 and (done.flagged, done.safety_checked) == (expected, True)
    images = [stored(redis, ref.key) for ref in done.images]
    grid = tiles(stored(redis, done.grid.key))
    for index, (pixels, tile, original) in enumerate(zip(images, grid, originals, strict=True), start=1):
        if index in expected:
            assert is_stand_in(pixels) and is_stand_in(tile)
        else:
            assert np.array_equal(pixels, original) and np.array_equal(tile, original)


def test_a_checker_that_flags_nothing_keeps_every_image(redis, submitter, serve, models, profile):
    done = finish(redis, submitter, serve, engine_for(models["pass-all"]), imagine(profile, Safety.BLOCK))
    assert (done.flagged, done.safety_checked) == ((), True)
    assert not any(is_stand_in(stored(redis, ref.key)) for ref in done.images)


def test_off_never_loads_a_checker_and_one_load_serves_every_job(
    redis, submitter, serve, models, profile, monkeypatch
):
    loads: list[object] = []
    real = worker_safety.load_own_checker

    def counting(*args, **kwargs):
        loads.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(worker_safety, "load_own_checker", counting)
    engine = engine_for(models["flag-all"])
    done = finish(redis, submitter, serve, engine, imagine(profile, Safety.OFF))
    assert (done.flagged, done.safety_checked) == ((), False)
    assert not any(is_stand_in(stored(redis, ref.key)) for ref in done.images)
    assert (loads, engine.safety.loaded) == ([], ())
    for safety in (Safety.SPOILER, Safety.BLOCK):
        assert finish(redis, submitter, serve, engine, imagine(profile, safety)).flagged == (1, 2, 3, 4)
    assert (len(loads), engine.safety.loaded) == (1, ("own:tiny",))


@pytest.mark.parametrize("operation", ["reroll", "vary", "upscale"])
def test_follow_ups_are_checked_too(redis, submitter, serve, models, profile, operation):
    engine = engine_for(models["flag-all"])
    source = imagine(profile, Safety.OFF)
    finish(redis, submitter, serve, engine, source)
    follow_up = {
        "reroll": lambda: reroll_spec(source),
        "vary": lambda: vary_spec(source, 2, Strength.STRONG, profile),
        "upscale": lambda: upscale_spec(source, 3, profile),
    }[operation]().model_copy(update={"safety": Safety.BLOCK})
    done = finish(redis, submitter, serve, engine, follow_up)
    assert done.flagged == ((1,) if operation == "upscale" else (1, 2, 3, 4))
    assert all(is_stand_in(stored(redis, ref.key)) for ref in done.images)


def worker_settings_for(catalog: Path, model_cache: Path) -> WorkerSettings:
    return WorkerSettings(catalog=catalog, models=["tiny"], model_cache=model_cache, device="cpu", previews=2)


def test_the_catalogs_classifier_checks_models_without_their_own(
    redis, submitter, serve, model_cache, tmp_path, profile
):
    engines = load_engines(
        worker_settings_for(save_tiny_catalog(tmp_path, classifier="flag-all"), model_cache)
    )
    engine = engines["tiny"]
    assert engine.model.safety_checker is None
    done = finish(redis, submitter, serve, engine, imagine(profile, Safety.BLOCK))
    assert (done.flagged, done.safety_checked) == ((1, 2, 3, 4), True)
    assert engine.safety.loaded == ("classifier",)


def test_a_model_can_be_checked_by_the_classifier_instead_of_its_own(
    redis, submitter, serve, model_cache, tmp_path, profile
):
    catalog = save_tiny_catalog(tmp_path, safety="pass-all", classifier="flag-all")
    catalog.write_text(
        catalog.read_text().replace('family = "sd15"\n', 'family = "sd15"\nsafety_checker = "classifier"\n')
    )
    engine = load_engines(worker_settings_for(catalog, model_cache))["tiny"]
    assert engine.model.safety_checker is not None  # it has one, and is told not to use it
    assert finish(redis, submitter, serve, engine, imagine(profile, Safety.SPOILER)).flagged == (1, 2, 3, 4)
    assert engine.safety.loaded == ("classifier",)


def test_without_any_checker_images_pass_unchecked_with_one_warning(
    redis, submitter, serve, engines, profile, caplog
):
    engine = engine_for(engines["tiny"].model)  # the builtin tiny model, in a catalog without a classifier
    caplog.set_level("WARNING", logger="worker.safety")
    for _ in range(2):
        done = finish(redis, submitter, serve, engine, imagine(profile, Safety.BLOCK))
        assert (done.flagged, done.safety_checked) == ((), False)
        assert not any(is_stand_in(stored(redis, ref.key)) for ref in done.images)
        # Nothing can be blocked, so nothing needs hiding: the progress keeps its previews.
        progress = [event for event in job_events(redis, done.job_id) if isinstance(event, Progress)]
        assert progress and all(event.preview is not None for event in progress)
    warnings = [record.getMessage() for record in caplog.records if record.name == "worker.safety"]
    assert len(warnings) == 1 and "model tiny has no safety checker" in warnings[0]


def break_own_checker(folder: Path) -> None:
    (folder / "tiny" / "safety_checker" / "model.safetensors").write_bytes(b"not safetensors")


def misname_classifier_label(folder: Path) -> None:
    catalog = folder / "catalog.toml"
    catalog.write_text(catalog.read_text().replace('labels = ["nsfw"]', 'labels = ["porn"]'))


@pytest.mark.parametrize(
    ("safety", "classifier", "damage", "what"),
    [
        ("flag-all", None, break_own_checker, Safety.BLOCK),
        (None, "flag-all", misname_classifier_label, Safety.SPOILER),
    ],
    ids=["unreadable-checker", "classifier-without-the-label"],
)
def test_a_checker_that_cannot_load_fails_the_job_safely(
    redis, submitter, serve, model_cache, tmp_path, profile, caplog, safety, classifier, damage, what
):
    catalog = save_tiny_catalog(tmp_path, safety=safety, classifier=classifier)
    damage(tmp_path)
    engine = load_engines(worker_settings_for(catalog, model_cache))["tiny"]
    spec = imagine(profile, what)
    submitter.submit(spec)
    serve(engine)
    events = job_events(redis, spec.job_id)
    assert kinds(events) == ["queued", "started", "failed"]  # failed before making any image
    assert "could not load its checker" in events[-1].reason
    assert "Traceback" not in events[-1].reason and str(tmp_path) not in events[-1].reason
    assert "could not load the NSFW checker" in caplog.text  # the details are in the worker's log
    assert not redis.keys(keys.artifact_key(spec.job_id, "*"))
    # The worker goes on: a job that asks for no check is served.
    assert finish(redis, submitter, serve, engine, imagine(profile, Safety.OFF)).safety_checked is False
