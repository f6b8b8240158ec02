"""The bot's Prometheus metrics: what members asked for and how it went, the events it consumed,
and how long a finished job waited to be posted."""

import functools
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram

from jobs.errors import MemberError

RESULT_DELAY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
"""Seconds from a worker's `done` to the result in the channel: milliseconds when all is well,
minutes when the bot was down or Discord was unreachable."""


class Outcome(StrEnum):
    QUEUED = "queued"
    """A job was queued and the member answered."""
    REFUSED = "refused"
    """The member was told why not (a bad prompt, a limit, a rule, a repeated click)."""
    ERROR = "error"
    """Something broke on our side (Redis unreachable, a bug)."""
    ANSWERED = "answered"
    """A command that starts no job (/info, /settings, /admin …) was answered."""


class BotMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = CollectorRegistry() if registry is None else registry
        self.interactions = Counter(
            "imagine_bot_interactions",
            "Slash commands and button clicks, by command or button and by outcome",
            ["kind", "outcome"],
            registry=self.registry,
        )
        self.events = Counter(
            "imagine_bot_events",
            "Job events the bot consumed from the stream (redeliveries included), by kind",
            ["kind"],
            registry=self.registry,
        )
        self.result_delay = Histogram(
            "imagine_bot_result_delay_seconds",
            "Time from a worker's done event to the result posted (wall clocks of two hosts)",
            buckets=RESULT_DELAY_BUCKETS,
            registry=self.registry,
        )

    def interaction(self, kind: str, outcome: Outcome) -> None:
        self.interactions.labels(kind, outcome.value).inc()


Handler = Callable[..., Awaitable[Outcome]]
"""An interaction handler method: `self` has `metrics`; it returns how the interaction went."""


def counted(kind: str) -> Callable[[Handler], Handler]:
    """Counts each call of an interaction handler under `kind`, with the outcome it returns; one
    that raises is `refused` for a `MemberError` (the member is told why), else `error`."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def run(self: Any, *args: Any, **kwargs: Any) -> Outcome:
            try:
                outcome = await handler(self, *args, **kwargs)
            except Exception as error:
                refused = isinstance(error, MemberError)
                self.metrics.interaction(kind, Outcome.REFUSED if refused else Outcome.ERROR)
                raise
            self.metrics.interaction(kind, outcome)
            return outcome

        return run

    return decorate
