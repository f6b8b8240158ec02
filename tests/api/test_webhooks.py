"""Webhooks from a running `imagine-api`: a job's `done` is POSTed to its webhook, signed with the
key's secret, and tried again after a failure until the receiver takes it, once; a cancelled job's
`failed` too; a webhook to a private address is refused unless the operator allows it."""

import hashlib
import hmac
import json
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from broker.local_redis import LocalRedis, free_port
from playground import stack
from playground.stack import Process
from tests.api.conftest import keys_command

pytestmark = pytest.mark.slow
WAIT = 120.0


class Receiver:
    """A webhook receiver on loopback that answers each POST with the next of `statuses` (then 200)."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.received: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count: int) -> list[tuple[dict[str, str], bytes]]:
        deadline = time.monotonic() + WAIT
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(self.received) >= count, f"{len(self.received)} of {count} deliveries came"
        return self.received


@pytest.fixture(scope="module")
def hooks_url(
    stack_redis: LocalRedis, catalog: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """An API that may send webhooks to loopback, trying again 0.2 s after a first failure."""
    port = free_port()
    log = tmp_path_factory.mktemp("api-hooks") / "api.log"
    process = stack.start_api(
        stack_redis.url,
        log,
        port,
        catalog=str(catalog),
        api_webhook_private_ok="true",
        api_webhook_backoff_seconds="0.2",
    )
    yield f"http://127.0.0.1:{port}"
    process.stop()


@pytest.fixture(scope="module")
def key_and_secret(stack_redis: LocalRedis, catalog: Path) -> tuple[str, str]:
    made = keys_command("create", "hooks", redis_url=stack_redis.url, catalog=catalog)
    [secret] = re.findall(r"whsec_[\w-]+", made.stderr)
    return made.stdout.strip(), secret


def _verified(headers: dict[str, str], body: bytes, secret: str) -> dict:
    """The body, after checking the signature as README says a receiver should."""
    signed = headers["imagine-webhook-timestamp"].encode() + b"." + body
    expected = "v1=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["imagine-webhook-signature"], expected)
    assert abs(time.time() - int(headers["imagine-webhook-timestamp"])) < 300
    return json.loads(body)


def test_a_done_job_is_posted_signed_and_tried_again_until_taken(
    hooks_url: str, api_worker: Process, key_and_secret: tuple[str, str]
):
    key, secret = key_and_secret
    receiver = Receiver([500, 503])
    [job] = httpx.post(
        f"{hooks_url}/v1/jobs",
        json={"op": "imagine", "prompt": "a fox --model tiny", "webhook": receiver.url},
        headers={"Authorization": f"Bearer {key}"},
    ).json()
    deliveries = receiver.wait_for(3)
    time.sleep(1.5)  # a taken delivery is not sent again
    assert len(deliveries) == 3
    bodies = [_verified(headers, body, secret) for headers, body in deliveries]
    assert {headers["imagine-webhook-id"] for headers, _ in deliveries} == {f"{job['id']}.done"}
    assert all(body["type"] == "job.done" and body["data"]["id"] == job["id"] for body in bodies)
    assert len(bodies[-1]["data"]["images"]) == 4 and bodies[-1]["data"]["images"][0].startswith(hooks_url)


def test_a_cancelled_job_is_posted_as_failed(hooks_url: str, key_and_secret: tuple[str, str]):
    key, secret = key_and_secret
    receiver = Receiver([])
    headers = {"Authorization": f"Bearer {key}"}
    body = {
        "op": "imagine",
        "prompt": "a fox --model tiny-flux",
        "webhook": receiver.url,
    }  # no worker serves it
    [job] = httpx.post(f"{hooks_url}/v1/jobs", json=body, headers=headers).json()
    assert httpx.delete(f"{hooks_url}/v1/jobs/{job['id']}", headers=headers).status_code == 200
    [(received, sent)] = receiver.wait_for(1)
    posted = _verified(received, sent, secret)
    assert posted["type"] == "job.failed" and posted["data"]["status"] == "cancelled"


@pytest.mark.parametrize(
    ("webhook", "said"),
    [
        ("http://127.0.0.1:9/hooks", "private address"),
        ("http://10.1.2.3/hooks", "private address"),
        ("http://localhost/hooks", "private address"),
        ("ftp://example.com/hooks", "should match pattern"),
        ("https://user:pass@example.com/hooks", "should match pattern"),
    ],
)
def test_a_webhook_that_may_not_be_sent_is_refused(
    api_url: str, key_and_secret: tuple[str, str], webhook: str, said: str
):
    answer = httpx.post(
        f"{api_url}/v1/jobs",
        json={"op": "imagine", "prompt": "a fox --model tiny", "webhook": webhook},
        headers={"Authorization": f"Bearer {key_and_secret[0]}"},
    )
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["param"] == "webhook" and said in error["message"], error
