"""Jobs of different members take turns in the queue; each member's running limit holds."""

from redis import Redis

from broker.queues import JobSubmitter, model_queue
from jobs.prompt import parse_prompt
from jobs.resolve import imagine_spec
from jobs.specs import ImagineSpec
from models.catalog import load_catalog

PROFILE = load_catalog().get("tiny").profile()


def _spec(member: str) -> ImagineSpec:
    return imagine_spec(parse_prompt(f"a job of {member}"), PROFILE, requested_by=member)


def _start_next(redis: Redis) -> str:
    """What a worker does first when it takes a job: the job leaves the queue."""
    return model_queue(redis, "tiny").pop_job_id()


def _owners(redis: Redis, specs: dict[str, str]) -> list[str]:
    return [specs[job_id] for job_id in model_queue(redis, "tiny").get_job_ids()]


def test_a_members_first_job_waits_only_for_jobs_already_running(
    redis: Redis, submitter: JobSubmitter
) -> None:
    owner: dict[str, str] = {}

    def submit(member: str) -> int:
        spec = _spec(member)
        owner[spec.job_id] = member
        return submitter.submit(spec, concurrency=3).position

    positions = [submit("alice") for _ in range(10)]
    assert positions == list(range(1, 11))  # three queued, seven held back by her running limit
    assert _owners(redis, owner) == ["alice"] * 3
    _start_next(redis)  # one of alice's jobs runs

    assert submit("bob") == 1
    assert submit("carol") == 2
    assert _owners(redis, owner) == ["bob", "carol", "alice", "alice"]
    # bob's second job takes its turn after alice's second, ahead of her third.
    assert submit("bob") == 4
    assert _owners(redis, owner) == ["bob", "carol", "alice", "bob", "alice"]


def test_jobs_of_one_member_keep_their_order(redis: Redis, submitter: JobSubmitter) -> None:
    specs = [_spec("alice") for _ in range(3)]
    for spec in specs:
        submitter.submit(spec, concurrency=5)
    assert model_queue(redis, "tiny").get_job_ids() == [spec.job_id for spec in specs]


def test_jobs_without_a_requester_queue_in_order(redis: Redis, submitter: JobSubmitter) -> None:
    specs = [imagine_spec(parse_prompt(f"job {n}"), PROFILE) for n in range(3)]
    positions = [submitter.submit(spec).position for spec in specs]
    assert positions == [1, 2, 3]
