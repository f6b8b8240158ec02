"""Configuration as admins and members read it in Discord, each answer within one message."""

from collections.abc import Callable

from bot.rules.guild import GuildConfig
from bot.rules.member import MemberPreferences, Posting
from bot.rules.moderation import BannedTerms, banned_terms
from bot.rules.store import AuditEntry
from jobs.prompt import PromptError
from jobs.specs import Safety

MESSAGE_LIMIT = 2000
"""Discord refuses a longer message."""
_IDS_SHOWN = 20

_NSFW = {
    Safety.BLOCK: "flagged images are blocked",
    Safety.SPOILER: "flagged images are hidden behind a spoiler",
    Safety.OFF: "no check",
}


def guild(
    config: GuildConfig, offered: list[str], default_model: str, loras: list[str], catalog_loras: int
) -> str:
    """`/admin show`, with the `offered` models and `loras` of the `catalog_loras` in the catalog.
    Compiles the server's patterns (once per list): call it off the event loop."""
    channels, limits, roles, moderation = config.channels, config.limits, config.roles, config.moderation
    unusable = len(_terms(config).unusable)
    where = "every channel" if channels.everywhere else "only the channels allowed below"
    lines = [
        f"**Configuration** (revision {config.revision})",
        f"**Channels:** on in {where}",
        f"- allowed: {_channels(channels.allowed)}",
        f"- denied: {_channels(channels.denied)}",
        f"**Limits per member:** {limits.running} running · {limits.waiting} waiting"
        f" · {limits.hourly or 'no'} hourly limit",
        f"- largest side: {f'{limits.max_side} px' if limits.max_side else 'the model’s own limit'}"
        f" · most steps: {limits.max_steps or 'the model’s own limit'}"
        f" · turbo: {f'{limits.turbo_hourly} an hour' if limits.turbo_hourly else 'off'}",
        f"**Models offered:** {', '.join(f'`{name}`' for name in offered) or 'none'}"
        f" · default `{default_model}`"
        f" · U1–U4 make {'Creative' if config.models.creative_upscales else 'Subtle'} upscales",
        f"- `--v`/`--niji` aliases: {_aliases(config.models.aliases)}",
        f"**Midjourney style codes:** {_codes(config.styles.codes)}",
        f"**LoRAs offered:** {_loras(loras, catalog_loras)} · {_lora_limit(limits.loras)}",
        f"**Roles that may use me:** {_roles(roles.allowed) if roles.allowed else 'everyone'}",
        f"**Roles exempt from the hourly limit:** {_roles(roles.exempt)}",
        f"**Moderation:** {len(moderation.words)} banned words · {len(moderation.patterns)} patterns"
        f"{f' ({unusable} not in use)' if unusable else ''}"
        f" · strict mode {'on' if moderation.strict else 'off'} (`/admin moderation list`)",
        f"**NSFW outside age-restricted channels:** {_NSFW[moderation.nsfw]}",
    ]
    return "\n".join(lines)


def _aliases(aliases: dict[str, str]) -> str:
    if not aliases:
        return "none (the default model draws, with a note)"
    return ", ".join(f"`{name}` → `{model}`" for name, model in sorted(aliases.items()))


def _codes(codes: dict[str, str]) -> str:
    if not codes:
        return "none mapped (they are noted)"
    shown = ", ".join(f"`{code}` → `{style}`" for code, style in sorted(codes.items())[:_IDS_SHOWN])
    return shown + (f" and {len(codes) - _IDS_SHOWN} more" if len(codes) > _IDS_SHOWN else "")


def banned(config: GuildConfig) -> str:
    """`/admin moderation list`: for admins only; may be longer than a message (send it as a file).
    Compiles the server's patterns (once per list): call it off the event loop."""
    moderation, unusable = config.moderation, _terms(config).unusable
    words = ", ".join(f"`{word}`" for word in moderation.words) or "none"
    patterns = [
        f"- `{pattern}`" + (f" (not in use: {unusable[pattern]})" if pattern in unusable else "")
        for pattern in moderation.patterns
    ]
    mode = "on: stand-ins like `c4t` and spaced letters like `c a t` count" if moderation.strict else "off"
    return "\n".join(
        [
            f"**Banned words:** {words}",
            "**Banned patterns:**",
            *(patterns or ["none"]),
            f"**Strict mode:** {mode}",
        ]
    )


def audit(entries: list[AuditEntry]) -> str:
    if not entries:
        return "No changes recorded yet."
    lines = []
    for entry in entries:
        changes = cut("; ".join(entry.changes), 300)
        lines.append(f"<t:{int(entry.at)}:f> <@{entry.actor_id}> (r{entry.revision}): {changes}")
    return _fit(lines, MESSAGE_LIMIT, lambda left: f"… and {left} older entries that don't fit in a message")


def changes(lines: tuple[str, ...], room: int = MESSAGE_LIMIT) -> str:
    """What a change saved, in `room` characters at most."""
    if not lines:
        return "Nothing changed: that was already the setting."
    shown = [f"- `{cut(line, 200)}`" for line in lines]
    return "Saved:\n" + _fit(shown, room - 7, lambda left: f"… and {left} more changes, see `/admin audit`")


def cut(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """`text`, shortened to `limit` characters with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fit(lines: list[str], limit: int, more: Callable[[int], str]) -> str:
    """The first `lines` that fit in `limit` characters, then `more(count left out)`."""
    text = "\n".join(lines)
    if len(text) <= limit:
        return text
    room = limit - len(more(len(lines))) - 1
    shown: list[str] = []
    for line in lines:
        room -= len(line) + 1
        if room < 0:
            break
        shown.append(line)
    return "\n".join([*shown, more(len(lines) - len(shown))])


def _terms(config: GuildConfig) -> BannedTerms:
    moderation = config.moderation
    return banned_terms(moderation.words, moderation.patterns, moderation.strict)


def preferences(preferences: MemberPreferences, fallback_strength: str) -> str:
    """`/settings` and `/prefer list`."""
    aspect = preferences.aspect or "the model's"
    quality = preferences.quality if preferences.quality is not None else "1"
    strength = (preferences.vary_strength or fallback_strength).title()
    lines = [
        "**Your settings**",
        f"- model: {f'`{preferences.model}`' if preferences.model else 'the server default'}",
        f"- aspect ratio: {aspect} · quality: {quality} · steps: {preferences.steps or 'the model default'}",
        f"- variations (V1–V4): {strength} · remix: {'on' if preferences.remix else 'off'}",
        f"- results: {'in your DMs' if preferences.posting is Posting.DM else 'in the channel'}",
        f"**Suffix:** {f'`{preferences.suffix}`' if preferences.suffix else 'none'}",
        "**Your options:**" + ("" if preferences.options else " none"),
    ]
    lines += [f"- `--{name}` → `{flags}`" for name, flags in sorted(preferences.options.items())]
    return "\n".join(lines)


def prompt_problem(error: PromptError) -> str:
    return f"Those flags need a change: {error}"


def _loras(offered: list[str], catalog_loras: int) -> str:
    """At most `_IDS_SHOWN`, so that /admin show fits in a message."""
    if not catalog_loras:
        return "none in the catalog"
    more = f" and {len(offered) - _IDS_SHOWN} more" if len(offered) > _IDS_SHOWN else ""
    return ", ".join(f"`{name}`" for name in offered[:_IDS_SHOWN]) + more or "none"


def _lora_limit(most: int) -> str:
    return f"at most {most} a job" if most else "off (the limit is 0 a job)"


def _channels(ids: frozenset[int]) -> str:
    return _mentions([f"<#{channel}>" for channel in sorted(ids)])


def _roles(ids: frozenset[int]) -> str:
    return _mentions([f"<@&{role}>" for role in sorted(ids)])


def _mentions(mentions: list[str]) -> str:
    """At most `_IDS_SHOWN`, so that /admin show fits in a message (`/admin export` has them all)."""
    more = f" and {len(mentions) - _IDS_SHOWN} more" if len(mentions) > _IDS_SHOWN else ""
    return " ".join(mentions[:_IDS_SHOWN]) + more or "none"
