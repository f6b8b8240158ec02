"""How much each member has asked of the GPUs: jobs waiting now, and jobs started in the last hour."""

import time
from collections.abc import Sequence

from redis import Redis
from rq.job import JobStatus

from bot.delivery.deliveries import DeliveryBook
from broker import monitor
from jobs import keys

HOUR = 3600
_WAITING = {JobStatus.QUEUED, JobStatus.RATE_LIMITED, JobStatus.DEFERRED, JobStatus.SCHEDULED}

# KEYS: the member's window. ARGV: now, window seconds, limit, then the job ids (at most `limit`).
# Takes a place in the window for every job, or for none and returns the time the place was taken
# whose end leaves room for them all.
_TAKE_PLACES = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
local short = #ARGV - 3 - (tonumber(ARGV[3]) - redis.call('ZCARD', KEYS[1]))
if short > 0 then
    return redis.call('ZRANGE', KEYS[1], short - 1, short - 1, 'WITHSCORES')[2]
end
for i = 4, #ARGV do
    redis.call('ZADD', KEYS[1], ARGV[1], ARGV[i])
end
redis.call('EXPIRE', KEYS[1], ARGV[2])
return false
"""


class Quotas:
    def __init__(self, redis: Redis, deliveries: DeliveryBook) -> None:
        self._redis = redis
        self._deliveries = deliveries
        self._take_places = redis.register_script(_TAKE_PLACES)

    def waiting(self, member_id: int) -> int:
        """The member's jobs not yet started, in every server."""
        found = monitor.statuses(self._redis, self._deliveries.unfinished(member_id))
        return sum(1 for status in found.values() if status in _WAITING)

    def take_hourly(self, guild_id: int, member_id: int, job_ids: Sequence[str], limit: int) -> float | None:
        """Counts all of `job_ids` (at most `limit`) against the member's hourly limit in that server;
        when they don't all fit, counts none and returns when there is room for them (a timestamp)."""
        if len(job_ids) > limit:
            raise ValueError(f"{len(job_ids)} jobs can never fit an hourly limit of {limit}")
        now = time.time()
        key = keys.hourly_key(guild_id, member_id)
        taken = self._take_places(keys=[key], args=[now, HOUR, limit, *job_ids])
        return None if taken is None else float(taken) + HOUR

    def hourly_used(self, guild_id: int, member_id: int) -> int:
        """Jobs the member started in that server in the last hour."""
        return self._redis.zcount(keys.hourly_key(guild_id, member_id), time.time() - HOUR, "+inf")

    def give_back_hourly(self, guild_id: int, member_id: int, job_ids: Sequence[str]) -> None:
        """Undoes `take_hourly` for jobs that were never queued."""
        self._redis.zrem(keys.hourly_key(guild_id, member_id), *job_ids)
