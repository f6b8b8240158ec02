"""How much each member has asked of the GPUs: jobs waiting now, and jobs started in the last hour."""

import time

from redis import Redis
from rq.job import JobStatus

from bot.delivery.deliveries import DeliveryBook
from broker import monitor
from jobs import keys

HOUR = 3600
_WAITING = {JobStatus.QUEUED, JobStatus.RATE_LIMITED, JobStatus.DEFERRED, JobStatus.SCHEDULED}

# KEYS: the member's window. ARGV: now, window seconds, limit, job id.
# Takes a place in the window, or returns the time the oldest place in it was taken.
_TAKE_PLACE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
    return redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2]
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return false
"""


class Quotas:
    def __init__(self, redis: Redis, deliveries: DeliveryBook) -> None:
        self._redis = redis
        self._deliveries = deliveries
        self._take_place = redis.register_script(_TAKE_PLACE)

    def waiting(self, member_id: int) -> int:
        """The member's jobs not yet started, in every server."""
        found = monitor.statuses(self._redis, self._deliveries.unfinished(member_id))
        return sum(1 for status in found.values() if status in _WAITING)

    def take_hourly(self, guild_id: int, member_id: int, job_id: str, limit: int) -> float | None:
        """Counts `job_id` against the member's hourly limit in that server; when the limit is
        already reached, counts nothing and returns when the next place frees (a timestamp)."""
        now = time.time()
        key = keys.hourly_key(guild_id, member_id)
        oldest = self._take_place(keys=[key], args=[now, HOUR, limit, job_id])
        return None if oldest is None else float(oldest) + HOUR

    def hourly_used(self, guild_id: int, member_id: int) -> int:
        """Jobs the member started in that server in the last hour."""
        return self._redis.zcount(keys.hourly_key(guild_id, member_id), time.time() - HOUR, "+inf")

    def give_back_hourly(self, guild_id: int, member_id: int, job_id: str) -> None:
        """Undoes `take_hourly` for a job that was never queued."""
        self._redis.zrem(keys.hourly_key(guild_id, member_id), job_id)
