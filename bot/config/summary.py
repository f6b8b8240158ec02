"""Configuration as admins and members read it in Discord."""

from bot.config.guild import GuildConfig
from bot.config.member import MemberPreferences, Posting
from bot.config.store import AuditEntry
from jobs.prompt import PromptError
from jobs.specs import Safety

_NSFW = {
    Safety.BLOCK: "flagged images are blocked",
    Safety.SPOILER: "flagged images are hidden behind a spoiler",
    Safety.OFF: "no check",
}


def guild(config: GuildConfig, offered: list[str], default_model: str) -> str:
    """`/admin show`."""
    channels, limits, roles, moderation = config.channels, config.limits, config.roles, config.moderation
    where = "every channel" if channels.everywhere else "only the channels allowed below"
    lines = [
        f"**Configuration** (revision {config.revision})",
        f"**Channels:** on in {where}",
        f"- allowed: {_channels(channels.allowed)}",
        f"- denied: {_channels(channels.denied)}",
        f"**Limits per member:** {limits.running} running · {limits.waiting} waiting"
        f" · {limits.hourly or 'no'} hourly limit",
        f"- largest side: {f'{limits.max_side} px' if limits.max_side else 'the model’s own limit'}"
        f" · most steps: {limits.max_steps or 'the model’s own limit'}",
        f"**Models offered:** {', '.join(f'`{name}`' for name in offered) or 'none'}"
        f" · default `{default_model}`",
        f"**Roles that may use me:** {_roles(roles.allowed) if roles.allowed else 'everyone'}",
        f"**Roles exempt from the hourly limit:** {_roles(roles.exempt)}",
        f"**Moderation:** {len(moderation.words)} banned words · {len(moderation.patterns)} patterns"
        f" (`/admin moderation list`)",
        f"**NSFW outside age-restricted channels:** {_NSFW[moderation.nsfw]}",
    ]
    return "\n".join(lines)


def banned(config: GuildConfig) -> str:
    """`/admin moderation list`: for admins only."""
    words = ", ".join(f"`{word}`" for word in config.moderation.words) or "none"
    patterns = "\n".join(f"- `{pattern}`" for pattern in config.moderation.patterns) or "none"
    return f"**Banned words:** {words}\n**Banned patterns:**\n{patterns}"


def audit(entries: list[AuditEntry]) -> str:
    if not entries:
        return "No changes recorded yet."
    lines = []
    for entry in entries:
        changes = "; ".join(entry.changes)
        lines.append(f"<t:{int(entry.at)}:f> <@{entry.actor_id}> (r{entry.revision}): {changes}")
    return "\n".join(lines)


def changes(lines: tuple[str, ...]) -> str:
    if not lines:
        return "Nothing changed: that was already the setting."
    return "Saved:\n" + "\n".join(f"- `{line}`" for line in lines)


def preferences(preferences: MemberPreferences, fallback_strength: str) -> str:
    """`/settings` and `/prefer list`."""
    aspect = preferences.aspect or "the model's"
    quality = preferences.quality if preferences.quality is not None else "1"
    strength = (preferences.vary_strength or fallback_strength).title()
    lines = [
        "**Your settings**",
        f"- model: {f'`{preferences.model}`' if preferences.model else 'the server default'}",
        f"- aspect ratio: {aspect} · quality: {quality} · steps: {preferences.steps or 'the model default'}",
        f"- variations (V1–V4): {strength}",
        f"- results: {'in your DMs' if preferences.posting is Posting.DM else 'in the channel'}",
        f"**Suffix:** {f'`{preferences.suffix}`' if preferences.suffix else 'none'}",
        "**Your options:**" + ("" if preferences.options else " none"),
    ]
    lines += [f"- `--{name}` → `{flags}`" for name, flags in sorted(preferences.options.items())]
    return "\n".join(lines)


def prompt_problem(error: PromptError) -> str:
    return f"Those flags need a change: {error}"


def _channels(ids: frozenset[int]) -> str:
    return " ".join(f"<#{channel}>" for channel in sorted(ids)) or "none"


def _roles(ids: frozenset[int]) -> str:
    return " ".join(f"<@&{role}>" for role in sorted(ids)) or "none"
