"""How well a model draws prompts it was never trained on, read back from the pixels.

`python -m training.shapes.evaluate` renders grids for held-out captions through the worker's own
generate path (catalog, loader, `Engine.imagine`, as `python -m worker` loads them) and reports,
per attribute, how often the pictures show what the prompt asked for, and the time per grid.
"""

import argparse
import json
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

from PIL import Image

from jobs.prompt import parse_prompt
from jobs.resolve import generation_for
from models.catalog import load_catalog
from training.shapes.measure import accuracy
from training.shapes.scenes import Scene
from training.shapes.scoring import held_out_scenes
from worker.boot import load_engines
from worker.engine import Engine
from worker.settings import WorkerSettings


def grids(engine: Engine, chosen: list[Scene], seed: int) -> Iterator[tuple[Scene, Image.Image]]:
    """Each scene's caption as a member would send it, four images a prompt (seeds seed…seed+3)."""
    profile = engine.model.entry.profile()
    for scene in chosen:
        generation = generation_for(parse_prompt(f"{scene.caption} --seed {seed}"), profile)
        for image in engine.imagine(generation, lambda *_: None).images:
            yield scene, image


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m training.shapes.evaluate", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--catalog", type=Path, default=None, help="catalog file (default: the built-in one)")
    parser.add_argument("--model", default=None, help="model name (default: the catalog's default)")
    parser.add_argument("--prompts", type=int, default=100, help="held-out captions, four images each")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    catalog = load_catalog(args.catalog)
    name = args.model or catalog.default
    settings = WorkerSettings().model_copy(update={"catalog": args.catalog, "models": [name]})
    engine = load_engines(settings)[name]  # as `python -m worker` loads it (IMAGINE_DEVICE, …)
    chosen = held_out_scenes(args.prompts)
    began = time.perf_counter()
    result = accuracy(grids(engine, chosen, args.seed))
    per_grid = (time.perf_counter() - began) / len(chosen)
    if args.json:
        print(json.dumps({"model": name, **asdict(result), "seconds_per_grid": per_grid}))
    else:
        print(f"{name}, {len(chosen)} held-out prompts: {result}; {per_grid:.2f} s per grid")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
