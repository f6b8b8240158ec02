"""A server's rules applied to one request: where, who, what may be drawn, how big, and how many."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import discord

from bot.rules.guild import GuildConfig
from bot.rules.member import MemberPreferences
from bot.rules.moderation import banned_terms
from bot.rules.quotas import Quotas
from bot.rules.store import ConfigStore
from jobs.errors import MemberError
from jobs.expansion import member_prompt
from jobs.lanes import Lane
from jobs.permutations import parse_combinations
from jobs.prompt import ParsedPrompt, prompt_text
from jobs.resolve import as_fast, within_limits
from jobs.specs import DescribeSpec, ImageSpec, JobSpec, Safety
from models.catalog import Catalog


class Refusal(MemberError):
    """Why a request cannot be served, in words for the member."""


@dataclass(frozen=True)
class Asker:
    """Who asks, and where."""

    member_id: int
    guild_id: int | None
    role_ids: frozenset[int]
    channel_ids: tuple[int, ...]
    """The channel, then its parent for a thread."""
    age_restricted: bool

    @classmethod
    def of(cls, interaction: discord.Interaction) -> "Asker":
        channel = interaction.channel
        parent_id = getattr(channel, "parent_id", None)
        roles = getattr(interaction.user, "roles", [])
        is_nsfw = getattr(channel, "is_nsfw", None)
        return cls(
            member_id=interaction.user.id,
            guild_id=interaction.guild_id,
            role_ids=frozenset(role.id for role in roles),
            channel_ids=tuple(i for i in (interaction.channel_id, parent_id) if i is not None),
            age_restricted=bool(is_nsfw and is_nsfw()),
        )


@dataclass(frozen=True)
class Terms:
    """What applies to one request: the server's configuration and the member's preferences."""

    asker: Asker
    guild_id: int | None
    """The server whose rules these are: where the member asked, or for a DM the job's server."""
    config: GuildConfig
    preferences: MemberPreferences


class Policy:
    def __init__(self, store: ConfigStore, quotas: Quotas, catalog: Catalog) -> None:
        self._store = store
        self._quotas = quotas
        self._catalog = catalog

    def terms(self, asker: Asker, guild_id: int | None = None) -> Terms:
        """The rules for `asker`, in `guild_id` (a click in a DM names the server the job came from)."""
        server = asker.guild_id or guild_id
        config = self._store.guild(server) if server else GuildConfig()
        preferences = self._store.member(asker.member_id)
        return Terms(asker=asker, guild_id=server, config=config, preferences=preferences)

    def admit(self, terms: Terms) -> None:
        """Refuses a channel where the bot is off, or a member without an allowed role."""
        config, asker = terms.config, terms.asker
        if asker.guild_id is None:  # a button in a DM: the job's channel and roles were checked
            return
        if not config.channels.allows(asker.channel_ids):
            places = " ".join(f"<#{channel}>" for channel in sorted(config.channels.allowed)[:5])
            where = f" Try {places}." if places else ""
            raise Refusal(f"I'm switched off in this channel.{where}")
        if config.roles.allowed and not config.roles.allowed & asker.role_ids:
            roles = " ".join(f"<@&{role}>" for role in sorted(config.roles.allowed)[:5])
            raise Refusal(f"On this server, only members with one of these roles can use me: {roles}")

    def prompts(self, terms: Terms, text: str) -> list[tuple[str, ParsedPrompt]]:
        """Each `{…}` combination of the member's prompt, with their shortcuts, suffix and defaults,
        then the server's (its model aliases for `--v` and `--niji` among them)."""
        preferences = terms.preferences
        defaults = {"model": self.default_model(terms.config), **preferences.defaults()}

        def parse(combination: str) -> ParsedPrompt:
            return member_prompt(
                combination,
                options=preferences.options,
                suffix=preferences.suffix,
                defaults=defaults,
                aliases=terms.config.models.aliases,
                style_codes=terms.config.styles.codes,
            )

        return parse_combinations(text, parse)

    def shape(self, terms: Terms, spec: JobSpec) -> JobSpec:
        """`spec` as this server allows it: an offered model, offered LoRAs within the limit, no banned
        terms, steps and size within the limits (lowered, with a note, for a new grid), and its NSFW
        check."""
        config = terms.config
        model = spec.model
        if not config.models.offers(model):
            offered = ", ".join(f"`{name}`" for name in self.offered(config))
            raise Refusal(f"The model `{model}` isn't offered on this server. Use one of: {offered}")
        safety = Safety.OFF if terms.asker.age_restricted else config.moderation.nsfw
        if isinstance(spec, DescribeSpec):  # no prompt, no images made: the image is checked
            return spec.model_copy(update={"safety": safety})
        self._check_loras(config, [lora.name for lora in spec.generation.loras])
        terms_text = f"{prompt_text(spec.generation.prompt)} {spec.generation.negative}"
        moderation = config.moderation
        if banned_terms(moderation.words, moderation.patterns, moderation.strict).found_in(terms_text):
            raise Refusal(
                "This prompt uses a word or phrase this server doesn't allow."
                " Please rephrase it and try again."
            )
        limited = within_limits(
            spec,
            max_side=config.limits.max_side,
            max_steps=config.limits.max_steps,
            size_multiple=self._catalog.get(model).profile().size_multiple,
        )
        return limited.model_copy(update={"safety": safety})

    def offered(self, config: GuildConfig) -> list[str]:
        return [name for name in self._catalog.names if config.models.offers(name)]

    def offered_loras(self, config: GuildConfig) -> list[str]:
        return [name for name in self._catalog.lora_names if config.loras.offers(name)]

    def _check_loras(self, config: GuildConfig, names: list[str]) -> None:
        """Refuses more LoRAs than the server allows a job, or one it does not offer."""
        most = config.limits.loras
        if names and not most:
            raise Refusal(f"LoRAs are off on this server: leave out `{names[0]}` and try again.")
        if len(names) > most:
            raise Refusal(
                f"That prompt uses {len(names)} LoRAs, and this server allows {most} a job. Leave some out."
            )
        refused = [name for name in names if not config.loras.offers(name)]
        if refused:
            offered = ", ".join(f"`{name}`" for name in self.offered_loras(config))
            use = f"Use one of: {offered}" if offered else "It offers none: leave it out."
            raise Refusal(f"The LoRA `{refused[0]}` isn't offered on this server. {use}")

    def default_model(self, config: GuildConfig) -> str:
        """The server's default, else the catalog's if offered, else the first model offered."""
        if config.models.default:
            return config.models.default
        offered = self.offered(config)
        return self._catalog.default if self._catalog.default in offered or not offered else offered[0]

    def captioning_model(self, config: GuildConfig) -> str:
        """The model whose captioner `/describe` uses: the server's default model when it has one,
        else the first offered model that does."""
        offered = self.offered(config)
        for name in [self.default_model(config), *offered]:
            if name in offered and self._catalog.get(name).captioner is not None:
                return name
        raise Refusal("/describe needs a model with a captioner, and this server offers none: ask an admin.")

    def reserve(self, terms: Terms, specs: Sequence[JobSpec]) -> list[JobSpec]:
        """Counts the jobs against the member's limits, all or none: else refuses them, saying
        which limit and when it frees. Returns them as they run: a `--turbo` job past the member's
        turbo allowance runs as `--fast`, with a note."""
        limits, asker = terms.config.limits, terms.asker
        count, waiting = len(specs), self._quotas.waiting(asker.member_id)
        if waiting >= limits.waiting:
            raise Refusal(
                f"You have {waiting} jobs waiting to start, this server's limit. A place frees as soon as"
                " one of them starts: `/info` shows them."
            )
        if waiting + count > limits.waiting:
            raise Refusal(
                f"That prompt makes {count} jobs, and you have room for {limits.waiting - waiting} more"
                f" waiting to start (this server's limit is {limits.waiting}). Ask for fewer, or wait"
                " until some start: `/info` shows them."
            )
        self._take_hourly(terms, [spec.job_id for spec in specs])
        return [
            self._take_turbo(terms, spec)
            if not isinstance(spec, DescribeSpec) and spec.lane is Lane.TURBO
            else spec
            for spec in specs
        ]

    def _take_hourly(self, terms: Terms, job_ids: Sequence[str]) -> None:
        """Counts the jobs against the member's hourly limit in this server, or refuses them all."""
        limits, asker, count = terms.config.limits, terms.asker, len(job_ids)
        exempt = terms.config.roles.exempt & asker.role_ids
        if not limits.hourly or not terms.guild_id or exempt:
            return
        if count > limits.hourly:
            raise Refusal(
                f"That prompt makes {count} jobs, more than this server's hourly limit of {limits.hourly}."
                " Ask for fewer."
            )
        frees_at = self._quotas.take_hourly(terms.guild_id, asker.member_id, job_ids, limits.hourly)
        if frees_at is None:
            return
        when = discord.utils.format_dt(datetime.fromtimestamp(frees_at, UTC), "R")
        if count == 1:
            raise Refusal(
                f"You've started {limits.hourly} jobs in the past hour, this server's hourly limit."
                f" Your next one frees {when}."
            )
        raise Refusal(
            f"That prompt makes {count} jobs, which would pass this server's hourly limit of"
            f" {limits.hourly}. There's room for all of them {when}."
        )

    def _take_turbo(self, terms: Terms, spec: ImageSpec) -> ImageSpec:
        """Counts a `--turbo` job against the member's turbo allowance in this server; past it, or
        where turbo is off, the job runs as `--fast` (never refused), with a note saying why."""
        allowance = terms.config.limits.turbo_hourly
        if not allowance or not terms.guild_id:
            return as_fast(spec, "`--turbo` ran as `--fast`: this server has turbo off")
        frees_at = self._quotas.take_turbo(terms.guild_id, terms.asker.member_id, [spec.job_id], allowance)
        if frees_at is None:
            return spec
        when = discord.utils.format_dt(datetime.fromtimestamp(frees_at, UTC), "R")
        return as_fast(
            spec,
            f"`--turbo` ran as `--fast`: this server allows {allowance} turbo"
            f" job{'s' if allowance > 1 else ''} an hour and you've used {'them' if allowance > 1 else 'it'}"
            f" (the next frees {when})",
        )

    def limits_left(self, terms: Terms) -> str:
        """The member's limits in this server, and how much of the hourly one and of the turbo
        allowance is used."""
        limits, asker = terms.config.limits, terms.asker
        line = f"{limits.running} running · {limits.waiting} waiting"
        if not limits.hourly or not terms.guild_id:
            hourly = "no hourly limit"
        elif terms.config.roles.exempt & asker.role_ids:
            hourly = "no hourly limit for your role"
        else:
            used = self._quotas.hourly_used(terms.guild_id, asker.member_id)
            hourly = f"{limits.hourly} an hour ({min(used, limits.hourly)} used)"
        if not limits.turbo_hourly or not terms.guild_id:
            return f"{line} · {hourly} · turbo off"
        used = min(self._quotas.turbo_used(terms.guild_id, asker.member_id), limits.turbo_hourly)
        return f"{line} · {hourly} · turbo: {limits.turbo_hourly} an hour ({used} used)"

    def release(self, terms: Terms, job_ids: Sequence[str]) -> None:
        """Gives back what `reserve` counted, for jobs that could not be queued."""
        if terms.guild_id and job_ids:
            self._quotas.give_back_hourly(terms.guild_id, terms.asker.member_id, job_ids)
            self._quotas.give_back_turbo(terms.guild_id, terms.asker.member_id, job_ids)
