"""Priority lanes, then round robin across members: where a newly queued job waits in its queue.

Each waiting job has a lane (`jobs.lanes`: turbo, fast, relax) and a turn: how many jobs its member
already has running or waiting ahead of it. A newly queued job moves in front of the first job with
a later (lane, turn), so every turbo job waits before every fast one and every fast one before every
relax one, and within a lane a member's first job waits only for the jobs already running, however
many jobs someone else has queued. Members are told apart by the job's RQ rate-limit key (one per
member); jobs without one share a turn count. A job's lane is its RQ meta's `lane`; a job without
one (queued before lanes) counts as fast.

This runs only for jobs as they are submitted: a job RQ holds back by its member's running limit
and pushes later, when one of their jobs ends, joins the queue's end whatever its lane.
"""

import json
from collections.abc import Sequence

from redis import Redis
from rq.defaults import RQ_KEY_PREFIX
from rq.job import Job
from rq.queue import Queue

from jobs.lanes import Lane

LANE_META = "lane"
"""The RQ meta field that holds a job's lane."""

# KEYS: the queue's list. ARGV: job id, job hash prefix, rate-limit key prefix, the meta field of a
# job's lane, the rank of a job without one, then the lanes' names, first lane first.
# Returns the job's 0-based place in the queue after the move, or -1 when it is not in the queue
# (a worker already took it, or it is held back by its member's running limit).
_TAKE_TURN = """
local ranks, default_rank = {}, tonumber(ARGV[5])
for i = 6, #ARGV do ranks[ARGV[i]] = i - 6 end
local function rank_of(meta)
    if not meta then return default_rank end
    local ok, decoded = pcall(cjson.decode, meta)
    if not ok or type(decoded) ~= 'table' then return default_rank end
    return ranks[decoded[ARGV[4]]] or default_rank
end
local ids = redis.call('LRANGE', KEYS[1], 0, -1)
local owners, lanes, queued, mine = {}, {}, {}, nil
for i, id in ipairs(ids) do
    local fields = redis.call('HMGET', ARGV[2] .. id, 'rate_limit_key', 'meta')
    local owner = fields[1] or ''
    owners[i], lanes[i] = owner, rank_of(fields[2])
    queued[owner] = (queued[owner] or 0) + 1
    if id == ARGV[1] then mine = i end
end
if mine == nil then return -1 end
local running, turns = {}, {}
local function running_of(owner)
    if running[owner] == nil then
        local count = 0
        if owner ~= '' then
            count = redis.call('ZCARD', ARGV[3] .. owner .. ':allowed') - queued[owner]
        end
        running[owner] = math.max(count, 0)
    end
    return running[owner]
end
-- A waiting job's turn counts its member's jobs ahead of it; the new job's only those of its lane
-- and the lanes before, as it goes ahead of the others.
local ahead = {}
for i = 1, mine - 1 do
    local owner = owners[i]
    ahead[owner] = ahead[owner] or running_of(owner)
    turns[i] = ahead[owner]
    ahead[owner] = ahead[owner] + 1
end
local my_turn = running_of(owners[mine])
for i = 1, mine - 1 do
    if owners[i] == owners[mine] and lanes[i] <= lanes[mine] then my_turn = my_turn + 1 end
end
for i = 1, mine - 1 do
    if lanes[i] > lanes[mine] or (lanes[i] == lanes[mine] and turns[i] > my_turn) then
        redis.call('LREM', KEYS[1], 1, ARGV[1])
        redis.call('LINSERT', KEYS[1], 'BEFORE', ids[i], ARGV[1])
        return i - 1
    end
end
return mine - 1
"""


class TurnTaker:
    """Moves newly queued jobs to their lane and their member's turn."""

    def __init__(self, redis: Redis) -> None:
        self._script = redis.register_script(_TAKE_TURN)

    def take_turn(self, queue: Queue, job_id: str) -> int | None:
        """The job's 0-based place in `queue` after moving it; None when it is not in the queue."""
        prefixes = [job_id, Job.redis_job_namespace_prefix, f"{RQ_KEY_PREFIX}:rl:"]
        args = [*prefixes, LANE_META, Lane.FAST.rank, *(lane.value for lane in Lane)]
        place = self._script(keys=[queue.key], args=args)
        return None if place < 0 else int(place)


def lanes(redis: Redis, job_ids: Sequence[str]) -> dict[str, Lane]:
    """Each job's lane as `TurnTaker` reads it: fast for a job without one, or whose record is gone."""
    pipeline = redis.pipeline(transaction=False)
    for job_id in job_ids:
        pipeline.hget(Job.key_for(job_id), "meta")
    return {job_id: _lane(meta) for job_id, meta in zip(job_ids, pipeline.execute(), strict=True)}


def _lane(meta: bytes | None) -> Lane:
    try:
        return Lane(json.loads(meta or b"{}").get(LANE_META))
    except (ValueError, TypeError, AttributeError):  # not JSON, not an object, or no lane we know
        return Lane.FAST
