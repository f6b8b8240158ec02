"""Round robin across members: a new job goes ahead of other members' later jobs in the queue.

Each waiting job has a turn: how many jobs its member already has running or waiting ahead of it.
A newly queued job moves in front of the first job with a later turn, so a member's first job
waits only for the jobs already running, however many jobs someone else has queued. Members are
told apart by the job's RQ rate-limit key (one per member); jobs without one share a turn count.
"""

from redis import Redis
from rq.defaults import RQ_KEY_PREFIX
from rq.job import Job
from rq.queue import Queue

# KEYS: the queue's list. ARGV: job id, job hash prefix, rate-limit key prefix.
# Returns the job's 0-based place in the queue after the move, or -1 when it is not in the queue
# (a worker already took it, or it is held back by its member's running limit).
_TAKE_TURN = """
local ids = redis.call('LRANGE', KEYS[1], 0, -1)
local owners, queued, mine = {}, {}, nil
for i, id in ipairs(ids) do
    local owner = redis.call('HGET', ARGV[2] .. id, 'rate_limit_key') or ''
    owners[i] = owner
    queued[owner] = (queued[owner] or 0) + 1
    if id == ARGV[1] then mine = i end
end
if mine == nil then return -1 end
local ahead, turns = {}, {}
for i = 1, mine do
    local owner = owners[i]
    if ahead[owner] == nil then
        local running = 0
        if owner ~= '' then
            running = redis.call('ZCARD', ARGV[3] .. owner .. ':allowed') - queued[owner]
        end
        ahead[owner] = math.max(running, 0)
    end
    turns[i] = ahead[owner]
    ahead[owner] = ahead[owner] + 1
end
for i = 1, mine - 1 do
    if turns[i] > turns[mine] then
        redis.call('LREM', KEYS[1], 1, ARGV[1])
        redis.call('LINSERT', KEYS[1], 'BEFORE', ids[i], ARGV[1])
        return i - 1
    end
end
return mine - 1
"""


class TurnTaker:
    """Moves newly queued jobs to their member's turn."""

    def __init__(self, redis: Redis) -> None:
        self._script = redis.register_script(_TAKE_TURN)

    def take_turn(self, queue: Queue, job_id: str) -> int | None:
        """The job's 0-based place in `queue` after moving it; None when it is not in the queue."""
        args = [job_id, Job.redis_job_namespace_prefix, f"{RQ_KEY_PREFIX}:rl:"]
        place = self._script(keys=[queue.key], args=args)
        return None if place < 0 else int(place)
