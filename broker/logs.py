"""Log lines that name the job they are about, whoever logs them (our code, RQ, diffusers).

The worker sets the current job around each job it runs, the bot around the work for one job;
a filter on the process's log handler copies it onto every record, so `grep job=<id>` finds the
whole story of one job across the bot's and the workers' logs.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

current_job: ContextVar[str | None] = ContextVar("imagine_current_job", default=None)
"""The job the code running now works for; None outside any job."""

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(job)s%(message)s"
"""`2025-06-01 12:00:00,123 INFO worker.tasks: job=3f2a… message`; `job=` only inside a job."""


@contextmanager
def job_context(job_id: str) -> Iterator[None]:
    """Records run inside carry `job_id`. Asyncio tasks and `asyncio.to_thread` copy it along."""
    token = current_job.set(job_id)
    try:
        yield
    finally:
        current_job.reset(token)


class JobIdFilter(logging.Filter):
    """Adds `job_id` (the id or "") and `job` ("job=<id> " or "") to every record it sees.

    Put on a handler rather than a logger: a logger's filters skip records from its children,
    a handler's see every record that reaches it.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        job_id = current_job.get()
        record.job_id = job_id or ""
        record.job = f"job={job_id} " if job_id else ""
        return True


def log_handler() -> logging.Handler:
    """A stderr handler that writes `LOG_FORMAT`, with the job on each line logged inside a job."""
    handler = logging.StreamHandler()
    handler.addFilter(JobIdFilter())
    handler.setFormatter(logging.Formatter(LOG_FORMAT, defaults={"job": "", "job_id": ""}))
    return handler
