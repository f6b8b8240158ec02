"""How much each member has asked of the GPUs: jobs waiting now, and jobs (and `--turbo` jobs) started
in the last hour."""

from collections.abc import Sequence

from redis import Redis

from bot.delivery.deliveries import DeliveryBook
from broker import monitor
from broker.windows import HourlyWindows
from jobs import keys


class Quotas:
    def __init__(self, redis: Redis, deliveries: DeliveryBook) -> None:
        self._redis = redis
        self._deliveries = deliveries
        self._windows = HourlyWindows(redis)

    def waiting(self, member_id: int) -> int:
        """The member's jobs not yet started, in every server."""
        return monitor.waiting(self._redis, self._deliveries.unfinished(member_id))

    def take_hourly(self, guild_id: int, member_id: int, job_ids: Sequence[str], limit: int) -> float | None:
        """Counts all of `job_ids` (at most `limit`) against the member's hourly limit in that server;
        when they don't all fit, counts none and returns when there is room for them (a timestamp)."""
        return self._windows.take(keys.hourly_key(guild_id, member_id), job_ids, limit)

    def hourly_used(self, guild_id: int, member_id: int) -> int:
        """Jobs the member started in that server in the last hour."""
        return self._windows.used(keys.hourly_key(guild_id, member_id))

    def give_back_hourly(self, guild_id: int, member_id: int, job_ids: Sequence[str]) -> None:
        """Undoes `take_hourly` for jobs that were never queued."""
        self._windows.give_back(keys.hourly_key(guild_id, member_id), job_ids)

    def take_turbo(self, guild_id: int, member_id: int, job_ids: Sequence[str], limit: int) -> float | None:
        """Like `take_hourly`, for the member's `--turbo` allowance in that server."""
        return self._windows.take(keys.turbo_key(guild_id, member_id), job_ids, limit)

    def turbo_used(self, guild_id: int, member_id: int) -> int:
        """`--turbo` jobs the member started in that server in the last hour."""
        return self._windows.used(keys.turbo_key(guild_id, member_id))

    def give_back_turbo(self, guild_id: int, member_id: int, job_ids: Sequence[str]) -> None:
        """Undoes `take_turbo` for jobs that were never queued."""
        self._windows.give_back(keys.turbo_key(guild_id, member_id), job_ids)
