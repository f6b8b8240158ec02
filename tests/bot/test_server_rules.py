"""A server's rules and a member's preferences, set and felt through Discord: the real bot process
against the Discord emulator and a real Redis. No worker runs unless a test starts one, so queued
jobs stay where the rules put them."""

import json
import time
from collections.abc import Iterator
from pathlib import Path

import discord as discord_py
import pytest
from redis import Redis

from bot.delivery.deliveries import DeliveryBook
from emulator import BackgroundEmulator, Upload
from emulator.commands import SUB_COMMAND, SUB_COMMAND_GROUP
from jobs import keys
from jobs.specs import JOB_SPEC, JobSpec, LoraUse
from models.catalog import load_catalog
from playground import stack
from tests.bot.conftest import BotStarter
from tests.helpers import catalog_defaulting_to

pytestmark = pytest.mark.slow

ANSWER_TIMEOUT = 10.0
MANAGE_GUILD = discord_py.Permissions(manage_guild=True).value


@pytest.fixture(scope="module")
def worker() -> Iterator[None]:
    """No worker: jobs stay queued, in the order and state the rules gave them."""
    yield None


@pytest.fixture
def redis(stack_url: str) -> Redis:
    return Redis.from_url(stack_url)


@pytest.fixture
def owner(discord: BackgroundEmulator) -> int:
    return discord.call(lambda emulator: emulator.owner_id)


@pytest.fixture
def general(discord: BackgroundEmulator) -> int:
    return discord.call(lambda emulator: emulator.channel_id("general"))


@pytest.fixture
def art(discord: BackgroundEmulator) -> int:
    return discord.call(lambda emulator: emulator.channel_id("art"))


def ask(
    discord: BackgroundEmulator,
    command: str,
    options: dict | None = None,
    *,
    user: int,
    channel: int | None = None,
    forged: bool = False,
) -> dict:
    """Uses the command and returns the bot's answer: the ephemeral one, else the public one."""
    interaction = discord.slash(command, options or {}, user_id=user, channel_id=channel, forged=forged)
    discord.wait_for(lambda _: interaction.acknowledged_at, timeout=ANSWER_TIMEOUT)
    if interaction.ephemeral:
        return interaction.ephemeral[0]
    return discord.message(interaction.original_message_id)


def imagine(discord: BackgroundEmulator, prompt: str, *, user: int, channel: int | None = None) -> dict:
    return ask(discord, "imagine", {"prompt": prompt}, user=user, channel=channel)


def queued(message: dict) -> bool:
    """Whether the answer is a public waiting message (the job was queued)."""
    return "Waiting to start" in message["content"] and not message["flags"] & 64


def member_specs(redis: Redis, member: int) -> list[JobSpec]:
    """The member's unfinished jobs, as queued, oldest first."""
    job_ids = DeliveryBook(redis, 3600).unfinished(member)
    return [JOB_SPEC.validate_json(redis.get(keys.spec_key(job_id))) for job_id in job_ids]


def _subcommands(command: dict, *, role: int, channel: int) -> Iterator[tuple[str, dict]]:
    """Every subcommand of a registered command, with each of its options filled in."""
    values = {3: "x", 4: 1, 5: True, 7: channel, 8: role, 11: Upload("c.json", b"{}")}
    for option in command.get("options", []):
        path = f"{command['name']} {option['name']}"
        if option["type"] == SUB_COMMAND_GROUP:
            yield from _subcommands({**option, "name": path}, role=role, channel=channel)
        elif option["type"] == SUB_COMMAND:
            leaves = option.get("options", [])
            yield (
                path,
                {
                    leaf["name"]: leaf["choices"][0]["value"] if leaf.get("choices") else values[leaf["type"]]
                    for leaf in leaves
                },
            )


def test_only_members_with_manage_server_change_settings_even_by_hand(
    discord: BackgroundEmulator, start_bot: BotStarter, owner: int, member: int
):
    start_bot()
    with pytest.raises(PermissionError):  # Discord does not even show them the command
        discord.slash("admin limits set", {"waiting": 1}, user_id=member)
    [admin] = [c for c in discord.call(lambda e: e.commands(e.guild_id)) if c["name"] == "admin"]
    role = discord.call(lambda emulator: emulator.add_role("artists", 0))
    general = discord.call(lambda emulator: emulator.channel_id("general"))
    subcommands = list(_subcommands(admin, role=role, channel=general))
    assert len(subcommands) == 29
    for command, options in subcommands:
        answer = ask(discord, command, options, user=member, forged=True)
        assert "Manage Server" in answer["content"], command
    assert "revision 0" in ask(discord, "admin show", user=owner)["content"]
    assert ask(discord, "admin audit", user=owner)["content"] == "No changes recorded yet."

    manager = discord.call(
        lambda emulator: emulator.add_member("mod", roles=[emulator.add_role("mods", MANAGE_GUILD)])
    )
    assert (
        "limits.waiting: 10 → 1" in ask(discord, "admin limits set", {"waiting": 1}, user=manager)["content"]
    )


def test_a_denied_channel_refuses_imagine_and_an_allowed_one_serves(
    discord: BackgroundEmulator, start_bot: BotStarter, owner: int, member: int, general: int, art: int
):
    start_bot()
    ask(discord, "admin channels deny", {"channel": art}, user=owner)
    refused = imagine(discord, "a fox", user=member, channel=art)
    assert "switched off in this channel" in refused["content"]
    assert discord.messages(art) == []
    assert queued(imagine(discord, "a fox", user=member, channel=general))

    ask(discord, "admin channels deny", user=owner)  # everywhere …
    ask(discord, "admin channels allow", {"channel": art}, user=owner)  # … but #art
    refused = imagine(discord, "a fox", user=member, channel=general)
    assert f"Try <#{art}>" in refused["content"]
    assert queued(imagine(discord, "a fox", user=member, channel=art))


def test_only_members_with_an_allowed_role_may_use_the_bot(
    discord: BackgroundEmulator, start_bot: BotStarter, owner: int, member: int
):
    start_bot()
    artists = discord.call(lambda emulator: emulator.add_role("artists", 0))
    artist = discord.call(lambda emulator: emulator.add_member("painter", roles=[artists]))
    ask(discord, "admin roles allow", {"role": artists}, user=owner)
    assert f"<@&{artists}>" in imagine(discord, "a fox", user=member)["content"]
    assert queued(imagine(discord, "a fox", user=artist))


def test_a_banned_word_is_refused_in_any_case_or_accents_and_never_repeated(
    discord: BackgroundEmulator, start_bot: BotStarter, owner: int, member: int, general: int, redis: Redis
):
    start_bot()
    ask(discord, "admin moderation ban", {"word": "Château"}, user=owner)
    ask(discord, "admin moderation ban-pattern", {"pattern": r"d[o0]g+y"}, user=owner)
    before = redis.xlen(keys.EVENTS_STREAM)
    for prompt in [
        "a CHATEAU at dusk",
        "a château",
        "an old chÂteau --ar 3:2",
        "a D0GGY",
        "a cat --no doggy",
    ]:
        refused = imagine(discord, prompt, user=member, channel=general)
        assert "doesn't allow" in refused["content"]
        assert "teau" not in refused["content"].lower() and "dog" not in refused["content"].lower()
    assert discord.messages(general) == []
    assert redis.xlen(keys.EVENTS_STREAM) == before
    assert queued(imagine(discord, "a chat, a dog and a chateaubriand", user=member, channel=general))
    listed = ask(discord, "admin moderation list", user=owner)["content"]
    assert "`chateau`" in listed and r"`d[o0]g+y`" in listed


def test_a_hostile_pattern_is_refused_at_once_and_the_bot_keeps_answering(
    discord: BackgroundEmulator, start_bot: BotStarter, owner: int, member: int
):
    start_bot()
    started = time.monotonic()
    refused = ask(discord, "admin moderation ban-pattern", {"pattern": "(?:a{3000}){3000}"}, user=owner)
    assert "repeats too much" in refused["content"] and "RE2" in refused["content"]
    assert queued(imagine(discord, "a fox", user=member))  # nothing was stalled meanwhile
    assert time.monotonic() - started < 3
    listed = ask(discord, "admin moderation list", user=owner)["content"]
    assert "3000" not in listed and "revision 0" in ask(discord, "admin show", user=owner)["content"]


def test_strict_mode_catches_stand_ins_and_spaced_letters_and_is_audited(
    discord: BackgroundEmulator, start_bot: BotStarter, owner: int, member: int
):
    start_bot()
    ask(discord, "admin moderation ban", {"word": "cat"}, user=owner)
    assert "doesn't allow" in imagine(discord, "a c\u0430t on _cat_ mat", user=member)["content"]
    assert queued(imagine(discord, "a c4t", user=member))
    saved = ask(discord, "admin moderation strict", {"setting": "on"}, user=owner)["content"]
    assert "moderation.strict: False → True" in saved
    for prompt in ["a c4t", "a c @ t", "a c.a.t"]:
        assert "doesn't allow" in imagine(discord, prompt, user=member)["content"], prompt
    assert queued(imagine(discord, "a scatter of cathedrals", user=member))
    assert "strict mode on" in ask(discord, "admin show", user=owner)["content"]
    exported = json.loads(ask(discord, "admin export", user=owner)["attachments"][0]["data"])
    assert exported["moderation"]["strict"] is True
    assert "moderation.strict" in ask(discord, "admin audit", user=owner)["content"]


def test_a_stored_pattern_re2_refuses_is_listed_as_not_in_use_and_the_rest_still_apply(
    discord: BackgroundEmulator, start_bot: BotStarter, owner: int, member: int, redis: Redis
):
    guild = discord.call(lambda emulator: emulator.guild_id)
    stored = {"moderation": {"words": ["owl"], "patterns": ["(?:a{3000}){3000}", "(?<!x)dog"]}}
    redis.set(f"imagine:guild:{guild}:config", json.dumps(stored))
    start_bot()
    listed = ask(discord, "admin moderation list", user=owner)["content"]
    assert "`(?<!x)dog` (not in use:" in listed and "RE2" in listed
    assert "2 patterns (2 not in use)" in ask(discord, "admin show", user=owner)["content"]
    assert "doesn't allow" in imagine(discord, "an owl", user=member)["content"]
    assert queued(imagine(discord, "a dog", user=member))
    ask(discord, "admin moderation unban-pattern", {"pattern": "(?<!x)dog"}, user=owner)
    assert "(not in use" in ask(discord, "admin moderation list", user=owner)["content"]


def test_long_lists_imports_and_audits_fit_in_a_message(
    discord: BackgroundEmulator, start_bot: BotStarter, owner: int
):
    start_bot()
    words = [f"forbidden-word-number-{n}" for n in range(300)]
    upload = Upload("c.json", json.dumps({"moderation": {"words": words}}).encode(), "application/json")
    imported = ask(discord, "admin import", {"file": upload}, user=owner)["content"]
    assert len(imported) <= 2000 and imported.startswith("Saved:")
    listed = ask(discord, "admin moderation list", user=owner)
    assert "too long for a message" in listed["content"]
    [attachment] = listed["attachments"]
    assert all(f"`{word}`" in attachment["data"].decode() for word in words)
    upload = Upload("c.json", json.dumps({"moderation": {"words": words[:150]}}).encode())
    ask(discord, "admin import", {"file": upload}, user=owner)
    for n in range(3):
        ask(discord, "admin moderation ban", {"word": f"{'x' * 90} {n}"}, user=owner)
    audit = ask(discord, "admin audit", {"entries": 50}, user=owner)["content"]
    assert len(audit) <= 2000 and audit.count(f"<@{owner}>") == 5


def test_jobs_over_the_waiting_limit_are_refused_saying_which_limit(
    discord: BackgroundEmulator, start_bot: BotStarter, owner: int, member: int
):
    start_bot()
    ask(discord, "admin limits set", {"waiting": 2}, user=owner)
    assert all(queued(imagine(discord, f"fox {n}", user=member)) for n in range(2))
    refused = imagine(discord, "fox 3", user=member)
    assert "2 jobs waiting to start, this server's limit" in refused["content"]
    assert "as soon as one of them starts" in refused["content"]


def test_the_hourly_limit_says_when_it_frees_and_exempt_roles_skip_it(
    discord: BackgroundEmulator, start_bot: BotStarter, owner: int, member: int
):
    start_bot()
    patrons = discord.call(lambda emulator: emulator.add_role("patrons", 0))
    patron = discord.call(lambda emulator: emulator.add_member("patron", roles=[patrons]))
    ask(discord, "admin limits set", {"hourly": 2}, user=owner)
    ask(discord, "admin roles exempt", {"role": patrons}, user=owner)
    assert all(queued(imagine(discord, f"owl {n}", user=member)) for n in range(2))
    refused = imagine(discord, "owl 3", user=member)
    assert "2 jobs in the past hour, this server's hourly limit" in refused["content"]
    assert "Your next one frees <t:" in refused["content"]
    assert "2 an hour (2 used)" in ask(discord, "info", user=member)["content"]
    assert all(queued(imagine(discord, f"owl {n}", user=patron)) for n in range(3))
    assert "no hourly limit for your role" in ask(discord, "info", user=patron)["content"]


def test_repeats_and_permutations_queue_every_job_with_its_own_message_or_none(
    discord: BackgroundEmulator, start_bot: BotStarter, owner: int, member: int, redis: Redis
):
    start_bot()
    ask(discord, "admin limits set", {"waiting": 10, "hourly": 6}, user=owner)
    interaction = discord.slash("imagine", {"prompt": "a {red, blue} fox --seed 7 --r 2"}, user_id=member)
    messages = discord.wait_for(
        lambda emulator: (
            [emulator.message(i) for i in interaction.message_ids]
            if len(interaction.message_ids) == 4
            else None
        ),
        timeout=ANSWER_TIMEOUT,
    )
    assert all(queued(message) for message in messages)
    assert [message["content"].split(" - ")[0] for message in messages] == [
        "**a red fox --seed 7 --r 2**",
        "**a red fox --seed 7 --r 2**",
        "**a blue fox --seed 7 --r 2**",
        "**a blue fox --seed 7 --r 2**",
    ]
    specs = member_specs(redis, member)  # one interaction: in no particular order
    assert sorted((spec.generation.prompt[0].text, spec.generation.seed) for spec in specs) == [
        ("a blue fox", 7),
        ("a blue fox", 11),
        ("a red fox", 7),
        ("a red fox", 11),
    ]
    book = DeliveryBook(redis, 3600)
    assert {book.get(spec.job_id).message_id for spec in specs} == {int(m["id"]) for m in messages}

    refused = imagine(discord, "an owl --r 3", user=member)
    assert "That prompt makes 3 jobs, which would pass this server's hourly limit of 6" in refused["content"]
    assert "There's room for all of them <t:" in refused["content"]
    assert "6 an hour (4 used)" in ask(discord, "info", user=member)["content"]  # none of the 3 counted
    ask(discord, "admin limits set", {"waiting": 5}, user=owner)
    refused = imagine(discord, "an owl --r 2", user=member)
    assert "That prompt makes 2 jobs, and you have room for 1 more waiting to start" in refused["content"]
    assert "this server's limit is 5" in refused["content"]
    refused = imagine(discord, "an {owl, emu, auk} --r 14", user=member)
    assert "That prompt makes 42 jobs; the most one prompt may make is 40" in refused["content"]
    assert len(member_specs(redis, member)) == 4


def test_jobs_beyond_the_running_limit_are_held_back(
    discord: BackgroundEmulator, start_bot: BotStarter, owner: int, member: int, redis: Redis
):
    start_bot()
    ask(discord, "admin limits set", {"running": 1}, user=owner)
    for n in range(3):
        imagine(discord, f"heron {n}", user=member)
    statuses = [redis.hget(f"rq:job:{spec.job_id}", "status") for spec in member_specs(redis, member)]
    assert statuses == [b"queued", b"rate_limited", b"rate_limited"]


def test_steps_and_size_are_lowered_to_the_limits_with_a_note(
    discord: BackgroundEmulator, start_bot: BotStarter, owner: int, member: int, redis: Redis
):
    start_bot()
    ask(discord, "admin limits set", {"max_steps": 10, "max_side": 64}, user=owner)
    imagine(discord, "a lynx --steps 40 --ar 2:1", user=member)
    [spec] = member_specs(redis, member)
    assert spec.generation.steps == 10
    assert (spec.generation.width, spec.generation.height) == (64, 32)
    assert spec.warnings == (
        "40 steps lowered to 10, this server's limit",
        "made at 64×32 instead of 96×48: this server's largest side is 64 px",
    )


def test_a_model_not_offered_is_refused(
    discord: BackgroundEmulator, start_bot: BotStarter, owner: int, member: int, tmp_path: Path, redis: Redis
):
    catalog = catalog_defaulting_to("tiny", tmp_path)
    text = catalog.read_text()
    start = text.index('[[models]]\nname = "tiny"\n')  # the tiny model's entry, to the next one
    tiny = text[start : text.index("[[models]]", start + 1)]
    catalog.write_text(text + "\n" + tiny.replace('name = "tiny"', 'name = "tiny-b"', 1))
    start_bot(catalog=str(catalog))
    assert (
        "that was already the setting"
        in ask(discord, "admin models offer", {"model": "tiny-b"}, user=owner)["content"]
    )
    for model in load_catalog(catalog).names[:-1]:  # every one but tiny-b
        ask(discord, "admin models withdraw", {"model": model}, user=owner)
    refused = imagine(discord, "a wren --model tiny", user=member)
    assert "isn't offered on this server. Use one of: `tiny-b`" in refused["content"]
    imagine(discord, "a wren", user=member)  # the first model offered becomes the default
    [spec] = member_specs(redis, member)
    assert spec.generation.model == "tiny-b"
    last = ask(discord, "admin models withdraw", {"model": "tiny-b"}, user=owner)
    assert "last model offered" in last["content"]


LORAS = """
[[loras]]
name = "ink"
families = ["sd15"]
source = { kind = "file", path = "loras/ink.safetensors" }

[[loras]]
name = "paper"
families = ["sd15"]
source = { kind = "file", path = "loras/paper.safetensors" }
"""
"""Two LoRAs for the tiny model; the bot never opens their files."""


def test_admins_offer_and_withdraw_loras_and_jobs_keep_to_them_and_the_limit(
    discord: BackgroundEmulator, start_bot: BotStarter, owner: int, member: int, tmp_path: Path, redis: Redis
):
    catalog = catalog_defaulting_to("tiny", tmp_path)
    catalog.write_text(catalog.read_text() + LORAS)
    start_bot(catalog=str(catalog))
    unknown = ask(discord, "admin loras offer", {"lora": "gouache"}, user=owner)["content"]
    assert unknown == "The catalog has no LoRA `gouache`. It has: `ink`, `paper`"
    saved = ask(discord, "admin loras withdraw", {"lora": "Ink"}, user=owner)["content"]
    assert "loras.offered: unset → ['paper']" in saved
    refused = imagine(discord, "a heron <lora:ink>", user=member)
    assert "The LoRA `ink` isn't offered on this server. Use one of: `paper`" in refused["content"]
    assert (
        "loras.offered: -['paper']"
        in ask(discord, "admin loras withdraw", {"lora": "paper"}, user=owner)["content"]
    )
    assert "**LoRAs offered:** none · at most 4 a job" in ask(discord, "admin show", user=owner)["content"]

    ask(discord, "admin loras all", user=owner)
    ask(discord, "admin limits set", {"loras": 1}, user=owner)
    refused = imagine(discord, "a heron <lora:ink> --lora paper", user=member)
    assert "That prompt uses 2 LoRAs, and this server allows 1 a job" in refused["content"]
    assert queued(imagine(discord, "a heron <lora:ink:0.8>", user=member))
    [spec] = member_specs(redis, member)
    assert spec.generation.loras == (LoraUse(name="ink", weight=0.8),)
    assert DeliveryBook(redis, 3600).get(spec.job_id).loras == spec.generation.loras  # for its result
    audit = ask(discord, "admin audit", user=owner)["content"]
    assert audit.count(f"<@{owner}>") == 4
    assert "loras.offered: [] → unset" in audit and "limits.loras: 4 → 1" in audit


def test_shortcuts_and_the_suffix_expand_in_prompts(
    discord: BackgroundEmulator, start_bot: BotStarter, member: int, redis: Redis
):
    start_bot()
    saved = ask(
        discord, "prefer option set", {"name": "Wide", "flags": "--ar 2:1 --sampler ddim"}, user=member
    )
    assert "`--wide` now stands for `--ar 2:1 --sampler ddim`" in saved["content"]
    ask(discord, "prefer suffix", {"flags": "--steps 3 --chaos 5"}, user=member)
    imagine(discord, "a road --wide", user=member)
    imagine(discord, "a road --steps 6", user=member)
    wide, plain = member_specs(redis, member)
    assert (wide.generation.width, wide.generation.height) == (96, 48)
    assert (wide.generation.sampler, wide.generation.steps, wide.generation.chaos) == ("ddim", 3, 5)
    assert (plain.generation.width, plain.generation.steps) == (64, 6)  # the prompt's own flags win

    listed = ask(discord, "prefer list", user=member)["content"]
    assert "`--wide` → `--ar 2:1 --sampler ddim`" in listed and "`--steps 3 --chaos 5`" in listed
    assert (
        "is already a parameter"
        in ask(discord, "prefer option set", {"name": "ar", "flags": "--q 2"}, user=member)["content"]
    )
    bad = ask(discord, "prefer option set", {"name": "x", "flags": "--ar 30:1"}, user=member)
    assert "`--ar 30:1` is too wide" in bad["content"]
    ask(discord, "prefer option remove", {"name": "--wide"}, user=member)
    ask(discord, "prefer suffix", user=member)
    refused = imagine(discord, "a road --wide", user=member)
    assert "`--wide` isn't a parameter I know" in refused["content"]


def test_settings_give_a_members_defaults(
    discord: BackgroundEmulator, start_bot: BotStarter, member: int, redis: Redis
):
    start_bot()
    ask(discord, "settings", {"aspect": "1:2", "quality": 2.0}, user=member)
    imagine(discord, "a tower", user=member)
    [spec] = member_specs(redis, member)
    assert (spec.generation.width, spec.generation.height, spec.generation.steps) == (48, 96, 8)
    assert "aspect ratio: 1:2 · quality: 2.0" in ask(discord, "settings", user=member)["content"]
    bad = ask(discord, "settings", {"aspect": "9:1"}, user=member)
    assert "too wide" in bad["content"]


def test_export_then_import_restores_the_configuration_and_the_audit_says_who(
    discord: BackgroundEmulator, start_bot: BotStarter, owner: int, art: int
):
    start_bot()
    ask(discord, "admin channels deny", {"channel": art}, user=owner)
    ask(discord, "admin limits set", {"hourly": 20, "running": 2}, user=owner)
    ask(discord, "admin moderation ban", {"word": "Spider"}, user=owner)
    ask(discord, "admin moderation nsfw", {"policy": "spoiler"}, user=owner)
    exported = ask(discord, "admin export", user=owner)
    [attachment] = exported["attachments"]
    document = json.loads(attachment["data"])
    assert document["channels"]["denied"] == [art]
    assert document["moderation"]["words"] == ["spider"]

    ask(discord, "admin limits reset", user=owner)
    ask(discord, "admin channels allow", user=owner)
    imported = ask(
        discord,
        "admin import",
        {"file": Upload("config.json", attachment["data"], "application/json")},
        user=owner,
    )
    assert "Saved:" in imported["content"]
    again = json.loads(ask(discord, "admin export", user=owner)["attachments"][0]["data"])
    assert {**again, "revision": 0} == {**document, "revision": 0}

    audit = ask(discord, "admin audit", user=owner)["content"]
    assert audit.count(f"<@{owner}>") == 7
    elsewhere = Upload("other.json", b'{"channels": {"denied": [1, %d]}}' % art)
    answer = ask(discord, "admin import", {"file": elsewhere}, user=owner)["content"]
    assert "1 channels or roles from the file are not in this server: left out" in answer
    assert "limits.hourly: 20 → unset" in audit and "channels.denied: +[" in audit


def test_a_bad_or_huge_import_is_refused_and_changes_nothing(
    discord: BackgroundEmulator, start_bot: BotStarter, owner: int
):
    start_bot()
    for upload, reason in [
        (Upload("big.json", b" " * 300_000), "Is it the right file?"),
        (Upload("photo.png", b"\x89PNG\r\n"), "I can't import `photo.png`"),
        (Upload("c.json", b'{"limits": {"running": 0}}'), "limits.running"),
        (Upload("c.json", b'{"schema_version": 9}'), "schema_version"),
        (
            Upload("c.json", b'{"limits": {"running": "3"}}'),
            "limits.running: Input should be a valid integer",
        ),
        (
            Upload("c.json", b'{"models": {"default": "sdxl"}}'),
            "no model `sdxl`. They serve: `shapes`, `tiny`, `tiny-flux`, `tiny-sd3`",
        ),
        (Upload("c.json", b'{"moderation": {"words": ["%s"]}}' % (b"x" * 400)), "over 100 characters"),
        (Upload("c.json", b'{"channels": {"denied": [0]}}'), "0 is not a Discord id"),
        (Upload("c.json", b'{"loras": {"offered": ["ink"]}}'), "the catalog has no LoRA `ink`. It has: none"),
        (Upload("c.json", b'{"moderation": {"patterns": ["(?:a{3000}){3000}"]}}'), "repeats too much"),
    ]:
        assert reason in ask(discord, "admin import", {"file": upload}, user=owner)["content"]
    assert "revision 0" in ask(discord, "admin show", user=owner)["content"]


def test_a_members_first_job_waits_only_for_the_jobs_already_running(
    discord: BackgroundEmulator,
    start_bot: BotStarter,
    member: int,
    general: int,
    stack_url: str,
    model_cache: Path,
    tmp_path: Path,
):
    Redis.from_url(stack_url).flushall()  # no jobs left queued by the tests before
    start_bot()
    other = discord.call(lambda emulator: emulator.add_member("grace"))
    catalog = catalog_defaulting_to("tiny", tmp_path)
    worker = stack.start_worker(stack_url, model_cache, tmp_path / "worker.log", catalog=str(catalog))
    try:
        first = imagine(discord, "a slow tide 0 --steps 40", user=member, channel=general)
        for n in range(1, 6):
            imagine(discord, f"a slow tide {n} --steps 40", user=member, channel=general)
        discord.wait_for(lambda emulator: "%" in emulator.message(int(first["id"]))["content"], timeout=60)
        answer = imagine(discord, "a quick fern --steps 2", user=other, channel=general)
        assert "#1 in queue" in answer["content"]

        def results(emulator) -> list[str] | None:
            posted = [m["content"] for m in emulator.messages(general) if m["components"]]
            return posted if len(posted) >= 2 else None

        posted = discord.wait_for(results, timeout=90)
        assert posted[:2] == [
            f"**a slow tide 0 --steps 40** - <@{member}>",
            f"**a quick fern --steps 2** - <@{other}>",
        ]
    finally:
        worker.stop()


def test_an_admin_s_aliases_and_style_codes_draw_midjourney_s_with_local_models_and_styles(
    discord: BackgroundEmulator, start_bot: BotStarter, owner: int, member: int, redis: Redis, tmp_path: Path
):
    catalog = catalog_defaulting_to("tiny", tmp_path)
    catalog.write_text(
        catalog.read_text() + '\n[[styles]]\nname = "ink"\nprompt = "ink drawing of {prompt}"\n'
    )
    start_bot(catalog=str(catalog))
    unknown = ask(discord, "admin styles code", {"code": "2837465", "style": "oils"}, user=owner)
    assert "The catalog has no style `oils`. It has: `ink`" in unknown["content"]
    mapped = ask(discord, "admin styles code", {"code": "2837465", "style": "ink"}, user=owner)
    assert "styles.codes.2837465: unset → ink" in mapped["content"]
    wrong = ask(discord, "admin models alias", {"name": "v9", "model": "tiny-flux"}, user=owner)
    assert "use `v1` to `v8`" in wrong["content"]
    saved = ask(discord, "admin models alias", {"name": "--v 7", "model": "tiny-flux"}, user=owner)
    assert "models.aliases.v7: unset → tiny-flux" in saved["content"]
    ask(discord, "admin models alias", {"name": "niji", "model": "tiny-sd3"}, user=owner)
    assert "`niji` → `tiny-sd3`, `v7` → `tiny-flux`" in ask(discord, "admin show", user=owner)["content"]
    prompts = (
        "a fox --v 7",
        "a fox --niji 6",
        "a fox --v 6.1",
        "a fox --v 7 --model tiny",
        "a fox --sref 2837465",
    )
    for prompt in prompts:
        assert queued(imagine(discord, prompt, user=member))
    drawn = [
        (spec.model, spec.generation.prompt[0].text, spec.warnings) for spec in member_specs(redis, member)
    ]
    assert drawn == [
        ("tiny-flux", "a fox", ()),
        ("tiny-sd3", "a fox", ()),
        ("tiny", "a fox", ("`--v 6.1` has no effect here: this server draws with `tiny`",)),
        ("tiny", "a fox", ("`--v 7` has no effect here: this server draws with `tiny`",)),
        ("tiny", "ink drawing of a fox", ()),
    ]
    removed = ask(discord, "admin models alias", {"name": "v7"}, user=owner)
    assert "models.aliases.v7: tiny-flux → unset" in removed["content"]
