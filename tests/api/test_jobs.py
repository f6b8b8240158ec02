"""`POST /v1/jobs` for everything the bot can do beyond imagine and its upscale, vary and reroll:
zoom, pan, square and region from a grid (with a new prompt, as Remix), blend and describe from
images the request carries; and what cannot be made, a 400 naming the field."""

import base64
import io
import time

import httpx
import pytest

from playground.stack import Process
from tests.api.conftest import MakeKey
from training.shapes.scenes import Scene, render

pytestmark = pytest.mark.slow
WAIT = 180.0


def _b64(scene: Scene) -> str:
    buffer = io.BytesIO()
    render(scene, 64).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


RED_ON_YELLOW = _b64(Scene("circle", "red", 1, "large", "yellow"))
GREEN_ON_WHITE = _b64(Scene("square", "green", 1, "large", "white"))


def _queued(api_url: str, headers: dict[str, str], body: dict) -> dict:
    answer = httpx.post(f"{api_url}/v1/jobs", json=body, headers=headers, timeout=60)
    assert answer.status_code == 202, answer.text
    [job] = answer.json()
    return job


def _done(api_url: str, headers: dict[str, str], job_id: str) -> dict:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        job = httpx.get(f"{api_url}/v1/jobs/{job_id}", headers=headers, timeout=30).json()
        if job["status"] not in ("queued", "started"):
            assert job["status"] == "done", job
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not end in {WAIT:.0f} s")


@pytest.fixture(scope="module")
def headers(make_key: MakeKey) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_key('native')}"}


@pytest.fixture(scope="module")
def grid(api_url: str, api_worker: Process, headers: dict[str, str]) -> str:
    job = _queued(api_url, headers, {"op": "imagine", "prompt": "a fox --model tiny --seed 3 --ar 3:2"})
    return _done(api_url, headers, job["id"])["id"]


@pytest.mark.parametrize(
    "follow_up",
    [
        {"op": "zoom", "index": 2, "factor": 1.5},
        {"op": "pan", "index": 1, "direction": "left"},
        {"op": "square", "index": 3},
        {"op": "region", "index": 4, "cells": [1, 2], "prompt": "a hen"},
    ],
    ids=lambda body: body["op"],
)
def test_an_editing_follow_up_makes_a_grid_of_the_image(
    api_url: str, headers: dict[str, str], grid: str, follow_up: dict
):
    job = _queued(api_url, headers, {**follow_up, "job": grid})
    done = _done(api_url, headers, job["id"])
    assert done["op"] == follow_up["op"] and len(done["images"]) == 4 and len(done["seeds"]) == 4


def test_a_blend_and_a_describe_start_from_the_request_s_images(
    api_url: str, api_worker: Process, headers: dict[str, str]
):
    blend = _queued(
        api_url, headers, {"op": "blend", "images": [RED_ON_YELLOW, GREEN_ON_WHITE], "model": "shapes"}
    )
    describe = _queued(api_url, headers, {"op": "describe", "image": RED_ON_YELLOW, "model": "shapes"})
    assert len(_done(api_url, headers, blend["id"])["images"]) == 4
    prompts = _done(api_url, headers, describe["id"])["prompts"]
    assert len(prompts) == 4 and all("circle" in prompt or "red" in prompt for prompt in prompts), prompts


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"op": "pan", "index": 1}, "direction"),
        ({"op": "region", "index": 1, "cells": []}, "cells"),
        ({"op": "zoom", "index": 1, "factor": 3}, "factor"),
        ({"op": "upscale", "index": 1, "prompt": "a hen"}, "prompt"),
        ({"op": "square", "index": 1, "prompt": "a hen --seed banana"}, "prompt"),
        ({"op": "blend", "images": [RED_ON_YELLOW]}, "images"),
        ({"op": "blend", "images": [RED_ON_YELLOW] * 2, "model": "tiny"}, "model"),
        ({"op": "describe", "image": "bm90IGJhc2U2NA=="}, "image"),
        ({"op": "describe", "image": base64.b64encode(b"GIF89a").decode()}, "image"),
    ],
    ids=[
        "pan-no-direction",
        "region-no-cells",
        "zoom-too-far",
        "upscale-prompt",
        "remix-bad-flag",
        "blend-one",
        "blend-no-adapter",
        "not-an-image",
        "damaged",
    ],
)
def test_a_job_that_cannot_be_made_is_400_naming_the_field(
    api_url: str, headers: dict[str, str], grid: str, body: dict, param: str
):
    with_grid = {"job": grid, **body} if body["op"] not in ("blend", "describe") else body
    answer = httpx.post(f"{api_url}/v1/jobs", json=with_grid, headers=headers, timeout=30)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["param"] == param, answer.text
