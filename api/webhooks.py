"""Webhooks: a job asked with `webhook` is POSTed to that URL when it is done or has failed, signed
with its key's secret, retried with back-off, and never sent to a private address unless the
operator allows it (`IMAGINE_API_WEBHOOK_PRIVATE_OK`).

Nothing is lost to a restart: each API process reads the event stream in one consumer group (an
entry is acknowledged once its job's delivery is due in Redis), and a delivery is claimed for a
lease, so one that a crash cut short is tried again when the lease runs out. The receiver checks
`Imagine-Webhook-Signature: v1=<hex>`, HMAC-SHA256 of `<Imagine-Webhook-Timestamp>.<body>` under
the key's webhook secret, and may drop a delivery it has seen (`Imagine-Webhook-Id`)."""

import asyncio
import hashlib
import hmac
import json
import logging
import os
import socket
import time
from typing import Literal

import aiohttp
from pydantic import BaseModel
from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError
from yarl import URL

from api.errors import ApiError
from api.keys import ApiKey
from api.services import Services
from api.submissions import JobRecord
from api.views import job_view
from broker.addresses import PrivateAddressError, PublicResolver, is_ip, is_public
from jobs import keys
from jobs.events import EVENT, Done, Failed

log = logging.getLogger(__name__)

GROUP = "api-webhooks"
"""The consumer group the API processes read the event stream in."""
TIMEOUT = 10.0
"""Seconds a receiver has to answer."""
_LEASE = TIMEOUT + 20
_IDLE_MS = 60_000
"""A stream entry read but not acknowledged this long (its reader died) is taken over."""
_CLAIM_DUE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, member in ipairs(due) do redis.call('ZADD', KEYS[1], 'XX', ARGV[2], member) end
return due
"""


class Delivery(BaseModel):
    """How a job's webhook delivery stands."""

    attempts: int = 0
    state: Literal["waiting", "delivered", "given up"] = "waiting"
    last_error: str | None = None


def checked_url(url: str, key: ApiKey, *, private_ok: bool) -> str:
    """`url` (its form checked by `JobRequest`: http or https, no user name) if a webhook may go
    there (not an IP literal on a private network unless allowed), else a 400; a name that
    resolves to a private address is refused as the delivery connects."""
    if key.webhook_secret is None:
        raise ApiError(400, "`webhook`: this key has no webhook secret; make a new key", param="webhook")
    try:
        parsed = URL(url)
    except ValueError:
        parsed = None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host or not parsed.absolute:
        raise ApiError(400, "`webhook`: give an http or https URL", param="webhook")
    if not private_ok and (parsed.host == "localhost" or (is_ip(parsed.host) and not is_public(parsed.host))):
        raise ApiError(400, "`webhook`: it points at a private address", param="webhook")
    return url


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """`v1=` and the hex HMAC-SHA256 of `<timestamp>.<body>` under `secret`."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


class WebhookSender:
    """Delivers the webhooks of this API's jobs; `run()` until cancelled."""

    def __init__(self, redis: Redis, found: Services) -> None:
        self._redis = redis
        self._found = found
        self._settings = found.settings
        self._consumer = f"{socket.gethostname()}-{os.getpid()}"
        self._claim_due = redis.register_script(_CLAIM_DUE)
        self._sending: set[asyncio.Task[None]] = set()
        self._next_takeover = 0.0

    async def run(self) -> None:
        try:
            await self._redis.xgroup_create(keys.EVENTS_STREAM, GROUP, id="$", mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise
        resolver = None if self._settings.api_webhook_private_ok else PublicResolver()
        connector = aiohttp.TCPConnector(resolver=resolver) if resolver else aiohttp.TCPConnector()
        async with aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=TIMEOUT),
            cookie_jar=aiohttp.DummyCookieJar(),
        ) as session:
            cursor = "0-0"  # this consumer's own unacknowledged entries first, after a restart
            while True:
                try:
                    cursor = await self._collect(cursor)
                    for job_id in await self._claim_due(
                        keys=[keys.API_WEBHOOKS_DUE], args=[time.time(), time.time() + _LEASE, 50]
                    ):
                        task = asyncio.create_task(self._deliver(session, job_id.decode()))
                        self._sending.add(task)
                        task.add_done_callback(self._sending.discard)
                except (RedisError, OSError) as error:
                    log.warning("webhooks: Redis failed (%s); trying again", error)
                    await asyncio.sleep(1)
                except Exception:  # a bad entry must not stop every later delivery
                    log.exception("webhooks: reading the event stream failed; going on")
                    await asyncio.sleep(1)

    async def _collect(self, cursor: str) -> str:
        """Schedules the deliveries of jobs that ended, from the stream entries read (and, now and
        then, those a dead reader left): the cursor to read from next."""
        if cursor == ">" and time.monotonic() >= self._next_takeover:
            self._next_takeover = time.monotonic() + _IDLE_MS / 2000
            _, claimed, *_ = await self._redis.xautoclaim(
                keys.EVENTS_STREAM, GROUP, self._consumer, min_idle_time=_IDLE_MS, count=100
            )
            await self._schedule(claimed)
        batches = await self._redis.xreadgroup(
            GROUP, self._consumer, {keys.EVENTS_STREAM: cursor}, count=200, block=1000
        )
        entries = batches[0][1] if batches else []
        await self._schedule(entries)
        return cursor if cursor == ">" or entries else ">"

    async def _schedule(self, entries: list) -> None:
        if not entries:
            return
        jobs = [fields.get(b"job", b"").decode() for _, fields in entries]
        records = await self._redis.mget([keys.api_job_key(job) for job in jobs])
        for (_, fields), job_id, record in zip(entries, jobs, records, strict=True):
            if record is None or JobRecord.model_validate_json(record).webhook is None:
                continue  # not the API's job, or no webhook
            if isinstance(EVENT.validate_json(fields[b"event"]), Done | Failed):
                ttl = self._settings.artifact_ttl
                await self._redis.set(
                    keys.api_webhook_key(job_id), Delivery().model_dump_json(), nx=True, ex=ttl
                )
                await self._redis.zadd(keys.API_WEBHOOKS_DUE, {job_id: time.time()}, nx=True)
        await self._redis.xack(keys.EVENTS_STREAM, GROUP, *[entry_id for entry_id, _ in entries])

    async def _deliver(self, session: aiohttp.ClientSession, job_id: str) -> None:
        try:
            await self._deliver_once(session, job_id)
        except Exception:  # left claimed: tried again when its lease runs out
            log.exception("webhook of job %s could not be sent; trying again later", job_id)

    async def _deliver_once(self, session: aiohttp.ClientSession, job_id: str) -> None:
        raw_delivery, raw_record = await self._redis.mget(
            [keys.api_webhook_key(job_id), keys.api_job_key(job_id)]
        )
        delivery = Delivery.model_validate_json(raw_delivery) if raw_delivery else None
        record = JobRecord.model_validate_json(raw_record) if raw_record else None
        if delivery is None or record is None or record.webhook is None or delivery.state != "waiting":
            await self._redis.zrem(keys.API_WEBHOOKS_DUE, job_id)
            return
        stored_key = await self._redis.get(keys.api_key_key(record.key_id))
        secret = ApiKey.model_validate_json(stored_key).webhook_secret if stored_key else None
        if secret is None:
            await self._settle(job_id, delivery, "its key has no webhook secret", final=True)
            return
        view = await job_view(self._found, record.base or "", record)
        kind = "job.done" if view.status == "done" else "job.failed"
        event_id = f"{job_id}.{view.status}"
        body = json.dumps(
            {"id": event_id, "type": kind, "created": int(time.time()), "data": view.model_dump()}
        ).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "imagine-webhooks",
            "Imagine-Webhook-Id": event_id,
            "Imagine-Webhook-Timestamp": timestamp,
            "Imagine-Webhook-Signature": signature(secret, timestamp, body),
        }
        error, final = await self._posted(session, record.webhook, body, headers)
        await self._settle(job_id, delivery, error, final)

    async def _posted(
        self, session: aiohttp.ClientSession, url: str, body: bytes, headers: dict[str, str]
    ) -> tuple[str | None, bool]:
        """None when the receiver took it (2xx), else why not; and whether trying again is futile."""
        try:
            async with session.post(url, data=body, headers=headers, allow_redirects=False) as response:
                if 200 <= response.status < 300:
                    return None, False
                return f"HTTP {response.status}", False
        except aiohttp.ClientConnectorError as error:
            if isinstance(error.os_error, PrivateAddressError):
                return "the URL resolves to a private address", True
            return "the connection failed", False
        except TimeoutError:
            return f"no answer in {TIMEOUT:g} s", False
        except aiohttp.ClientError as error:
            return f"the request failed ({type(error).__name__})", False

    async def _settle(self, job_id: str, delivery: Delivery, error: str | None, final: bool) -> None:
        attempts = delivery.attempts + 1
        key = keys.api_webhook_key(job_id)
        if error is None:
            log.info("webhook of job %s delivered (attempt %d)", job_id, attempts)
            delivery = Delivery(attempts=attempts, state="delivered")
        elif final or attempts >= self._settings.api_webhook_attempts:
            log.warning("webhook of job %s given up after %d attempts: %s", job_id, attempts, error)
            delivery = Delivery(attempts=attempts, state="given up", last_error=error)
        else:
            wait = self._settings.api_webhook_backoff_seconds * 2 ** (attempts - 1)
            log.info("webhook of job %s failed (%s); again in %.1f s", job_id, error, wait)
            await self._redis.set(
                key, Delivery(attempts=attempts, last_error=error).model_dump_json(), keepttl=True
            )
            await self._redis.zadd(keys.API_WEBHOOKS_DUE, {job_id: time.time() + wait})
            return
        await self._redis.set(key, delivery.model_dump_json(), keepttl=True)
        await self._redis.zrem(keys.API_WEBHOOKS_DUE, job_id)
