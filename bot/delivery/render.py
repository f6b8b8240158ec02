"""What members read: the text of a job's messages while it waits, runs, succeeds or fails."""

import re

import discord

from bot.delivery.deliveries import Delivery
from bot.replies import MESSAGE_LIMIT
from jobs.specs import LoraUse, Safety
from jobs.values import format_number

DMS_CLOSED = "Your DMs are closed to me, so your result is here instead of in a direct message."

_NOTES_LIMIT = 700
"""Characters of notes a result carries at most; the echoed prompt gets the rest of the message."""
_NOTE_LIMIT = 300
_HEADLINE_ROOM = 200
"""Characters a `/describe` result keeps for its headline; its prompts share what notes leave."""
_REASON_LIMIT = 500


def headline(delivery: Delivery, room: int = MESSAGE_LIMIT) -> str:
    """`**prompt** - Image #2 <@member>`, as Midjourney writes it, in at most `room` characters:
    the prompt is cut (with "…") to leave room for the rest."""
    label = f"{delivery.label} " if delivery.label else ""
    tail = f"** - {label}<@{delivery.requester_id}>"
    title = discord.utils.escape_markdown(delivery.title)
    if 2 + len(title) + len(tail) > room:
        title = _escaped_prefix(delivery.title, room - 2 - len(tail) - 1) + "…"
    return f"**{title}{tail}"


def waiting(delivery: Delivery) -> str:
    place = f" · #{delivery.position} in queue" if delivery.position else ""
    return _with_headline(delivery, f" (Waiting to start{place})")


def running(delivery: Delivery, percent: int) -> str:
    return _with_headline(delivery, f" ({percent}%)")


def finished(delivery: Delivery, warnings: tuple[str, ...] = (), loras: tuple[LoraUse, ...] = ()) -> str:
    """The result's text: the headline, the LoRAs used, then each note in small print."""
    lines = f"\n-# {_lora_line(loras)}" if loras else ""
    return _with_headline(delivery, lines + _notes(warnings))


def described(delivery: Delivery, prompts: tuple[str, ...], warnings: tuple[str, ...] = ()) -> str:
    """A `/describe` result: the headline, then each prompt on its line after its number (which
    `described_prompt` reads back), then the notes."""
    room = (MESSAGE_LIMIT - _HEADLINE_ROOM - _NOTES_LIMIT) // max(len(prompts), 1)
    lines = "".join(
        f"\n**{index}.** {_escaped_prefix(prompt, room)}" for index, prompt in enumerate(prompts, start=1)
    )
    return _with_headline(delivery, lines + _notes(warnings))


def described_prompt(content: str, index: int) -> str | None:
    """Prompt `index` of a `/describe` result's text (see `described`); None if it has none."""
    found = re.search(rf"^\*\*{index}\.\*\* (.+)$", content, re.MULTILINE)
    return re.sub(r"\\(.)", r"\1", found[1]) if found else None


def failed(delivery: Delivery, reason: str) -> str:
    return _with_headline(delivery, f"\n**Could not finish:** {_clip(reason, _REASON_LIMIT)}")


def mentions(delivery: Delivery) -> discord.AllowedMentions:
    """Only the requester is pinged, whatever the prompt says (`@everyone`, roles, members)."""
    return discord.AllowedMentions(everyone=False, roles=False, users=[discord.Object(delivery.requester_id)])


def flag_notes(safety: Safety, flagged: tuple[int, ...], count: int) -> tuple[str, ...]:
    """What the result says about images the NSFW check flagged."""
    if not flagged or safety is Safety.OFF:
        return ()
    which = "this image" if count == 1 else _images(flagged)
    if safety is Safety.BLOCK:
        return (f"{which} blocked by this server's NSFW filter",)
    return (f"{which} marked as a spoiler: flagged as possibly NSFW",)


def _notes(warnings: tuple[str, ...]) -> str:
    """Each note in small print. Repeated notes are shown once, and notes past a share of the
    message are counted instead of shown."""
    lines: list[str] = []
    used = 0
    notes = list(dict.fromkeys(warnings))
    for index, note in enumerate(notes):
        line = f"\n-# note: {_clip(note, _NOTE_LIMIT)}"
        if used + len(line) > _NOTES_LIMIT:
            lines.append(f"\n-# … and {len(notes) - index} more notes")
            break
        lines.append(line)
        used += len(line)
    return "".join(lines)


def _with_headline(delivery: Delivery, rest: str) -> str:
    return headline(delivery, MESSAGE_LIMIT - len(rest)) + rest


def _escaped_prefix(text: str, room: int) -> str:
    """The longest start of `text` whose markdown-escaped form fits in `room` characters."""
    cut = text[: max(0, room)]
    escaped = discord.utils.escape_markdown(cut)
    while len(escaped) > room:
        # Escaping at most doubles a character, so dropping half the excess never overshoots much.
        cut = cut[: len(cut) - max(1, (len(escaped) - room + 1) // 2)]
        escaped = discord.utils.escape_markdown(cut)
    return escaped


def _lora_line(loras: tuple[LoraUse, ...]) -> str:
    """`LoRA `ink` 0.6 · `paper` 1`."""
    return "LoRA " + " · ".join(f"`{lora.name}` {format_number(lora.weight)}" for lora in loras)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _images(indices: tuple[int, ...]) -> str:
    numbers = [f"#{index}" for index in indices]
    if len(numbers) == 1:
        return f"image {numbers[0]}"
    return f"images {', '.join(numbers[:-1])} and {numbers[-1]}"
