"""Button custom_ids: each carries everything a click needs, so buttons outlive any bot process.

Every template is a regular expression with named groups (the form discord.py's `DynamicItem`
matches clicks with) and stays under Discord's 100-character limit.
"""

from typing import Final

from jobs.specs import Direction, Strength

MAX_LENGTH: Final = 100
_PREFIX: Final = "imagine:"
_JOB: Final = r"(?P<job>[0-9a-f]{32})"
_INDEX: Final = r"(?P<index>[1-4])"

UPSCALE: Final = rf"imagine:upscale:{_JOB}:{_INDEX}(?::(?P<mode>subtle|creative))?"
"""Without a mode (U1–U4) the server's choice applies."""
VARY: Final = rf"imagine:vary:{_JOB}:{_INDEX}(?::(?P<strength>subtle|strong))?"
"""Without a strength the clicking member's default applies."""
REROLL: Final = rf"imagine:reroll:{_JOB}"
RETRY: Final = rf"imagine:retry:{_JOB}"
ZOOM: Final = rf"imagine:zoom:{_JOB}:{_INDEX}:(?P<factor>2|1\.5|custom)"
"""Zoom Out 2×, 1.5×, or Custom Zoom (which asks for the factor)."""
PAN: Final = rf"imagine:pan:{_JOB}:{_INDEX}:(?P<direction>left|right|up|down)"
SQUARE: Final = rf"imagine:square:{_JOB}:{_INDEX}"
REGION: Final = rf"imagine:region:{_JOB}:{_INDEX}"
"""Vary (Region): offers the parts of the image to repaint."""
CELLS: Final = rf"imagine:cells:{_JOB}:{_INDEX}"
"""The select menu of the parts to repaint."""
PROMPT: Final = rf"imagine:prompt:{_JOB}:{_INDEX}"
"""Prompt 1-4 of a `/describe` result: `/imagine` it (Remix asks to edit it first)."""
DESCRIBE: Final = rf"imagine:describe:{_JOB}"
"""🔄 under a `/describe` result: other prompts for the same image."""
REMIX: Final = r"imagine:remix:(?P<action>.+)"
"""A modal asking for the prompt (and Custom Zoom's factor) before the follow-up `action` starts:
`action` is the clicked item's custom_id after `imagine:`, or `region:<job>:<index>:<cells>`."""
REGION_PROMPT: Final = rf"region:{_JOB}:{_INDEX}:(?P<cells>[1-9]{{1,9}})"
"""The action of Vary (Region)'s modal: the cells picked, in digits."""


def upscale(job_id: str, index: int, mode: str | None = None) -> str:
    suffix = f":{mode}" if mode else ""
    return f"imagine:upscale:{job_id}:{index}{suffix}"


def vary(job_id: str, index: int, strength: Strength | None = None) -> str:
    suffix = f":{strength.value}" if strength else ""
    return f"imagine:vary:{job_id}:{index}{suffix}"


def reroll(job_id: str) -> str:
    return f"imagine:reroll:{job_id}"


def retry(job_id: str) -> str:
    return f"imagine:retry:{job_id}"


def zoom(job_id: str, index: int, factor: str) -> str:
    """`factor` is "2", "1.5" or "custom"."""
    return f"imagine:zoom:{job_id}:{index}:{factor}"


def pan(job_id: str, index: int, direction: Direction) -> str:
    return f"imagine:pan:{job_id}:{index}:{direction.value}"


def square(job_id: str, index: int) -> str:
    return f"imagine:square:{job_id}:{index}"


def region(job_id: str, index: int) -> str:
    return f"imagine:region:{job_id}:{index}"


def cells(job_id: str, index: int) -> str:
    return f"imagine:cells:{job_id}:{index}"


def prompt(job_id: str, index: int) -> str:
    return f"imagine:prompt:{job_id}:{index}"


def describe(job_id: str) -> str:
    return f"imagine:describe:{job_id}"


def remix(custom_id: str) -> str:
    """The modal of the follow-up that the item `custom_id` starts."""
    return f"imagine:remix:{custom_id.removeprefix(_PREFIX)}"


def region_prompt(job_id: str, index: int, chosen: frozenset[int]) -> str:
    return remix(f"region:{job_id}:{index}:{''.join(map(str, sorted(chosen)))}")


def remixed_action(action: str) -> str:
    """The custom_id of the item whose follow-up a remix modal's `action` starts."""
    return f"{_PREFIX}{action}"
