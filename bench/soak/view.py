"""Reading the channel as a member does: which job each of the bot's messages belongs to, and
whether it is waiting, a result or a failure (the texts of `bot/delivery/render.py`).

A job is known from the outside by its headline, `**<prompt>** - <label> <@requester>` (the prompt's
first 200 characters as shown: the bot cuts long ones to fit each message): the harness
gives every /imagine a unique tag in its prompt and never asks for the same label of the same
prompt twice as the same member, so no two accepted jobs share a headline.
"""

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from discord.utils import escape_markdown

HEADLINE = re.compile(r"\*\*(?P<title>.*)\*\* - (?P<label>(?:.* )?)<@(?P<user>\d+)>")
PROGRESS = re.compile(r" \((?:Waiting to start(?: · #\d+ in queue)?|\d+%)\)$")
FAILED = "**Could not finish:**"
STRENGTHS = ("Subtle", "Strong")
PANS = {"⬅️": "left", "➡️": "right", "⬆️": "up", "⬇️": "down"}
TITLE_LIMIT = 1500
"""Characters of the prompt a headline shows (`bot/delivery/render.py`)."""

State = Literal["waiting", "result", "failure", "other"]


@dataclass(frozen=True)
class Shown:
    """One of the bot's messages, as a member reads it."""

    id: int
    key: str
    title: str
    label: str
    user: int
    state: State
    buttons: tuple[dict[str, Any], ...]
    reason: str = ""


KEY_TITLE = 200
"""Characters of the shown prompt a key keeps: the bot cuts a long prompt to fit each message (a
result with notes keeps less of it than its waiting message), never to fewer than this."""


def headline_key(title: str, label: str, user: int) -> str:
    """A job's key: the start of its prompt as shown, its label and its requester."""
    title = title.removesuffix("…")[:KEY_TITLE]
    return f"**{title}** - {label + ' ' if label else ''}<@{user}>"


def imagine_key(prompt: str, user: int) -> str:
    """The headline of the job `/imagine prompt` starts, as the bot writes it."""
    title = prompt if len(prompt) <= TITLE_LIMIT else prompt[:TITLE_LIMIT] + "…"
    return headline_key(escape_markdown(title), "", user)


def read(summary: dict[str, Any]) -> Shown | None:
    """The job a message is about and its state; None for a message that names no job."""
    first, _, rest = summary["content"].partition("\n")
    reason = ""
    if FAILED in rest:
        state: State = "failure"
        reason = rest.split(FAILED, 1)[1].strip()
    elif summary["attachments"] and any(button.get("custom_id") for button in summary["buttons"]):
        state = "result"
    elif (progress := PROGRESS.search(first)) and not rest:
        state, first = "waiting", first[: progress.start()]
    else:
        state = "other"
    match = HEADLINE.fullmatch(first)
    if match is None:
        return None
    title, label, user = match["title"], match["label"].rstrip(" "), int(match["user"])
    buttons = tuple(summary["buttons"])
    return Shown(summary["id"], headline_key(title, label, user), title, label, user, state, buttons, reason)


def waiting_key(content: str) -> str | None:
    """The job of a waiting message's text (an interaction's answer, as first written)."""
    first = content.partition("\n")[0]
    progress = PROGRESS.search(first)
    if progress is None:
        return None
    match = HEADLINE.fullmatch(first[: progress.start()])
    if match is None:
        return None
    return headline_key(match["title"], match["label"].rstrip(" "), int(match["user"]))


def follow_up_label(shown: Shown, button: dict[str, Any], default_strength: str = "Subtle") -> str | None:
    """The label of the job a click on `button` under `shown` starts (None: not one of ours)."""
    label, emoji = button.get("label") or "", button.get("emoji")
    if re.fullmatch(r"U[1-4]", label):
        return f"Image #{label[1]}"
    if re.fullmatch(r"V[1-4]", label):
        return f"Variations ({default_strength}) by"
    if (match := re.fullmatch(r"Vary \((\w+)\)", label)) and match[1] in STRENGTHS:
        return f"Variations ({match[1]}) by"
    if label in ("Zoom Out 2×", "Zoom Out 1.5×"):
        return f"{label} by"
    if label == "Make Square":
        return "Square by"
    if (match := re.fullmatch(r"Upscale \((Subtle|Creative)\)", label)) and shown.label.startswith("Image #"):
        grid_image = shown.label.removesuffix(" (Creative)")
        return grid_image if match[1] == "Subtle" else f"{grid_image} (Creative)"
    if emoji in PANS:
        return f"Pan {PANS[emoji]} by"
    if emoji == "🔄":
        return ""
    if label == "Retry":
        return shown.label
    return None


@dataclass
class Snapshot:
    """The channel at one moment, grouped by job."""

    by_key: dict[str, dict[State, list[Shown]]] = field(default_factory=dict)
    shown: list[Shown] = field(default_factory=list)

    @classmethod
    def of(cls, summaries: list[dict[str, Any]], bot_id: int) -> "Snapshot":
        snapshot = cls()
        for summary in summaries:
            if summary["author_id"] != bot_id or (shown := read(summary)) is None:
                continue
            snapshot.shown.append(shown)
            states = snapshot.by_key.setdefault(shown.key, {})
            states.setdefault(shown.state, []).append(shown)
        return snapshot

    def count(self, key: str, state: State) -> int:
        return len(self.by_key.get(key, {}).get(state, []))

    def finished(self, key: str) -> bool:
        return self.count(key, "result") + self.count(key, "failure") > 0

    def clickable(self) -> list[Shown]:
        return [shown for shown in self.shown if shown.state in ("result", "failure")]
