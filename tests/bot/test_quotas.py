"""The hourly window against a real Redis: several jobs take their places together, or none does."""

import time

import pytest
from redis import Redis

from bot.delivery.deliveries import DeliveryBook
from bot.rules.quotas import Quotas
from broker.windows import HOUR
from jobs import keys

GUILD, MEMBER = 1, 2


@pytest.fixture
def quotas(redis: Redis) -> Quotas:
    return Quotas(redis, DeliveryBook(redis, 3600))


def test_jobs_that_fit_are_all_counted(quotas: Quotas) -> None:
    assert quotas.take_hourly(GUILD, MEMBER, ["a", "b", "c"], 4) is None
    assert quotas.hourly_used(GUILD, MEMBER) == 3
    assert quotas.take_hourly(GUILD, MEMBER, ["d"], 4) is None


def test_jobs_that_do_not_all_fit_count_none_and_learn_when_they_will(quotas: Quotas, redis: Redis) -> None:
    now = time.time()
    redis.zadd(keys.hourly_key(GUILD, MEMBER), {"old": now - 300, "older": now - 600, "new": now - 60})
    # Limit 4, 3 used: 3 more need two places freed, the second oldest's at its hour's end.
    assert quotas.take_hourly(GUILD, MEMBER, ["x", "y", "z"], 4) == pytest.approx(now - 300 + HOUR)
    assert quotas.hourly_used(GUILD, MEMBER) == 3
    quotas.give_back_hourly(GUILD, MEMBER, ["old", "new"])
    assert quotas.hourly_used(GUILD, MEMBER) == 1


def test_more_jobs_than_the_limit_are_a_caller_error(quotas: Quotas) -> None:
    with pytest.raises(ValueError, match="never fit"):
        quotas.take_hourly(GUILD, MEMBER, ["a", "b"], 1)
