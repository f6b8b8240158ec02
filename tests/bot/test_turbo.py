"""`--turbo` against a server's turbo allowance, in process with a real Redis: a job past it, or
where turbo is off, is never refused but runs as `--fast` with a note; `/info` shows where each
member stands."""

import re
import time

import pytest
from redis import Redis

from api.keys import ApiKey, KeyLimits
from api.submissions import Submissions
from bot.commands import info
from bot.delivery.deliveries import Delivery, DeliveryBook
from bot.rules.guild import GuildConfig, Limits
from bot.rules.member import MemberPreferences
from bot.rules.policy import Asker, Policy, Terms
from bot.rules.quotas import Quotas
from bot.rules.store import ConfigStore
from broker.events import EventLog
from broker.queues import JobSubmitter
from jobs import limits
from jobs.lanes import Lane
from jobs.prompt import parse_prompt
from jobs.resolve import describe_spec, imagine_spec, new_job_id
from jobs.specs import ImagineSpec, JobSpec, Safety, UploadRef
from models.catalog import load_catalog

CATALOG = load_catalog()
PROFILE = CATALOG.get("tiny").profile()
GUILD, MEMBER = 1, 5


@pytest.fixture
def quotas(redis: Redis) -> Quotas:
    return Quotas(redis, DeliveryBook(redis, 60))


@pytest.fixture
def policy(redis: Redis, quotas: Quotas) -> Policy:
    return Policy(ConfigStore(redis), quotas, CATALOG)


def _terms(turbo_hourly: int, guild_id: int | None = GUILD) -> Terms:
    asker = Asker(
        member_id=MEMBER, guild_id=guild_id, role_ids=frozenset(), channel_ids=(2,), age_restricted=False
    )
    config = GuildConfig(limits=Limits(turbo_hourly=turbo_hourly))
    return Terms(asker=asker, guild_id=guild_id, config=config, preferences=MemberPreferences())


def _spec(prompt: str) -> ImagineSpec:
    return imagine_spec(parse_prompt(prompt), PROFILE, requested_by=str(MEMBER))


def _lanes(specs: list[JobSpec]) -> list[Lane]:
    return [spec.lane for spec in specs]


def test_turbo_jobs_within_the_allowance_run_as_turbo_and_the_rest_as_fast(
    policy: Policy, quotas: Quotas
) -> None:
    terms = _terms(turbo_hourly=2)
    asked = [_spec("a fox --turbo"), _spec("a fox"), _spec("a fox --turbo"), _spec("a fox --turbo")]
    ran = policy.reserve(terms, asked)
    assert _lanes(ran) == [Lane.TURBO, Lane.FAST, Lane.TURBO, Lane.FAST]
    assert [spec.job_id for spec in ran] == [spec.job_id for spec in asked]
    assert ran[:3] == asked[:3]
    [note] = ran[3].warnings
    assert re.fullmatch(
        r"`--turbo` ran as `--fast`: this server allows 2 turbo jobs an hour and you've used them"
        r" \(the next frees <t:\d+:R>\)",
        note,
    )
    assert quotas.turbo_used(GUILD, MEMBER) == 2
    assert quotas.hourly_used(GUILD, MEMBER) == 0  # no hourly limit: only turbo is counted
    assert policy.limits_left(terms).endswith(" · no hourly limit · turbo: 2 an hour (2 used)")
    policy.release(terms, [ran[0].job_id])  # never queued: its turbo place frees
    assert quotas.turbo_used(GUILD, MEMBER) == 1
    assert _lanes(policy.reserve(terms, [_spec("a fox --turbo")])) == [Lane.TURBO]


def test_where_turbo_is_off_a_turbo_job_runs_as_fast(policy: Policy, quotas: Quotas) -> None:
    for terms in (_terms(turbo_hourly=0), _terms(turbo_hourly=3, guild_id=None)):
        [ran] = policy.reserve(terms, [_spec("a fox --turbo")])
        assert (ran.lane, ran.warnings) == (
            Lane.FAST,
            ("`--turbo` ran as `--fast`: this server has turbo off",),
        )
        assert policy.limits_left(terms).endswith(" · turbo off")
    assert quotas.turbo_used(GUILD, MEMBER) == 0
    [one] = policy.reserve(_terms(turbo_hourly=1), [_spec("a fox --turbo")])
    [past] = policy.reserve(_terms(turbo_hourly=1), [_spec("a fox --turbo")])
    assert one.lane is Lane.TURBO
    assert "allows 1 turbo job an hour and you've used it" in past.warnings[0]


def test_the_lane_note_keeps_within_the_warnings_caps(policy: Policy) -> None:
    full = _spec("a fox --turbo").model_copy(update={"warnings": ("x",) * limits.MAX_WARNINGS})
    [ran] = policy.reserve(_terms(turbo_hourly=0), [full])
    assert len(ran.warnings) == limits.MAX_WARNINGS
    assert ran.warnings[-1].startswith("`--turbo` ran as `--fast`")
    type(ran).model_validate(ran.model_dump())  # still a valid spec


def test_relax_fast_and_describe_jobs_take_nothing_from_the_allowance(policy: Policy, quotas: Quotas) -> None:
    describe = describe_spec("tiny", UploadRef(upload_id=new_job_id(), index=1), requested_by=str(MEMBER))
    asked = [_spec("a fox --relax"), _spec("a fox --fast"), describe]
    assert policy.reserve(_terms(turbo_hourly=1), asked) == asked
    assert quotas.turbo_used(GUILD, MEMBER) == 0


def test_quotas_count_turbo_jobs_apart_from_the_hourly_limit(quotas: Quotas) -> None:
    assert quotas.take_turbo(GUILD, MEMBER, ["a", "b"], 2) is None
    assert quotas.take_turbo(GUILD, MEMBER, ["c"], 2) is not None
    assert (quotas.turbo_used(GUILD, MEMBER), quotas.hourly_used(GUILD, MEMBER)) == (2, 0)
    assert quotas.turbo_used(GUILD + 1, MEMBER) == 0
    quotas.give_back_turbo(GUILD, MEMBER, ["a"])
    assert quotas.turbo_used(GUILD, MEMBER) == 1


def test_api_turbo_jobs_run_as_fast(redis: Redis, submitter: JobSubmitter, events: EventLog) -> None:
    submissions = Submissions(redis, events, CATALOG, submitter, safety=Safety.OFF, ttl=60)
    key = ApiKey(id="k", name="k", digest="0" * 64, limits=KeyLimits(), created=time.time())
    shaped = submissions.shape(key, _spec("a fox --turbo"))
    assert (shaped.lane, shaped.warnings) == (
        Lane.FAST,
        ("`--turbo` ran as `--fast`: API keys have no turbo allowance",),
    )
    assert submissions.shape(key, _spec("a fox --relax")).lane is Lane.RELAX


def _delivery(job_id: str, title: str) -> Delivery:
    return Delivery(
        job_id=job_id,
        title=title,
        requester_id=MEMBER,
        channel_id=7,
        guild_id=GUILD,
        application_id=3,
        interaction_token="token",
        interaction_at=time.time(),
        attachment_size_limit=10_000_000,
    )


def test_info_shows_each_waiting_jobs_lane(redis: Redis, submitter: JobSubmitter) -> None:
    deliveries = DeliveryBook(redis, 600)
    for prompt in ("a fox", "a fox --relax", "a fox --turbo"):
        spec = _spec(prompt)
        deliveries.save(_delivery(spec.job_id, prompt))
        submitter.submit(spec)
    found = info.overview(redis, CATALOG, deliveries, MEMBER)
    assert [(job.title, job.lane) for job in found.mine] == [
        ("a fox", Lane.FAST),
        ("a fox --relax", Lane.RELAX),
        ("a fox --turbo", Lane.TURBO),
    ]
    assert info.text(found).splitlines()[-3:] == [
        "- a fox · waiting · fast lane",
        "- a fox --relax · waiting · relax lane",
        "- a fox --turbo · waiting · turbo lane",
    ]
