"""Lanes order a model's queue before turns do: turbo, then fast, then relax; members take turns
within a lane."""

from redis import Redis
from rq.job import Job
from rq.serializers import JSONSerializer

from broker.fairness import LANE_META
from broker.queues import JobSubmitter, model_queue
from jobs.prompt import parse_prompt
from jobs.resolve import describe_spec, imagine_spec, new_job_id
from jobs.specs import UploadRef
from models.catalog import load_catalog

PROFILE = load_catalog().get("tiny").profile()


class Members:
    """Submits jobs as members and reads the queue back as who asked, in which lane."""

    def __init__(self, redis: Redis, submitter: JobSubmitter) -> None:
        self._redis = redis
        self._submitter = submitter
        self._jobs: dict[str, str] = {}

    def submit(self, member: str, lane: str = "", *, concurrency: int = 10) -> int:
        spec = imagine_spec(parse_prompt(f"a job of {member} {lane}"), PROFILE, requested_by=member)
        self._jobs[spec.job_id] = f"{member}:{spec.lane.value}"
        return self._submitter.submit(spec, concurrency=concurrency).position

    def queue(self) -> list[str]:
        return [self._jobs[job_id] for job_id in model_queue(self._redis, "tiny").get_job_ids()]

    def queue_tail(self) -> str:
        return self._jobs.get(model_queue(self._redis, "tiny").get_job_ids()[-1], "")


def test_relax_jobs_wait_for_other_members_later_fast_jobs(redis: Redis, submitter: JobSubmitter) -> None:
    members = Members(redis, submitter)
    assert [members.submit("alice", "--relax") for _ in range(2)] == [1, 2]
    assert [members.submit("bob") for _ in range(2)] == [1, 2]
    assert members.submit("carol", "--fast") == 2  # her first turn, before bob's second
    assert members.queue() == ["bob:fast", "carol:fast", "bob:fast", "alice:relax", "alice:relax"]


def test_turbo_jobs_go_ahead_of_fast_ones(redis: Redis, submitter: JobSubmitter) -> None:
    members = Members(redis, submitter)
    members.submit("alice")
    members.submit("bob", "--relax")
    assert members.submit("bob", "--turbo") == 1
    assert members.submit("alice", "--turbo") == 2
    assert members.queue() == ["bob:turbo", "alice:turbo", "alice:fast", "bob:relax"]


def test_members_alternate_within_a_lane(redis: Redis, submitter: JobSubmitter) -> None:
    members = Members(redis, submitter)
    for _ in range(3):
        members.submit("alice", "--relax")
    members.submit("alice")
    members.submit("alice")
    # alice's relax jobs wait behind bob's, and her waiting relax jobs do not cost her fast turns.
    assert members.submit("bob") == 2
    assert members.submit("bob") == 4
    assert members.submit("bob", "--relax") == 6
    assert members.queue() == [
        *["alice:fast", "bob:fast"] * 2,
        *["alice:relax", "bob:relax"],
        *["alice:relax"] * 2,
    ]


def test_a_job_queued_without_a_lane_counts_as_fast(redis: Redis, submitter: JobSubmitter) -> None:
    queue = model_queue(redis, "tiny")
    legacy = queue.enqueue_call("worker.tasks.imagine", job_id="legacy", description="before lanes")
    assert redis.hget(legacy.key, "meta") is None
    members = Members(redis, submitter)
    assert members.submit("alice", "--relax") == 2
    assert members.submit("bob", "--turbo") == 1
    # A fast job of another member takes its turn after it: both are first turns of the fast lane.
    assert members.submit("carol") == 3
    assert queue.get_job_ids()[1] == "legacy"


def test_a_describe_job_waits_in_the_fast_lane(redis: Redis, submitter: JobSubmitter) -> None:
    members = Members(redis, submitter)
    members.submit("alice", "--relax")
    describe = describe_spec("tiny", UploadRef(upload_id=new_job_id(), index=1), requested_by="bob")
    assert submitter.submit(describe, concurrency=3).position == 1
    assert JSONSerializer.loads(redis.hget(Job.key_for(describe.job_id), "meta")) == {LANE_META: "fast"}


def test_a_lane_that_cannot_be_read_counts_as_fast(redis: Redis, submitter: JobSubmitter) -> None:
    queue = model_queue(redis, "tiny")
    odd = queue.enqueue_call("worker.tasks.imagine", job_id="odd", meta={LANE_META: "ludicrous"})
    assert JSONSerializer.loads(redis.hget(odd.key, "meta")) == {LANE_META: "ludicrous"}
    garbled = queue.enqueue_call("worker.tasks.imagine", job_id="garbled")
    redis.hset(garbled.key, "meta", b"{not json")
    members = Members(redis, submitter)
    assert members.submit("alice", "--relax") == 3
    assert members.submit("bob", "--fast") == 2  # jobs without a requester share one's turns
    assert queue.get_job_ids()[0] == "odd"
    assert members.queue_tail() == "alice:relax"
