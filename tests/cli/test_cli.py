"""The `imagine` command line, run as a member would run it, against a private Redis."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from broker.local_redis import free_port, reachable
from broker.settings import BrokerSettings
from cli.embedded import redis_url_for
from playground.stack import start_worker
from tests.helpers import grid_readings, image, matching


def _imagine(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def env(redis, redis_server, model_cache) -> dict[str, str]:
    root = str(Path(__file__).resolve().parents[2])
    return {
        **os.environ,
        "IMAGINE_REDIS_URL": redis_server.url,
        "IMAGINE_MODEL_CACHE": str(model_cache),
        "IMAGINE_DEVICE": "cpu",
        "PYTHONPATH": root,
    }


def test_generate_draws_the_prompt_then_follow_ups(env, tmp_path, model_cache):
    """The README's example, on the default (shapes) model: the grid shows what was asked for.
    The commands find a worker serving the model and start none of their own (the flow families'
    test below runs the one `generate` starts)."""
    worker = start_worker(env["IMAGINE_REDIS_URL"], model_cache, tmp_path / "worker.log")
    try:
        prompt = "a red circle on a blue background --seed 3"
        made = _imagine("generate", prompt, "-o", "circle.png", env=env, cwd=tmp_path)
        assert made.returncode == 0, made.stderr
        grid = image((tmp_path / "circle.png").read_bytes())
        assert grid.format == "PNG"
        readings = grid_readings((tmp_path / "circle.png").read_bytes())
        assert matching(readings, colour="red", shape="circle", background="blue") >= 3, readings
        words = made.stdout.split()
        assert "seeds 3, 4, 5, 6" in made.stdout
        _follow_ups(words[words.index("job") + 1], grid.size, env, tmp_path)
    finally:
        worker.stop()


def _follow_ups(job: str, size: tuple[int, int], env: dict[str, str], tmp_path: Path) -> None:
    upscaled = _imagine("upscale", job, "2", "-o", "up.png", env=env, cwd=tmp_path)
    assert upscaled.returncode == 0, upscaled.stderr
    assert image((tmp_path / "up.png").read_bytes()).size == size

    varied = _imagine("vary", job, "3", "--strong", "-o", "vary.png", env=env, cwd=tmp_path)
    assert varied.returncode == 0, varied.stderr
    assert image((tmp_path / "vary.png").read_bytes()).size == size

    zoomed = _imagine("zoom", job, "1", "--factor", "1.5", "-o", "zoom.png", env=env, cwd=tmp_path)
    assert zoomed.returncode == 0, zoomed.stderr
    assert image((tmp_path / "zoom.png").read_bytes()).size == size  # a grid of the same images

    panned = _imagine("pan", job, "1", "right", "-o", "pan.png", env=env, cwd=tmp_path)
    assert panned.returncode == 0, panned.stderr
    assert image((tmp_path / "pan.png").read_bytes()).size == (size[0] * 3 // 2, size[1])

    new = "a green square on a blue background --seed 9"
    region = _imagine("region", job, "1", "--cells", "4,5,6", new, "-o", "region.png", env=env, cwd=tmp_path)
    assert region.returncode == 0, region.stderr
    assert "seeds 9, 10, 11, 12" in region.stdout  # the new prompt's seed starts the follow-up's
    assert "not used" not in region.stderr
    assert matching(grid_readings((tmp_path / "region.png").read_bytes()), colour="green") >= 2

    square = _imagine("square", job, "1", env=env, cwd=tmp_path)
    assert (square.returncode, square.stderr.strip()) == (2, "imagine: This image is already square.")

    rerolled = _imagine("reroll", job, "-o", "again.png", env=env, cwd=tmp_path)
    assert rerolled.returncode == 0, rerolled.stderr
    assert (tmp_path / "again.png").read_bytes() != (tmp_path / "circle.png").read_bytes()


FLOW_MODELS = ("tiny-flux", "tiny-sd3", "tiny-flux2-klein", "tiny-z-image", "tiny-qwen-image")


def test_generate_draws_a_grid_with_each_flow_familys_tiny_model(env, tmp_path):
    """One prompt, one job per model (`{…}`), and one local worker started to serve them all."""
    models = ", ".join(FLOW_MODELS)
    prompt = f"a lighthouse --model {{{models}}} --ar 3:2"
    made = _imagine("generate", prompt, "-o", "flow.png", env=env, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    for number, model in enumerate(FLOW_MODELS, start=1):
        assert image((tmp_path / f"flow-{number}.png").read_bytes()).size == (2 * 72, 2 * 48), model


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("generate", "a fox --ar 30:1"), "too wide"),
        (("generate", "a fox --model nope"), "Available"),
        (("upscale", "0" * 32, "1"), "unknown or has expired"),
        (("generate", "a fox --model tiny-flux --sampler euler"), "isn't one `tiny-flux` can run"),
        (("generate", "a {fox, owl --ar 3:2"), "never closed"),
        (("generate", "a {fox, owl} --ar {1:1, 30:1}"), "In `a fox --ar 30:1`, one of its combinations"),
        (("generate", "a fox --s 5000"), "from 0 to 1000"),
        (("generate", "a fox", "--image", "missing.png"), "missing.png cannot be read"),
        (("generate", "a fox", "--image", "notes.txt"), "isn't a PNG, JPEG, WebP or GIF"),
        (("generate", "https://cdn.discordapp.com/a.png a fox"), "as files, with --image FILE"),
        (("generate", "a fox --sref https://cdn.discordapp.com/a.png::2"), "as files, with --image FILE"),
        (("describe", "notes.txt"), "isn't a PNG, JPEG, WebP or GIF"),
        (("describe", "ok.png", "--model", "tiny"), "has no captioner"),
    ],
    ids=[
        "bad-prompt",
        "unknown-model",
        "unknown-job",
        "sampler-of-another-family",
        "unclosed-brace",
        "bad-combination",
        "stylize-out-of-range",
        "missing-image",
        "not-an-image",
        "image-link",
        "style-link",
        "describe-not-an-image",
        "describe-without-a-captioner",
    ],
)
def test_bad_input_is_explained_and_nothing_is_queued(env, tmp_path, redis, args, message):
    (tmp_path / "notes.txt").write_text("not a picture")
    Image.new("RGB", (8, 8)).save(tmp_path / "ok.png")
    result = _imagine(*args, env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not redis.keys("rq:job:*")


def test_generate_starts_from_an_image_file_and_describe_writes_four_prompts(env, tmp_path, model_cache):
    from training.shapes.scenes import Scene, render

    render(Scene("square", "green", 1, "large", "yellow"), seed=1).save(tmp_path / "yellow.png")
    worker = start_worker(env["IMAGINE_REDIS_URL"], model_cache, tmp_path / "worker.log")
    try:
        prompt = "a red circle on a blue background --seed 4 --iw 3"
        made = _imagine("generate", prompt, "--image", "yellow.png", "-o", "kept.png", env=env, cwd=tmp_path)
        assert made.returncode == 0, made.stderr
        backgrounds = [seen.background for seen in grid_readings((tmp_path / "kept.png").read_bytes())]
        assert backgrounds.count("yellow") >= 3, backgrounds
        described = _imagine("describe", "yellow.png", env=env, cwd=tmp_path)
        assert described.returncode == 0, described.stderr
        lines = described.stdout.splitlines()
        assert [line[:3] for line in lines] == ["1. ", "2. ", "3. ", "4. "], lines
        assert "green" in lines[0] and "square" in lines[0] and "yellow" in lines[0], lines[0]
    finally:
        worker.stop()


def test_embedded_redis_starts_when_none_is_configured(tmp_path, monkeypatch):
    monkeypatch.delenv("IMAGINE_REDIS_URL", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    unreachable = f"redis://127.0.0.1:{free_port()}/0"
    with redis_url_for(BrokerSettings(redis_url=unreachable)) as url:
        assert url != unreachable
        assert reachable(url)
    assert not reachable(url)
    assert (tmp_path / "imagine" / "redis" / "appendonlydir").is_dir()
