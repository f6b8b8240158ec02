"""Names of queues and Redis keys, so every process agrees on them."""

from typing import Final

PREFIX: Final = "imagine"
EVENTS_STREAM: Final = f"{PREFIX}:events"


def queue_name(model: str) -> str:
    """The RQ queue that the workers serving `model` listen on."""
    return f"{PREFIX}.{model}"


def artifact_key(job_id: str, name: str) -> str:
    """Where a job's stored image `name` lives ("image-1".."image-4", "grid")."""
    return f"{PREFIX}:artifact:{job_id}:{name}"


def spec_key(job_id: str) -> str:
    """Where the resolved spec of a submitted job is kept, so follow-ups can reuse its prompt."""
    return f"{PREFIX}:spec:{job_id}"


def done_key(job_id: str) -> str:
    """Marker set together with a job's `done` event, so a retried job never announces twice."""
    return f"{PREFIX}:done:{job_id}"
