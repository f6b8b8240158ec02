"""The worker process's resident state: loaded engines and its Redis-side helpers."""

from dataclasses import dataclass

from broker.artifacts import ArtifactStore
from broker.events import EventLog
from worker.engine import Engine
from worker.errors import ModelNotServedError


@dataclass(frozen=True)
class Runtime:
    """What job functions need; installed once per process, before the worker takes jobs."""

    engines: dict[str, Engine]
    artifacts: ArtifactStore
    events: EventLog
    previews: int

    def engine(self, model: str) -> Engine:
        try:
            return self.engines[model]
        except KeyError:
            raise ModelNotServedError(f"this worker does not serve the model `{model}`") from None


_current: Runtime | None = None


def install(runtime: Runtime) -> None:
    global _current
    _current = runtime


def current() -> Runtime:
    if _current is None:
        raise RuntimeError("no worker runtime installed: start jobs through `imagine-worker`")
    return _current
