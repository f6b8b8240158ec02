"""Every operation on the shapes model, through the queue and a real worker, keeps what the prompt
asked for in the pictures: imagine, upscale, vary (subtle and strong), reroll, zoom, pan and region."""

import numpy as np
import pytest
from PIL import Image
from redis import Redis

from broker.artifacts import ArtifactStore
from broker.images import cut_image
from broker.queues import JobSubmitter
from broker.settings import BrokerSettings
from jobs.canvas import placement
from jobs.events import Done
from jobs.prompt import parse_prompt
from jobs.resolve import (
    imagine_spec,
    pan_spec,
    region_spec,
    remixed,
    reroll_spec,
    upscale_spec,
    vary_spec,
    zoom_spec,
)
from jobs.specs import Direction, JobSpec, Strength
from models.catalog import load_catalog
from tests.helpers import grid_readings, image, job_events, matching
from training.shapes.measure import read
from training.shapes.scenes import COLOURS
from worker.boot import load_engines, prepare
from worker.engine import Engine
from worker.masks import feather_radius, outpaint_canvas, region_canvas
from worker.settings import WorkerSettings

ASKED = {"colour": "red", "shape": "circle", "background": "blue"}


@pytest.fixture(scope="module")
def settings(worker_settings: WorkerSettings) -> WorkerSettings:
    return worker_settings.model_copy(update={"models": ["shapes"]})


@pytest.fixture(scope="module")
def engines(settings: WorkerSettings) -> dict[str, Engine]:
    return load_engines(settings)


@pytest.fixture
def finish(redis: Redis, submitter: JobSubmitter, broker_settings: BrokerSettings, settings, engines):
    def run(spec: JobSpec) -> Done:
        submitter.submit(spec)
        prepare(redis, broker_settings, settings, engines).work(burst=True)
        done = job_events(redis, spec.job_id)[-1]
        assert isinstance(done, Done), done
        return done

    return run


def test_each_operation_keeps_the_prompt_in_the_picture(redis: Redis, finish, engines) -> None:
    assert engines["shapes"].upscaler.entry.name == "shapes-2x"  # the catalog's, for its upscales
    profile = load_catalog().get("shapes").profile()
    artifacts = ArtifactStore(redis, 60)
    source = imagine_spec(parse_prompt("a red circle on a blue background --seed 3"), profile)
    done = finish(source)
    readings = grid_readings(artifacts.get(done.grid.key))
    assert matching(readings, **ASKED) >= 3
    chosen = next(index for index, seen in enumerate(readings, 1) if matching([seen], **ASKED))

    # U2 of this prompt is the image the issue saw smeared into a blob with holes. Through the
    # super-resolution model and a light refine, the circle stays whole and as red as the grid's (at
    # the old refine of 0.3, 69 % of its red was left).
    [upscaled] = finish(upscale_spec(source, 2, profile)).images
    assert (upscaled.width, upscaled.height) == (128, 128)
    big = image(artifacts.get(upscaled.key))
    assert matching([read(big)], **ASKED) == 1
    small = cut_image(artifacts.get(done.grid.key), 2, 4)
    assert _share(big, "red") == pytest.approx(_share(small, "red"), rel=0.15)

    for strength in Strength:
        varied = finish(vary_spec(source, chosen, strength, profile)).grid
        assert matching(grid_readings(artifacts.get(varied.key)), **ASKED) >= 3, strength

    rerolled = finish(reroll_spec(source))
    assert rerolled.seeds != tuple(source.generation.seeds)
    assert matching(grid_readings(artifacts.get(rerolled.grid.key)), **ASKED) >= 2  # new, random seeds


def _share(picture: Image.Image, colour: str) -> float:
    """The share of the picture's pixels near one of the scenes' colours."""
    pixels = np.asarray(picture.convert("RGB"), dtype=float)
    return float((np.linalg.norm(pixels - COLOURS[colour], axis=2) < 60).mean())


def _seeded(spec: JobSpec, seed: int = 100) -> JobSpec:
    """`spec` with a fixed first seed instead of its random one: the same pixels on every run."""
    return spec.model_copy(update={"generation": spec.generation.model_copy(update={"seed": seed})})


def _outside(canvas_alpha: np.ndarray, picture: Image.Image) -> np.ndarray:
    return np.asarray(picture.convert("RGB"))[canvas_alpha == 0]


def test_zoom_pan_and_region_keep_the_picture_and_paint_what_is_asked(redis: Redis, finish) -> None:
    catalog = load_catalog()
    profile = catalog.get("shapes").profile()
    artifacts = ArtifactStore(redis, 60)
    source = imagine_spec(parse_prompt("a red circle on a blue background --seed 3"), profile)
    done = finish(source)
    index = next(
        i
        for i, seen in enumerate(grid_readings(artifacts.get(done.grid.key)), 1)
        if matching([seen], **ASKED)
    )
    picture = image(artifacts.get(done.images[index - 1].key)).convert("RGB")
    red = _share(picture, "red")

    # Zoom Out 2×: the circle at half its size in the middle (the source's own pixels inside the
    # feather), blue around it.
    zoom = zoom_spec(source, index, 2.0)
    canvas = outpaint_canvas(picture, zoom)
    alpha = np.asarray(canvas.alpha)
    inset = 2 * feather_radius(picture.size)
    left, top, right, bottom = placement(zoom, picture.size).corners
    core = (left + inset, top + inset, right - inset, bottom - inset)
    for ref in finish(_seeded(zoom)).images:
        out = image(artifacts.get(ref.key)).convert("RGB")
        assert (_outside(alpha, out) == np.asarray(canvas.image)[alpha == 0]).all()
        middle = out.crop(core)
        seen = read(middle.resize(picture.size, Image.Resampling.LANCZOS))  # at the scale it was drawn
        assert (seen.colour, seen.shape, seen.count) == ("red", "circle", 1)
        assert _share(middle, "red") * middle.width * middle.height == pytest.approx(
            red * 64 * 64 / 4, rel=0.2
        )
        border = np.asarray(out)[alpha == 255].astype(float)
        assert (np.linalg.norm(border - COLOURS["blue"], axis=1) < 60).mean() > 0.8

    # Pan ➡: the picture kept on the left, the new strip on the right blue.
    pan = pan_spec(source, index, Direction.RIGHT, profile)
    alpha = np.asarray(outpaint_canvas(picture, pan).alpha)
    strips = []
    for ref in finish(_seeded(pan)).images:
        out = image(artifacts.get(ref.key))
        assert out.size == (96, 64)
        assert (_outside(alpha, out) == np.asarray(picture)[alpha[:, :64] == 0]).all()
        strips.append(_share(out.crop((64, 0, 96, 64)), "blue"))
    # The model sometimes draws a second circle into a new strip (about one strip in ten).
    assert min(strips) > 0.6 and np.mean(strips) > 0.85, strips

    # Vary (Region) of the cells holding the circle, as "a green square": green there, the rest
    # of the picture untouched past the feather.
    rows, columns = np.nonzero(np.linalg.norm(np.asarray(picture, dtype=float) - COLOURS["red"], axis=2) < 60)
    cells = frozenset(
        3 * (row * 3 // 64) + column * 3 // 64 + 1 for row, column in zip(rows, columns, strict=True)
    )
    remix = remixed(source.generation, parse_prompt("a green square on a blue background"), catalog)
    region = region_spec(source, index, cells, remix=remix)
    canvas = region_canvas(picture, region)
    alpha = np.asarray(canvas.alpha)
    repainted = [image(artifacts.get(ref.key)) for ref in finish(_seeded(region)).images]
    for out in repainted:
        assert (_outside(alpha, out) == np.asarray(canvas.image)[alpha == 0]).all()
    readings = [read(out) for out in repainted]
    assert sum(seen.colour == "green" for seen in readings) >= 3, readings
    assert max(_share(out, "red") for out in repainted) < red / 4
