"""Sliding one-hour windows of started jobs, one sorted set each: the bot's members' and the API
keys' hourly limits."""

import time
from collections.abc import Sequence

from redis import Redis

HOUR = 3600

# KEYS: the window. ARGV: now, window seconds, limit, then the job ids (at most `limit`).
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


class HourlyWindows:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._take_places = redis.register_script(_TAKE_PLACES)

    def take(self, key: str, job_ids: Sequence[str], limit: int) -> float | None:
        """Counts all of `job_ids` (at most `limit`) in the window at `key`; when they don't all fit,
        counts none and returns when there is room for them (a timestamp)."""
        if len(job_ids) > limit:
            raise ValueError(f"{len(job_ids)} jobs can never fit an hourly limit of {limit}")
        taken = self._take_places(keys=[key], args=[time.time(), HOUR, limit, *job_ids])
        return None if taken is None else float(taken) + HOUR

    def used(self, key: str) -> int:
        """Jobs counted in the last hour."""
        return self._redis.zcount(key, time.time() - HOUR, "+inf")

    def give_back(self, key: str, job_ids: Sequence[str]) -> None:
        """Undoes `take` for jobs that were never queued."""
        self._redis.zrem(key, *job_ids)
