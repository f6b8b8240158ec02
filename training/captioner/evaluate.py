"""How well the captioner describes scenes it was never trained on.

`python -m training.captioner.evaluate` captions held-out rendered scenes (greedy `generate`) and
reports, per attribute and overall, how often the caption says what the scene holds; then it
captions pictures the shipped shapes text-to-image model draws for held-out captions and reports
how often the caption agrees with what `training.shapes.measure` reads from their pixels.
"""

import argparse
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import torch
from diffusers import DPMSolverMultistepScheduler, StableDiffusionPipeline
from PIL import Image
from transformers import AutoImageProcessor, AutoTokenizer, PreTrainedTokenizerBase, VisionEncoderDecoderModel

from training.captioner.parts import ATTRIBUTES, Said, parse, truth
from training.shapes.measure import read
from training.shapes.scenes import Scene, render, scenes

SHIPPED = Path(__file__).parents[2] / "models" / "captioners" / "shapes-captioner"
SHAPES_MODEL = Path(__file__).parents[2] / "models" / "shapes" / "model"
_SEED = 1


def held_out_pairs(count: int, seed: int = _SEED) -> list[tuple[Scene, Image.Image]]:
    """The first `count` held-out scenes (captions never trained on), each rendered with its index."""
    return [
        (scene, render(scene, seed=i)) for i, scene in enumerate(islice(scenes(seed, held_out=True), count))
    ]


def load(folder: Path = SHIPPED) -> tuple[VisionEncoderDecoderModel, object, PreTrainedTokenizerBase]:
    """The model, its image processor and its tokenizer, as any transformers user loads them."""
    model = VisionEncoderDecoderModel.from_pretrained(folder, local_files_only=True).eval()
    return model, AutoImageProcessor.from_pretrained(folder), AutoTokenizer.from_pretrained(folder)


def caption_images(
    model: VisionEncoderDecoderModel,
    processor: object,
    tokenizer: PreTrainedTokenizerBase,
    images: list[Image.Image],
) -> list[str]:
    """Greedy captions, one per image."""
    values = processor(images, return_tensors="pt").pixel_values  # type: ignore[operator]
    with torch.no_grad():
        ids = model.generate(values, do_sample=False, num_beams=1)
    return tokenizer.batch_decode(ids, skip_special_tokens=True)


@dataclass(frozen=True)
class Agreement:
    """The share of captions that say each attribute right, and all four at once."""

    colour: float
    shape: float
    count: float
    background: float
    overall: float
    images: int

    def __str__(self) -> str:
        shares = (f"{name} {getattr(self, name):.0%}" for name in (*ATTRIBUTES, "overall"))
        return f"{' · '.join(shares)} ({self.images} images)"


def agreement(expected: list[Said], said: list[Said]) -> Agreement:
    """Per attribute: `said` names the expected colour, shape, count, background colour."""
    hits = {
        name: [getattr(s, name) == getattr(e, name) for s, e in zip(said, expected, strict=True)]
        for name in ATTRIBUTES
    }
    overall = [all(row) for row in zip(*hits.values(), strict=True)]
    total = max(len(said), 1)
    return Agreement(
        **{name: sum(rows) / total for name, rows in hits.items()},
        overall=sum(overall) / total,
        images=len(said),
    )


def score(chosen: list[Scene], captions: list[str]) -> Agreement:
    """How often each caption says its scene's colour, shape, count and background."""
    return agreement([truth(scene) for scene in chosen], [parse(caption) for caption in captions])


def generated_images(chosen: list[Scene], steps: int = 15, guidance: float = 5.0) -> list[Image.Image]:
    """One 64×64 picture per caption from the shipped shapes model (DPM++ 2M Karras, as the catalog)."""
    pipeline = StableDiffusionPipeline.from_pretrained(
        SHAPES_MODEL, local_files_only=True, safety_checker=None
    )
    pipeline.scheduler = DPMSolverMultistepScheduler.from_config(
        pipeline.scheduler.config, use_karras_sigmas=True
    )
    pipeline.set_progress_bar_config(disable=True)
    return pipeline(
        [scene.caption for scene in chosen],
        height=64,
        width=64,
        num_inference_steps=steps,
        guidance_scale=guidance,
        generator=[torch.Generator().manual_seed(i) for i in range(len(chosen))],
    ).images


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m training.captioner.evaluate", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--model", type=Path, default=SHIPPED, help="captioner folder (default: the shipped one)"
    )
    parser.add_argument("--scenes", type=int, default=500, help="held-out rendered scenes")
    parser.add_argument("--generated", type=int, default=24, help="pictures from the shapes model (0: none)")
    parser.add_argument("--show", type=int, default=0, help="print this many wrong captions")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    model, processor, tokenizer = load(args.model)
    pairs = held_out_pairs(args.scenes)
    captions = caption_images(model, processor, tokenizer, [image for _, image in pairs])
    print(f"held-out rendered scenes: {score([scene for scene, _ in pairs], captions)}")
    exact = sum(caption == scene.caption for (scene, _), caption in zip(pairs, captions, strict=True))
    print(f"  whole caption word for word: {exact / len(pairs):.0%}")
    for (scene, _), caption in [(p, c) for p, c in zip(pairs, captions, strict=True) if c != p[0].caption][
        : args.show
    ]:
        print(f"  {scene.caption!r} -> {caption!r}")
    if args.generated:
        chosen = [scene for scene, _ in held_out_pairs(args.generated, seed=2)]
        images = generated_images(chosen)
        captions = caption_images(model, processor, tokenizer, images)
        readings = [read(image) for image in images]
        seen = [Said(r.count, r.size, r.colour, r.shape, r.background) for r in readings]
        said = [parse(caption) for caption in captions]
        print(f"shapes-model pictures, caption vs. the pixel reader: {agreement(seen, said)}")
        print(f"  caption vs. the prompt: {agreement([truth(scene) for scene in chosen], said)}")
        print(f"  pixel reader vs. the prompt: {agreement([truth(scene) for scene in chosen], seen)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
