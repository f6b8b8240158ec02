"""`imagine`: make images from the command line through the same queue the Discord bot uses."""

import argparse
import getpass
import sys
import time
from contextlib import ExitStack
from pathlib import Path

from PIL import Image
from redis import Redis
from redis.exceptions import RedisError

from broker import startup
from broker.artifacts import ArtifactStore
from broker.events import EventLog
from broker.queues import JobSubmitter, UnknownJobError
from broker.settings import BrokerSettings
from broker.uploads import UploadError, read_image
from cli import keys, status
from cli.embedded import BackendError, redis_url_for, worker_for
from cli.progress import ProgressLine
from jobs import limits
from jobs.events import Done, Failed, Progress, Queued, Started
from jobs.permutations import parse_combinations
from jobs.prompt import PromptError, parse_prompt
from jobs.resolve import (
    BLEND_SHAPES,
    Remix,
    ResolveError,
    blend_spec,
    describe_spec,
    imagine_specs,
    new_job_id,
    pan_spec,
    random_seed,
    region_spec,
    remixed,
    reroll_spec,
    square_spec,
    style_links,
    upscale_spec,
    vary_spec,
    zoom_spec,
)
from jobs.specs import Direction, JobSpec, Strength, UploadRef
from models.catalog import Catalog, UnknownModelError
from models.settings import CatalogSettings

_FILE_PIXELS = 80_000_000
"""Most pixels an image file given to the command line may have (it is stored smaller)."""
Uploads = dict[UploadRef, Image.Image]
"""The images given on the command line, to store before the jobs that start from them."""


class JobFailedError(RuntimeError):
    """The job ended with a `failed` event."""


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
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
    if args.command in ("status", "keys"):
        return _on_redis(args, settings, catalog)
    try:
        # A new prompt (and its images) is checked before anything starts; a follow-up needs Redis
        # to find its source.
        uploads = _uploads(getattr(args, "image", None) or getattr(args, "files", None) or [])
        specs: list[JobSpec] = []
        if args.command == "generate":
            specs = _imagine(args.prompt, catalog, user, tuple(uploads))
        elif args.command == "describe":
            (ref,) = uploads
            specs = [describe_spec(catalog.captioning_model(args.model), ref, requested_by=user)]
        elif args.command == "blend":
            images = tuple(uploads)
            specs = [
                blend_spec(images, catalog, dimensions=args.dimensions, model=args.model, requested_by=user)
            ]
        with ExitStack() as stack:
            url = stack.enter_context(redis_url_for(settings))
            redis = Redis.from_url(url)
            if not specs:
                source = JobSubmitter(redis, settings, EventLog.for_settings(redis, settings)).spec(args.job)
                specs = [_follow_up(args, source, catalog, user)]
            artifacts = ArtifactStore(redis, settings.artifact_ttl)
            for ref, image in uploads.items():
                artifacts.put_upload(ref, image)
            stack.enter_context(worker_for(url, [spec.model for spec in specs]))
            return _run(redis, settings, specs, getattr(args, "output", None))
    except (PromptError, UnknownModelError, ResolveError, UnknownJobError, UploadError) as error:
        print(f"imagine: {error}", file=sys.stderr)
        return 2
    except (BackendError, TimeoutError) as error:
        print(f"imagine: {error}", file=sys.stderr)
        return 1


def _on_redis(args: argparse.Namespace, settings: BrokerSettings, catalog: Catalog) -> int:
    try:
        with redis_url_for(settings) as url:
            command = status if args.command == "status" else keys
            return command.run(args, Redis.from_url(url), catalog.names)
    except (BackendError, RedisError) as error:
        print(f"imagine: {error}", file=sys.stderr)
        return 1


def _imagine(prompt: str, catalog: Catalog, user: str, images: tuple[UploadRef, ...]) -> list[JobSpec]:
    """A job per `{…}` combination of the prompt and per `--repeat`, each starting from `images`."""
    seed = random_seed()
    combinations = parse_combinations(prompt, parse_prompt)
    if any(parsed.image_urls or style_links(parsed, catalog) for _, parsed in combinations):
        raise ResolveError("give the command line its images as files, with --image FILE, not as links")
    return [
        spec
        for _, parsed in combinations
        for spec in imagine_specs(parsed, catalog, seed=seed, requested_by=user, images=images)
    ]


def _uploads(paths: list[Path]) -> Uploads:
    """The image files given, read and checked as the bot checks members' images."""
    if len(paths) > limits.IMAGE_PROMPTS_MAX:
        raise ResolveError(f"give at most {limits.IMAGE_PROMPTS_MAX} images")
    upload_id = new_job_id()
    uploads: Uploads = {}
    for index, path in enumerate(paths, start=1):
        try:
            data = path.read_bytes()
        except OSError as error:
            raise UploadError(f"{path} cannot be read ({error.strerror})") from None
        uploads[UploadRef(upload_id=upload_id, index=index)] = read_image(
            data, max_pixels=_FILE_PIXELS, what=str(path)
        )
    return uploads


def _follow_up(args: argparse.Namespace, source: JobSpec, catalog: Catalog, user: str) -> JobSpec:
    """A follow-up of the source job's recorded spec: the command's operation on its image N."""
    profile = catalog.get(source.generation.model).profile()
    remix = _remix(args, source, catalog)
    match args.command:
        case "reroll":
            return reroll_spec(source, requested_by=user)
        case "upscale":
            return upscale_spec(source, args.index, profile, creative=args.creative, requested_by=user)
        case "vary":
            strength = Strength.STRONG if args.strong else Strength.SUBTLE
            return vary_spec(source, args.index, strength, profile, requested_by=user)
        case "zoom":
            return zoom_spec(source, args.index, args.factor, remix=remix, requested_by=user)
        case "pan":
            return pan_spec(source, args.index, args.direction, profile, remix=remix, requested_by=user)
        case "square":
            return square_spec(source, args.index, profile, remix=remix, requested_by=user)
        case _:
            cells = frozenset(_cells(args.cells))
            return region_spec(source, args.index, cells, remix=remix, requested_by=user)


def _remix(args: argparse.Namespace, source: JobSpec, catalog: Catalog) -> Remix | None:
    """The follow-up's new prompt, when the command was given one."""
    prompt = getattr(args, "prompt", None)
    return remixed(source.generation, parse_prompt(prompt), catalog) if prompt else None


def _cells(text: str) -> list[int]:
    try:
        return [int(cell) for cell in text.replace(" ", "").split(",") if cell]
    except ValueError:
        raise ResolveError(f"`--cells {text}`: give cell numbers 1-9 separated by commas, like 5,6") from None


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
        if done.prompts:
            for number, prompt in enumerate(done.prompts, start=1):
                print(f"{number}. {prompt}")
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


def _parse(argv: list[str] | None) -> argparse.Namespace:
    """The command line; a follow-up's prompt may also come after its options (`--cells 5 "a cat"`),
    which argparse alone reads as an unknown argument."""
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if len(extra) == 1 and not extra[0].startswith("-") and getattr(args, "prompt", "") is None:
        args.prompt = extra[0]
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    return args


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="imagine", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    generate = commands.add_parser(
        "generate",
        help="a 2×2 grid from a prompt with Midjourney-style parameters (one per {a, b} option and --repeat)",
    )
    generate.add_argument("prompt", help='e.g. "a {red, grey} fox --ar 3:2 --seed 7 --no text"')
    generate.add_argument(
        "--image",
        type=Path,
        action="append",
        metavar="FILE",
        help=f"an image to start from, up to {limits.IMAGE_PROMPTS_MAX} (`--iw 0-3`: how much they count)",
    )
    describe = commands.add_parser("describe", help="four prompts written from an image")
    describe.add_argument(
        "files", type=Path, nargs=1, metavar="FILE", help="the image (PNG, JPEG, WebP, GIF)"
    )
    describe.add_argument("--model", help="the model whose captioner writes them (the default's)")
    blend = commands.add_parser("blend", help="a 2×2 grid blending 2-5 images (through the model's adapter)")
    blend.add_argument(
        "files", type=Path, nargs="+", metavar="FILE", help="the images (PNG, JPEG, WebP, GIF)"
    )
    blend.add_argument("--dimensions", choices=list(BLEND_SHAPES), default="square", help="the images' shape")
    blend.add_argument("--model", help="a model with an image adapter (the catalog's default)")
    upscale = commands.add_parser("upscale", help="image N of a grid at 2×")
    upscale.add_argument("--creative", action="store_true", help="refine harder, adding detail")
    vary = commands.add_parser("vary", help="four variations of image N of a grid")
    reroll = commands.add_parser("reroll", help="the same prompt with new seeds")
    zoom = commands.add_parser("zoom", help="Zoom Out: image N smaller in the middle, the border painted")
    pan = commands.add_parser("pan", help="image N on a canvas half a side larger one way, the strip painted")
    square = commands.add_parser(
        "square", help="a wide or tall image N on a square canvas, the sides painted"
    )
    region = commands.add_parser("region", help="Vary (Region): cells of image N repainted, the rest kept")
    on_image = (upscale, vary, zoom, pan, square, region)
    for command in (*on_image, reroll):
        command.add_argument("job", help="the job id printed by an earlier command")
    for command in on_image:
        command.add_argument("index", type=int, choices=range(1, 5), metavar="N", help="image 1-4")
    strength = vary.add_mutually_exclusive_group()
    strength.add_argument("--strong", action="store_true", help="vary more")
    strength.add_argument("--subtle", action="store_true", help="vary less (the default)")
    zoom.add_argument(
        "--factor", type=float, default=2.0, help="how much smaller, more than 1 and up to 2 (2)"
    )
    pan.add_argument("direction", type=Direction, choices=list(Direction), help="which side to extend")
    region.add_argument(
        "--cells", required=True, help="cells of a 3×3 grid, 1-9 row by row from the top left, like 5,6"
    )
    for command in (zoom, pan, square, region):
        command.add_argument("prompt", nargs="?", help="a new prompt (Remix); the job's own by default")
    for command in (generate, blend, *on_image, reroll):
        command.add_argument("-o", "--output", type=Path, help="where to write the image")
    status.add_parser(commands)
    keys.add_parser(commands)
    return parser


if __name__ == "__main__":
    sys.exit(main())
