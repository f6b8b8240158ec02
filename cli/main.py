"""`imagine`: make images from the command line through the same queue the Discord bot uses."""

import argparse
import getpass
import sys
import time
from contextlib import ExitStack
from pathlib import Path

from redis import Redis
from redis.exceptions import RedisError

from broker import startup
from broker.artifacts import ArtifactStore
from broker.events import EventLog
from broker.queues import JobSubmitter, UnknownJobError
from broker.settings import BrokerSettings
from cli import status
from cli.embedded import BackendError, redis_url_for, worker_for
from cli.progress import ProgressLine
from jobs.events import Done, Failed, Progress, Queued, Started
from jobs.permutations import parse_combinations
from jobs.prompt import PromptError, parse_prompt
from jobs.resolve import ResolveError, imagine_specs, random_seed, reroll_spec, upscale_spec, vary_spec
from jobs.specs import JobSpec, Strength
from models.catalog import Catalog, UnknownModelError
from models.settings import CatalogSettings


class JobFailedError(RuntimeError):
    """The job ended with a `failed` event."""


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _command(args)
    except startup.StartupError as error:  # a setting, the catalog, or the configured Redis
        for line in error.lines:
            print(f"imagine: {line}", file=sys.stderr)
        return error.status


def _command(args: argparse.Namespace) -> int:
    settings = startup.settings(BrokerSettings)
    catalog = startup.catalog(startup.settings(CatalogSettings).catalog)
    user = getpass.getuser()
    if args.command == "status":
        return _status(args, settings, catalog)
    try:
        # A new prompt is checked before anything starts; a follow-up needs Redis to find its source.
        specs = _imagine(args.prompt, catalog, user) if args.command == "generate" else []
        with ExitStack() as stack:
            url = stack.enter_context(redis_url_for(settings))
            redis = Redis.from_url(url)
            if not specs:
                source = JobSubmitter(redis, settings, EventLog.for_settings(redis, settings)).spec(args.job)
                specs = [_follow_up(args, source, catalog, user)]
            stack.enter_context(worker_for(url, [spec.generation.model for spec in specs]))
            return _run(redis, settings, specs, args.output)
    except (PromptError, UnknownModelError, ResolveError, UnknownJobError) as error:
        print(f"imagine: {error}", file=sys.stderr)
        return 2
    except (BackendError, TimeoutError) as error:
        print(f"imagine: {error}", file=sys.stderr)
        return 1


def _status(args: argparse.Namespace, settings: BrokerSettings, catalog: Catalog) -> int:
    try:
        with redis_url_for(settings) as url:
            return status.run(args, Redis.from_url(url), catalog.names)
    except (BackendError, RedisError) as error:
        print(f"imagine: {error}", file=sys.stderr)
        return 1


def _imagine(prompt: str, catalog: Catalog, user: str) -> list[JobSpec]:
    """A job per `{…}` combination of the prompt and per `--repeat`."""
    seed = random_seed()
    return [
        spec
        for _, parsed in parse_combinations(prompt, parse_prompt)
        for spec in imagine_specs(parsed, catalog, seed=seed, requested_by=user)
    ]


def _follow_up(args: argparse.Namespace, source: JobSpec, catalog: Catalog, user: str) -> JobSpec:
    """Upscale, vary or reroll, starting from the source job's recorded spec."""
    if args.command == "reroll":
        return reroll_spec(source, requested_by=user)
    profile = catalog.get(source.generation.model).profile()
    if args.command == "upscale":
        return upscale_spec(source, args.index, profile, requested_by=user)
    strength = Strength.STRONG if args.strong else Strength.SUBTLE
    return vary_spec(source, args.index, strength, profile, requested_by=user)


def _run(redis: Redis, settings: BrokerSettings, specs: list[JobSpec], output: Path | None) -> int:
    """Queues the jobs, then writes each one's grid (or image) as it is done, in order: to `output`,
    numbered `-1`, `-2` … for several jobs. 1 when any failed."""
    events = EventLog.for_settings(redis, settings)
    after = events.latest_id()
    submitter, artifacts = JobSubmitter(redis, settings, events), ArtifactStore(redis, settings.artifact_ttl)
    for spec in specs:
        submitter.submit(spec)
    timeout = settings.job_timeout * (settings.job_retries + 1) + 60
    failed = 0
    for n, spec in enumerate(specs, 1):
        try:
            done = _wait(events, after, spec.job_id, timeout=timeout)
        except JobFailedError as error:
            print(f"imagine: job {spec.job_id} failed: {error}", file=sys.stderr)
            failed += 1
            continue
        image = done.grid or done.images[0]
        path = output or Path(f"{spec.job_id[:8]}.{image.extension}")
        if output and len(specs) > 1:
            path = output.with_name(f"{output.stem}-{n}{output.suffix}")
        path.write_bytes(artifacts.get(image.key))
        for warning in done.warnings:
            print(f"note: {warning}", file=sys.stderr)
        seeds = ", ".join(map(str, done.seeds))
        print(f"{path}  job {spec.job_id}  seeds {seeds}  {done.seconds:.2f}s on the worker")
    return 1 if failed else 0


def _wait(events: EventLog, after: str, job_id: str, *, timeout: float) -> Done:
    line = ProgressLine(sys.stderr)
    deadline = time.monotonic() + timeout
    for item in events.follow(after):
        if time.monotonic() > deadline:
            raise TimeoutError(f"job {job_id} did not finish in {timeout:.0f} s")
        if item is None or item[1].job_id != job_id:
            continue
        match item[1]:
            case Queued(position=position):
                line.show(0, f"waiting · #{position} in queue")
            case Started(worker=worker):
                line.show(0, f"started on {worker}")
            case Progress() as progress:
                line.show(progress.percent, f"step {progress.step}/{progress.total}")
            case Done() as done:
                line.finish(100, "done")
                return done
            case Failed(reason=reason):
                line.finish(None, "failed")
                raise JobFailedError(reason)
    raise AssertionError("the event stream ended")  # follow() never ends


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="imagine", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    generate = commands.add_parser(
        "generate",
        help="a 2×2 grid from a prompt with Midjourney-style parameters (one per {a, b} option and --repeat)",
    )
    generate.add_argument("prompt", help='e.g. "a {red, grey} fox --ar 3:2 --seed 7 --no text"')
    upscale = commands.add_parser("upscale", help="image N of a grid at 2×")
    vary = commands.add_parser("vary", help="four variations of image N of a grid")
    reroll = commands.add_parser("reroll", help="the same prompt with new seeds")
    for command in (upscale, vary, reroll):
        command.add_argument("job", help="the job id printed by an earlier command")
    for command in (upscale, vary):
        command.add_argument("index", type=int, choices=range(1, 5), metavar="N", help="image 1-4")
    strength = vary.add_mutually_exclusive_group()
    strength.add_argument("--strong", action="store_true", help="vary more")
    strength.add_argument("--subtle", action="store_true", help="vary less (the default)")
    for command in (generate, upscale, vary, reroll):
        command.add_argument("-o", "--output", type=Path, help="where to write the image")
    status.add_parser(commands)
    return parser


if __name__ == "__main__":
    sys.exit(main())
