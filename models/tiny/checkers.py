"""Tiny NSFW checkers, and a catalog serving `tiny` with them: for the safety tests."""

from pathlib import Path
from typing import TYPE_CHECKING, Literal

import torch
from diffusers.pipelines.stable_diffusion.safety_checker import StableDiffusionSafetyChecker
from transformers import CLIPConfig, CLIPImageProcessor

from models.tiny.parts import TINY_SIZE
from models.tiny.sd import build_tiny_pipeline

if TYPE_CHECKING:
    from transformers import ViTForImageClassification, ViTImageProcessor

Verdict = Literal["flag-all", "pass-all"]
"""What a tiny NSFW checker decides, computed by the real checking code: every image, or none."""


def build_tiny_safety_checker(
    verdict: Verdict, seed: int = 0
) -> tuple[StableDiffusionSafetyChecker, CLIPImageProcessor]:
    """A `StableDiffusionSafetyChecker` in miniature and its feature extractor (32×32 inputs).

    It decides as the real one does: a CLIP image embedding is compared (cosine, -1…1) with 17
    concept embeddings, and an image is flagged when a similarity exceeds that concept's threshold.
    Thresholds of -2 put every image over them ("flag-all"); thresholds of 2, none ("pass-all").
    """
    config = CLIPConfig(
        vision_config={
            "image_size": 32,
            "patch_size": 8,
            "hidden_size": 16,
            "intermediate_size": 32,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
        },
        projection_dim=16,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        checker = StableDiffusionSafetyChecker(config)
        with torch.no_grad():
            checker.concept_embeds.normal_()
            checker.special_care_embeds.normal_()
    threshold = -2.0 if verdict == "flag-all" else 2.0
    with torch.no_grad():
        checker.concept_embeds_weights.fill_(threshold)
        checker.special_care_embeds_weights.fill_(threshold)
    processor = CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    return checker, processor


def build_tiny_classifier(
    verdict: Verdict, seed: int = 0
) -> tuple["ViTForImageClassification", "ViTImageProcessor"]:
    """A ViT image classifier in miniature with the labels "normal" and "nsfw", and its processor.

    Its last layer ignores the image and its bias favours "nsfw" (probability 0.9997, "flag-all")
    or "normal" ("pass-all"); the rest of the network runs as usual.
    """
    # Imported here: without torchvision, importing ViTImageProcessor logs a warning, which every
    # worker start (the loader imports this module) would otherwise print.
    from transformers import ViTConfig, ViTForImageClassification, ViTImageProcessor

    config = ViTConfig(
        image_size=32,
        patch_size=8,
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        id2label={0: "normal", 1: "nsfw"},
        label2id={"normal": 0, "nsfw": 1},
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = ViTForImageClassification(config)
    with torch.no_grad():
        model.classifier.weight.zero_()
        model.classifier.bias.copy_(torch.tensor([0.0, 8.0] if verdict == "flag-all" else [8.0, 0.0]))
    return model, ViTImageProcessor(size={"height": 32, "width": 32})


def save_tiny(path: Path, *, safety: Verdict | None = None, seed: int = 0) -> Path:
    """Save the tiny pipeline at `path` in the diffusers layout, as a `folder` source names it.

    With `safety`, it ships a tiny safety checker as SD1.5 repositories do (`safety_checker/` and
    `feature_extractor/`, listed in `model_index.json`), which the worker then uses for NSFW checks.
    """
    pipe = build_tiny_pipeline(seed)
    if safety is not None:
        checker, processor = build_tiny_safety_checker(safety, seed)
        pipe.register_modules(safety_checker=checker, feature_extractor=processor)
        pipe.register_to_config(requires_safety_checker=True)
    pipe.save_pretrained(path)
    return path


def save_tiny_classifier(path: Path, verdict: Verdict) -> Path:
    """Save the tiny classifier at `path`, as a `[safety_classifier]` `folder` source names it."""
    model, processor = build_tiny_classifier(verdict)
    model.save_pretrained(path)
    processor.save_pretrained(path)
    return path


def save_tiny_catalog(
    folder: Path, *, safety: Verdict | None = None, classifier: Verdict | None = None
) -> Path:
    """A catalog serving the tiny model as `tiny`, for tests: point `IMAGINE_CATALOG` at the result.

    Writes `folder/catalog.toml`, the model in `folder/tiny` (with its own safety checker when
    `safety` is given) and, with `classifier`, a tiny `[safety_classifier]` in `folder/classifier`
    that labels images "nsfw". `save_tiny_catalog(dir, safety="flag-all")` makes a worker flag
    every image of a job that asks for an NSFW check.
    """
    folder.mkdir(parents=True, exist_ok=True)
    save_tiny(folder / "tiny", safety=safety)
    lines = [
        'default = "tiny"',
        "",
        "[[models]]",
        'name = "tiny"',
        'family = "sd15"',
        'source = { kind = "folder", path = "tiny" }',
        f"native_width = {TINY_SIZE}",
        f"native_height = {TINY_SIZE}",
        "size_multiple = 8",
        f"max_pixels = {4 * TINY_SIZE * TINY_SIZE}",
        "steps = 4",
    ]
    if classifier is not None:
        save_tiny_classifier(folder / "classifier", classifier)
        lines += [
            "",
            "[safety_classifier]",
            'source = { kind = "folder", path = "classifier" }',
            'labels = ["nsfw"]',
            "threshold = 0.5",
        ]
    catalog = folder / "catalog.toml"
    catalog.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return catalog
