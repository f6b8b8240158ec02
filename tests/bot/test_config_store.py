"""Server and member documents in Redis: validated, versioned, audited, safe under concurrent changes."""

import json
import threading
import time

import pytest
from redis import Redis

from bot.rules.guild import ChannelRules, GuildConfig
from bot.rules.store import ConfigError, ConfigStore, read_document, read_import


def test_a_new_server_gets_the_defaults(redis: Redis) -> None:
    config = ConfigStore(redis).guild(1)
    assert config == GuildConfig()
    assert (config.limits.running, config.limits.waiting, config.limits.hourly) == (3, 10, None)
    assert config.channels.allows([123])
    assert config.limits.loras == 4 and config.loras.offers("ink")


def test_a_document_saved_before_loras_loads_with_every_lora_offered() -> None:
    config = read_document(
        GuildConfig, _document(revision=2, limits={"waiting": 4}, models={"offered": ["tiny"]})
    )
    assert (config.limits.waiting, config.limits.loras, config.loras.offered) == (4, 4, None)


def test_a_change_bumps_the_revision_and_is_audited(redis: Redis) -> None:
    store = ConfigStore(redis)

    def lower(config: GuildConfig) -> GuildConfig:
        return config.model_copy(update={"limits": config.limits.model_copy(update={"waiting": 4})})

    config, lines = store.change_guild(1, 7, "ada", lower)
    assert (config.revision, lines) == (1, ("limits.waiting: 10 → 4",))
    assert store.guild(1) == config
    _, again = store.change_guild(1, 7, "ada", lower)
    assert again == () and store.guild(1).revision == 1  # nothing changed: no revision, no entry
    [entry] = store.audit(1, 10)
    assert (entry.actor_id, entry.actor, entry.revision, entry.changes) == (7, "ada", 1, lines)
    assert store.guild(2).revision == 0  # other servers are untouched


def test_an_invalid_change_is_refused_and_nothing_is_saved(redis: Redis) -> None:
    store = ConfigStore(redis)

    def break_it(config: GuildConfig) -> GuildConfig:
        return config.model_copy(update={"limits": config.limits.model_copy(update={"running": 0})})

    with pytest.raises(ConfigError, match=r"limits\.running"):
        store.change_guild(1, 7, "ada", break_it)
    assert store.guild(1).revision == 0 and store.audit(1, 10) == []


def test_concurrent_changes_from_two_admins_both_survive(redis: Redis) -> None:
    store = ConfigStore(redis)
    barrier = threading.Barrier(2)

    def add(channel: int) -> None:
        attempts = []

        def change(config: GuildConfig) -> GuildConfig:
            attempts.append(config.revision)
            if len(attempts) == 1:
                barrier.wait(timeout=5)  # both read the same revision before either writes
            return config.model_copy(update={"channels": config.channels.deny(channel)})

        store.change_guild(1, channel, "admin", change)

    threads = [threading.Thread(target=add, args=(channel,)) for channel in (11, 12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    config = store.guild(1)
    assert config.channels.denied == {11, 12}
    assert config.revision == 2


def test_member_preferences_round_trip(redis: Redis) -> None:
    store = ConfigStore(redis)
    saved = store.change_member(5, lambda p: p.model_copy(update={"options": {"wide": "--ar 2:1"}}))
    assert store.member(5) == saved and saved.revision == 1
    assert store.member(6).options == {}


def test_channel_rules_follow_the_most_specific_setting() -> None:
    rules = ChannelRules().deny(1)
    assert not rules.allows([1]) and rules.allows([2])
    assert rules.allows([3, 2]) and not rules.allows([3, 1])  # a thread follows its parent
    only = ChannelRules().deny(None).allow(2)
    assert only.allows([2]) and not only.allows([1])
    assert ChannelRules().deny(None).allow(None).allows([1])


def test_documents_from_newer_versions_or_with_unknown_fields_are_refused() -> None:
    with pytest.raises(ConfigError, match="schema_version"):
        read_document(GuildConfig, '{"schema_version": 2}')
    with pytest.raises(ConfigError, match=r"limits\.burst"):
        read_document(GuildConfig, '{"limits": {"burst": 2}}')
    with pytest.raises(ConfigError, match="not a pattern I can use"):
        read_import('{"moderation": {"patterns": ["("]}}', CATALOG, LORAS)


def _document(**parts: object) -> str:
    return json.dumps(parts)


CATALOG = ("tiny", "shapes")
LORAS = ("ink", "paper")


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        (_document(limits={"running": "3"}), r"limits\.running: Input should be a valid integer"),
        (_document(limits={"hourly": 2.0}), r"limits\.hourly"),
        (_document(channels={"everywhere": "yes"}), r"channels\.everywhere"),
        (_document(models={"default": "sdxl"}), "no model `sdxl`. They serve: `tiny`, `shapes`"),
        (_document(models={"offered": ["tiny", "flux"]}), "no model `flux`"),
        (_document(models={"offered": ["tiny"], "default": "shapes"}), "`shapes` isn't offered"),
        (_document(moderation={"words": ["x" * 400]}), "100 characters"),
        (_document(moderation={"words": ["ß" * 60]}), "100 characters"),  # 120 once folded
        (_document(moderation={"patterns": ["(?:a{3000}){3000}"]}), "repeats too much"),
        (_document(moderation={"patterns": ["(?<!x)cat"]}), "RE2"),
        (_document(moderation={"strict": 1}), r"moderation\.strict"),
        (_document(channels={"denied": [-1]}), r"channels\.denied"),
        (_document(channels={"allowed": [0]}), r"channels\.allowed"),
        (_document(roles={"exempt": [2**63]}), r"roles\.exempt"),
        (_document(roles={"allowed": ["123"]}), r"roles\.allowed"),
        (_document(loras={"offered": ["ink", "gouache"]}), "no LoRA `gouache`. It has: `ink`, `paper`"),
        (_document(limits={"loras": 9}), r"limits\.loras"),
    ],
)
def test_an_import_is_strict_and_names_what_is_wrong(document: str, reason: str) -> None:
    with pytest.raises(ConfigError, match=reason):
        read_import(document, CATALOG, LORAS)


def test_an_export_imports_back_unchanged() -> None:
    config = read_document(
        GuildConfig,
        _document(
            channels={"denied": [2**63 - 1, 5]},
            models={"offered": ["tiny"], "default": "tiny"},
            loras={"offered": ["paper"]},
            limits={"loras": 0},
            moderation={"words": ["Spider"], "patterns": [r"d[o0]g"], "nsfw": "spoiler", "strict": True},
        ),
    )
    assert read_import(config.model_dump_json(), CATALOG, LORAS) == config
    assert config.moderation.words == ("spider",) and config.moderation.strict


def test_a_hostile_pattern_is_refused_fast_and_nothing_is_saved(redis: Redis) -> None:
    store = ConfigStore(redis)

    def ban(pattern: str):
        return lambda c: c.model_copy(
            update={
                "moderation": c.moderation.model_copy(update={"patterns": (*c.moderation.patterns, pattern)})
            }
        )

    started = time.perf_counter()
    with pytest.raises(ConfigError, match="repeats too much"):
        store.change_guild(1, 7, "ada", ban(r"(?:a{3000}){3000}"))
    assert time.perf_counter() - started < 0.5
    assert store.guild(1).revision == 0


def test_a_stored_document_from_before_the_checks_still_loads_and_changes(redis: Redis) -> None:
    """Saved before RE2 and the stricter limits: it loads as it is (matching skips the unusable
    pattern), other settings can still be changed, and a new unusable pattern is refused."""
    store = ConfigStore(redis)
    old = {
        "revision": 3,
        "channels": {"denied": [0]},
        "moderation": {"words": ["y" * 400], "patterns": ["(?:a{3000}){3000}", "(?<!x)dog"]},
    }
    redis.set("imagine:guild:1:config", json.dumps(old))
    started = time.perf_counter()
    config = store.guild(1)
    assert time.perf_counter() - started < 0.5
    assert config.moderation.patterns == ("(?:a{3000}){3000}", "(?<!x)dog")
    assert config.channels.denied == {0} and config.moderation.words == ("y" * 400,)

    def lower(c: GuildConfig) -> GuildConfig:
        return c.model_copy(update={"limits": c.limits.model_copy(update={"waiting": 4})})

    changed, _ = store.change_guild(1, 7, "ada", lower)
    assert changed.limits.waiting == 4 and changed.moderation.patterns == config.moderation.patterns

    def add(c: GuildConfig) -> GuildConfig:
        return c.model_copy(update={"moderation": c.moderation.model_copy(update={"patterns": ("(",)})})

    with pytest.raises(ConfigError, match="not a pattern I can use"):
        store.change_guild(1, 7, "ada", add)
