"""`imagine-api` end to end: the official `openai` client, a real HTTP client reading the
Server-Sent Events, keys made with `imagine keys`, a real Redis and a worker with the shapes model."""

import base64
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import openai
import pytest

from broker.local_redis import LocalRedis
from playground.stack import Process
from tests.api.conftest import ClientFor, MakeKey, keys_command
from tests.helpers import image
from training.shapes.measure import read

pytestmark = pytest.mark.slow
OPENAPI = Path(__file__).parents[2] / "api" / "openapi.json"
TIMEOUT = 180


def test_the_openai_client_generates_the_picture_the_prompt_asks_for(
    client_for: ClientFor, api_worker: Process, make_key: MakeKey
):
    result = client_for(make_key()).images.generate(
        model="shapes", prompt="a red circle on a blue background --seed 3", n=2, response_format="b64_json"
    )
    assert len(result.data) == 2 and result.output_format == "png" and result.size == "64x64"
    seen = [read(image(base64.b64decode(item.b64_json))) for item in result.data]
    assert all(s.colour == "red" and s.background == "blue" for s in seen), seen


def test_a_url_answer_links_to_the_image_in_the_format_asked_for(
    client_for: ClientFor, api_worker: Process, make_key: MakeKey
):
    result = client_for(make_key()).images.generate(
        model="shapes",
        prompt="a green square --seed 1",
        size="1536x1024",
        quality="low",
        response_format="url",
        output_format="webp",
    )
    width, height = (int(side) for side in result.size.split("x"))
    assert 1.4 < width / height < 1.8, result.size  # 3:2, near the model's own pixel count
    [item] = result.data
    fetched = httpx.get(item.url, timeout=30)  # the link itself is the capability: no key
    assert fetched.status_code == 200 and fetched.headers["content-type"] == "image/webp"
    assert image(fetched.content).format == "WEBP"


def test_a_job_s_events_stream_to_done_and_resume_after_a_disconnect(
    api_url: str, api_worker: Process, make_key: MakeKey
):
    headers = {"Authorization": f"Bearer {make_key()}"}
    [job] = httpx.post(
        f"{api_url}/v1/jobs",
        json={"op": "imagine", "prompt": "a yellow triangle --model shapes"},
        headers=headers,
    ).json()
    assert job["status"] in ("queued", "started")  # a free worker may take it before the answer
    url = f"{api_url}/v1/jobs/{job['id']}/events"
    first: dict = {}
    with httpx.stream("GET", url, headers=headers, timeout=TIMEOUT) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():  # read the first event, then drop the connection
            if not line and first:
                break
            key, _, value = line.partition(": ")
            first[key] = value
    assert first["event"] == "queued"
    kinds = []
    with httpx.stream(
        "GET", url, headers={**headers, "Last-Event-ID": first["id"]}, timeout=TIMEOUT
    ) as response:
        for line in response.iter_lines():
            if line.startswith("event: "):
                kinds.append(line.removeprefix("event: "))
    assert "queued" not in kinds and kinds[-1] == "done", kinds  # it went on after the one seen
    assert "started" in kinds and "progress" in kinds

    view = httpx.get(f"{api_url}/v1/jobs/{job['id']}", headers=headers).json()
    assert view["status"] == "done" and len(view["images"]) == 4 and len(view["seeds"]) == 4
    assert httpx.get(view["grid"]).status_code == 200


def test_a_queued_job_can_be_cancelled_and_says_so(api_url: str, make_key: MakeKey):
    headers = {"Authorization": f"Bearer {make_key()}"}
    [job] = httpx.post(
        f"{api_url}/v1/jobs", json={"op": "imagine", "prompt": "a fox --model tiny-flux"}, headers=headers
    ).json()  # no worker serves tiny-flux here: it waits
    cancelled = httpx.delete(f"{api_url}/v1/jobs/{job['id']}", headers=headers)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    again = httpx.delete(f"{api_url}/v1/jobs/{job['id']}", headers=headers)
    assert again.status_code == 409 and again.json()["error"]["param"] == "id"
    other = {"Authorization": f"Bearer {make_key('someone else')}"}
    assert httpx.get(f"{api_url}/v1/jobs/{job['id']}", headers=other).status_code == 404
    assert _error(httpx.get(f"{api_url}/v1/jobs/{job['id']}/events", headers=other), 404)["param"] == "id"


def test_an_idempotency_key_returns_the_first_job(api_url: str, api_worker: Process, make_key: MakeKey):
    headers = {"Authorization": f"Bearer {make_key()}", "Idempotency-Key": "order-17"}
    body = {"op": "imagine", "prompt": "a fox --model tiny-flux"}
    first = httpx.post(f"{api_url}/v1/jobs", json=body, headers=headers).json()
    second = httpx.post(f"{api_url}/v1/jobs", json=body, headers=headers).json()
    assert [job["id"] for job in first] == [job["id"] for job in second]
    other = httpx.post(f"{api_url}/v1/jobs", json={**body, "prompt": "a hen"}, headers=headers)
    assert _error(other, 409)["code"] == "idempotency_key_reused"
    # Scoped to its endpoint: the same key on another endpoint is another request.
    elsewhere = httpx.post(
        f"{api_url}/v1/images/generations",
        json={"prompt": "a fox", "model": "tiny"},
        headers=headers,
        timeout=TIMEOUT,
    )
    assert elsewhere.status_code == 200, elsewhere.text


def test_a_missing_or_revoked_key_is_401(
    api_url: str, client_for: ClientFor, make_key: MakeKey, stack_redis: LocalRedis, catalog: Path
):
    assert _error(httpx.post(f"{api_url}/v1/images/generations", json={"prompt": "a fox"}), 401)
    key = make_key("to revoke")
    key_id = key.split("_")[1]
    assert key_id in keys_command("list", redis_url=stack_redis.url, catalog=catalog).stdout
    revoked = keys_command("revoke", key_id, redis_url=stack_redis.url, catalog=catalog)
    assert revoked.returncode == 0, revoked.stderr
    with pytest.raises(openai.AuthenticationError) as raised:
        client_for(key).images.generate(prompt="a fox")
    assert "revoked" in raised.value.message
    with pytest.raises(openai.AuthenticationError):
        client_for(key[:-2] + "xx").images.generate(prompt="a fox")


@pytest.mark.parametrize(
    ("body", "param", "said"),
    [
        ({"prompt": "a fox --ar 30:1"}, "prompt", "--ar 30:1"),
        ({"prompt": "a fox", "style": "vivid"}, "style", "DALL·E 3"),
        ({"prompt": "a fox", "background": "transparent"}, "background", "transparent"),
        ({"prompt": "a fox", "n": 5}, "n", "less than or equal to 4"),
        ({"prompt": "a fox", "size": "big"}, "size", "should match pattern"),
        ({"prompt": "a fox", "size": "3000x100"}, "size", "--ar 30:1"),
        ({"prompt": "a fox", "model": "dall-e-3"}, "model", "dall-e-3"),
        ({"prompt": "a fox", "seed_please": 1}, "seed_please", "Extra inputs"),
    ],
    ids=["bad-flag", "style", "transparent", "n", "size", "extreme-size", "model", "unknown-field"],
)
def test_a_request_we_cannot_honour_is_400_naming_what_to_change(
    api_url: str, make_key: MakeKey, body: dict, param: str, said: str
):
    answer = httpx.post(
        f"{api_url}/v1/images/generations", json=body, headers={"Authorization": f"Bearer {make_key()}"}
    )
    error = _error(answer, 400)
    assert error["param"] == param and said in error["message"], error


def test_a_body_that_is_not_json_is_400(api_url: str, make_key: MakeKey):
    answer = httpx.post(
        f"{api_url}/v1/images/generations",
        content=b'{"prompt": "a fox",',
        headers={"Authorization": f"Bearer {make_key()}", "Content-Type": "application/json"},
    )
    assert _error(answer, 400)["param"] is None


def test_a_body_over_the_cap_is_413(api_url: str, make_key: MakeKey):
    answer = httpx.post(
        f"{api_url}/v1/images/generations",
        content=json.dumps({"prompt": "a fox " * 20_000}),
        headers={"Authorization": f"Bearer {make_key()}", "Content-Type": "application/json"},
    )
    assert _error(answer, 413)


def test_over_the_key_s_hourly_limit_is_429_with_retry_after(api_url: str, make_key: MakeKey):
    headers = {"Authorization": f"Bearer {make_key('limited', '--hourly', '1')}"}
    body = {"op": "imagine", "prompt": "a fox --model tiny-flux"}
    assert httpx.post(f"{api_url}/v1/jobs", json=body, headers=headers).status_code == 202
    answer = httpx.post(f"{api_url}/v1/jobs", json=body, headers=headers)
    error = _error(answer, 429)
    assert "hourly limit is 1" in error["message"] and 3000 < int(answer.headers["Retry-After"]) <= 3600


def test_concurrent_requests_never_pass_the_key_s_waiting_limit(api_url: str, make_key: MakeKey):
    headers = {"Authorization": f"Bearer {make_key('waiting', '--waiting', '3')}"}
    body = {"op": "imagine", "prompt": "a fox --model tiny-flux"}  # no worker serves it: they wait

    def post(_: int) -> int:
        return httpx.post(f"{api_url}/v1/jobs", json=body, headers=headers, timeout=60).status_code

    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(post, range(12)))
    assert sorted(answers) == [202] * 3 + [429] * 9, answers


def test_a_key_limited_to_some_models_is_refused_others(api_url: str, make_key: MakeKey):
    headers = {"Authorization": f"Bearer {make_key('shapes only', '--models', 'shapes')}"}
    answer = httpx.post(
        f"{api_url}/v1/jobs", json={"op": "imagine", "prompt": "a fox --model tiny"}, headers=headers
    )
    assert _error(answer, 400)["param"] == "model"


def test_the_served_openapi_document_is_the_checked_in_one(api_url: str):
    served = httpx.get(f"{api_url}/openapi.json").json()
    assert served == json.loads(OPENAPI.read_text()), (
        "the API changed: write the new document with `python -m api.openapi > api/openapi.json`"
    )


def _error(answer: httpx.Response, status: int) -> dict:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}, body
    return body["error"]
