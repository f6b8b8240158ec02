"""Reading a job hash from Redis without trusting it.

RQ's `Job.restore` parses each field of the hash as it goes and raises on the first one it cannot
read, and that raise happens wherever a job is fetched: as the worker takes it, or as a worker's
registry clean-up recovers it after its worker died. An exception there ends the worker, and every
new worker meets the same record. So each field is checked here first, with RQ's own parsers; one
that cannot be read is left out (RQ's default takes its place) and named as damage, and the job
then fails alone with that reason.
"""

import json
import zlib
from collections.abc import Callable
from typing import Any, Final

from rq.job import JobStatus
from rq.serializers import JSONSerializer
from rq.utils import parse_timeout, str_to_date

MAX_DATA_BYTES: Final = 1024 * 1024
"""Largest job data, uncompressed: a spec at the contract's bounds is far below it (RQ zlib-compresses
the data, so a small record can stand for gigabytes)."""

_PLACEHOLDER: Final = zlib.compress(JSONSerializer.dumps((None, None, [], {})))
"""Data standing in for data that cannot be used: it names no function, so the job cannot run."""


def _text(value: bytes) -> str:
    return value.decode()


def _flag(value: bytes) -> bool:
    return bool(int(value))


def _status(value: bytes) -> JobStatus:
    return JobStatus(value.decode())


def _json(value: bytes) -> Any:
    return json.loads(value.decode())


def _timeout(value: bytes) -> int | None:
    return parse_timeout(value.decode())


_READERS: Final[dict[str, Callable[[bytes], object]]] = {
    **dict.fromkeys(["created_at", "enqueued_at", "started_at", "ended_at", "last_heartbeat"], str_to_date),
    **dict.fromkeys(
        [
            "origin",
            "description",
            "worker_name",
            "group_id",
            "rate_limit_key",
            "dependency_id",
            "success_callback_name",
            "failure_callback_name",
            "stopped_callback_name",
        ],
        _text,
    ),
    **dict.fromkeys(
        [
            "result_ttl",
            "failure_ttl",
            "ttl",
            "number_of_retries",
            "retries_left",
            "repeats_left",
            "rate_limit_concurrency",
            "success_callback_timeout",
            "failure_callback_timeout",
            "stopped_callback_timeout",
        ],
        int,
    ),
    **dict.fromkeys(["allow_dependency_failures", "enqueue_at_front", "enqueue_at_front_on_retry"], _flag),
    **dict.fromkeys(["dependency_ids", "retry_intervals", "repeat_intervals"], _json),
    "timeout": _timeout,
    "status": _status,
}
"""How RQ's `Job.restore` reads each field (`result` and `webhooks` it guards itself)."""


class DataTooLargeError(ValueError):
    pass


def inflate(value: bytes, limit: int = MAX_DATA_BYTES) -> bytes:
    """`value` decompressed as RQ does (zlib, else taken as it is), refusing more than `limit` bytes."""
    try:
        inflater = zlib.decompressobj()
        data = inflater.decompress(value, limit + 1)
        if inflater.unconsumed_tail or len(data) > limit:
            raise DataTooLargeError(f"more than {limit} bytes")
    except zlib.error:
        data = value
    if len(data) > limit:
        raise DataTooLargeError(f"more than {limit} bytes")
    return data


def checked(raw: dict[bytes, bytes]) -> tuple[dict[bytes, bytes], list[str]]:
    """`raw` (a job hash as HGETALL returns it) with every field RQ could not read left out or
    replaced, and a description of each such field, worded for the member."""
    fields = {_key(name): value for name, value in raw.items()}
    damage: list[str] = []
    for name, read in _READERS.items():
        value = fields.get(name)
        if value:  # RQ skips empty fields, as missing ones
            try:
                read(value)
            except Exception:
                damage.append(f"`{name}` is unreadable")
                del fields[name]
    if meta := fields.get("meta"):
        try:
            if not isinstance(JSONSerializer.loads(meta), dict):
                raise ValueError("not a mapping")
        except Exception:
            damage.append("`meta` is unreadable")
            del fields["meta"]
    if exc_info := fields.get("exc_info"):  # an earlier attempt's traceback, kept for operators
        try:
            inflate(exc_info).decode()
        except Exception:
            damage.append("`exc_info` is unreadable")
            del fields["exc_info"]
    if problem := _data_problem(fields.get("data")):
        damage.append(problem)
        fields["data"] = _PLACEHOLDER
    return {name.encode(): value for name, value in fields.items()}, damage


def _data_problem(data: bytes | None) -> str | None:
    if data is None:
        return "`data` is missing"
    try:
        call = JSONSerializer.loads(inflate(data))
    except DataTooLargeError:
        return f"`data` is too large (over {MAX_DATA_BYTES // 1024} KiB)"
    except Exception:
        return "`data` is unreadable"
    if not (
        isinstance(call, list)
        and len(call) == 4
        and isinstance(call[0], str)
        and isinstance(call[2], list)
        and isinstance(call[3], dict)
    ):
        return "`data` is not a job's call"
    return None


def _key(name: bytes | str) -> str:
    return name.decode(errors="replace") if isinstance(name, bytes) else name
