"""Button custom_ids: each carries everything a click needs, so buttons outlive any bot process.

Every template is a regular expression with named groups (the form discord.py's `DynamicItem`
matches clicks with) and stays under Discord's 100-character limit.
"""

from typing import Final

from jobs.specs import Strength

MAX_LENGTH: Final = 100
_JOB: Final = r"(?P<job>[0-9a-f]{32})"
_INDEX: Final = r"(?P<index>[1-4])"

UPSCALE: Final = rf"imagine:upscale:{_JOB}:{_INDEX}"
VARY: Final = rf"imagine:vary:{_JOB}:{_INDEX}(?::(?P<strength>subtle|strong))?"
"""Without a strength the clicking member's default applies."""
REROLL: Final = rf"imagine:reroll:{_JOB}"
RETRY: Final = rf"imagine:retry:{_JOB}"


def upscale(job_id: str, index: int) -> str:
    return f"imagine:upscale:{job_id}:{index}"


def vary(job_id: str, index: int, strength: Strength | None = None) -> str:
    suffix = f":{strength.value}" if strength else ""
    return f"imagine:vary:{job_id}:{index}{suffix}"


def reroll(job_id: str) -> str:
    return f"imagine:reroll:{job_id}"


def retry(job_id: str) -> str:
    return f"imagine:retry:{job_id}"
