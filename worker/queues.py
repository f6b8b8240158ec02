"""The queues a worker takes jobs from, as RQ's, with a clean-up lock that a dead worker cannot hold
for long."""

from typing import Final

from rq import Queue

CLEAN_UP_LOCK_SECONDS: Final = 60
"""How long one worker's registry clean-up may hold the queue's lock. RQ's own 899 s means that a
worker killed (or cut off from Redis) in the middle of a clean-up stops every worker's clean-up,
and so the retry of every abandoned job, for 15 minutes; a clean-up takes milliseconds."""


class WorkerQueue(Queue):
    def acquire_maintenance_lock(self) -> bool:
        return bool(self.connection.set(self.registry_cleaning_key, 1, nx=True, ex=CLEAN_UP_LOCK_SECONDS))
