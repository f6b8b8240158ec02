"""NSFW checkers: a model's own safety checker, or the catalog's image classifier.

Only the worker imports this module. The pipelines are loaded without their safety checker (so
generation never changes); a checker is a separate step the worker runs on the finished images
when a job asks for a check, and says for each image whether it is flagged.
"""

import json
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import torch
from diffusers import DiffusionPipeline
from diffusers.pipelines.stable_diffusion.safety_checker import StableDiffusionSafetyChecker
from huggingface_hub import hf_hub_download
from PIL import Image
from transformers import AutoImageProcessor, AutoModelForImageClassification, CLIPImageProcessor

from models.builtins import builtin_folder
from models.catalog import BuiltinSource, CatalogEntry, FolderSource, HubSource, SafetyClassifier

SAFETY_CHECKER = "safety_checker"
FEATURE_EXTRACTOR = "feature_extractor"


@dataclass(frozen=True)
class ComponentSource:
    """Where pretrained weights are: a pinned hub repository or a local folder."""

    name_or_path: str
    revision: str | None = None
    variant: str | None = None
    local_files_only: bool = False

    @classmethod
    def of(cls, source: HubSource | FolderSource) -> "ComponentSource":
        if isinstance(source, HubSource):
            return cls(source.repo, source.revision, source.variant)
        return cls(str(source.path), local_files_only=True)

    def files(self, subfolder: str = "") -> dict[str, Any]:
        """`from_pretrained` arguments for configs and processors (which have no weights variant)."""
        return {
            "pretrained_model_name_or_path": self.name_or_path,
            "revision": self.revision,
            "local_files_only": self.local_files_only,
            **({"subfolder": subfolder} if subfolder else {}),
        }

    def weights(self, subfolder: str = "") -> dict[str, Any]:
        """`from_pretrained` arguments for a model's weights."""
        return self.files(subfolder) | ({"variant": self.variant} if self.variant else {})


class ImageChecker(Protocol):
    description: str

    def flags(self, images: Sequence[Image.Image]) -> list[bool]:
        """One flag per image: True when the image is NSFW."""
        ...


def own_checker_source(entry: CatalogEntry, cache_dir: Path) -> ComponentSource | None:
    """Where `entry`'s own safety checker is, when the model ships one (as SD1.5 repositories do).

    Its `model_index.json` must list both a `safety_checker` and a `feature_extractor`. A single-file
    checkpoint has none. Reads only the index, which loading the pipeline has already fetched.
    """
    match entry.source:
        case HubSource() | FolderSource() as source:
            where = ComponentSource.of(source)
        case BuiltinSource(name=name):
            where = ComponentSource(str(builtin_folder(name, cache_dir)), local_files_only=True)
        case _:
            return None
    index = json.loads(_index_file(where).read_text(encoding="utf-8"))
    listed = all(_component(index.get(name)) for name in (SAFETY_CHECKER, FEATURE_EXTRACTOR))
    return where if listed else None


def _index_file(where: ComponentSource) -> Path:
    if where.local_files_only:
        return Path(where.name_or_path) / DiffusionPipeline.config_name
    return Path(hf_hub_download(where.name_or_path, DiffusionPipeline.config_name, revision=where.revision))


def _component(value: object) -> bool:
    # model_index.json names a component as [library, class]; a skipped one is [null, null].
    return isinstance(value, list | tuple) and len(value) == 2 and all(value)


class OwnSafetyChecker:
    """A model's `StableDiffusionSafetyChecker` and its CLIP feature extractor, run as the diffusers
    pipeline's `run_safety_checker` runs them."""

    description = "the model's own safety checker"

    def __init__(
        self,
        checker: StableDiffusionSafetyChecker,
        processor: CLIPImageProcessor,
        device: torch.device,
        dtype: torch.dtype,
    ) -> None:
        self.checker = checker
        self.processor = processor
        self._device = device
        self._dtype = dtype

    def flags(self, images: Sequence[Image.Image]) -> list[bool]:
        inputs = self.processor(images=[image.convert("RGB") for image in images], return_tensors="pt")
        clip_input = inputs.pixel_values.to(self._device, self._dtype)
        # The checker blacks out flagged entries of `images` in place: give it placeholders, since
        # what happens to a flagged image is the job's choice, not the checker's.
        placeholders = torch.zeros(len(images), 1)
        with torch.inference_mode(), _quiet("diffusers.pipelines.stable_diffusion.safety_checker"):
            _, flagged = self.checker(clip_input=clip_input, images=placeholders)
        return [bool(flag) for flag in flagged]


def load_own_checker(
    source: ComponentSource, *, device: torch.device, dtype: torch.dtype
) -> OwnSafetyChecker:
    """The safety checker and feature extractor from `source`'s subfolders, on `device` in `dtype`."""
    checker = StableDiffusionSafetyChecker.from_pretrained(**source.weights(SAFETY_CHECKER), dtype=dtype)
    processor = CLIPImageProcessor.from_pretrained(**source.files(FEATURE_EXTRACTOR))
    return OwnSafetyChecker(checker.to(device).eval(), processor, device, dtype)


class ClassifierChecker:
    """An image-classification model: flagged when the NSFW labels' probability reaches the threshold."""

    description = "the catalog's safety classifier"

    def __init__(
        self,
        model: torch.nn.Module,
        processor: Any,
        config: SafetyClassifier,
        device: torch.device,
        dtype: torch.dtype,
    ) -> None:
        self.model = model
        self.processor = processor
        names = {str(label): int(index) for index, label in model.config.id2label.items()}
        missing = [label for label in config.labels if label not in names]
        if missing:
            raise ValueError(
                f"the safety classifier has no label {', '.join(map(repr, missing))}; "
                f"its labels are {', '.join(map(repr, names))}"
            )
        self._indices = [names[label] for label in config.labels]
        self._threshold = config.threshold
        self._multi_label = model.config.problem_type == "multi_label_classification"
        self._device = device
        self._dtype = dtype

    def flags(self, images: Sequence[Image.Image]) -> list[bool]:
        inputs = self.processor(images=[image.convert("RGB") for image in images], return_tensors="pt")
        with torch.inference_mode():
            logits = self.model(pixel_values=inputs.pixel_values.to(self._device, self._dtype)).logits.float()
        if self._multi_label:  # independent labels: any one of them is enough
            scores = logits.sigmoid()[:, self._indices].amax(dim=1)
        else:  # one label per image: the NSFW ones' probabilities add up
            scores = logits.softmax(dim=1)[:, self._indices].sum(dim=1)
        return [bool(score >= self._threshold) for score in scores]


def load_classifier(
    config: SafetyClassifier, *, device: torch.device, dtype: torch.dtype
) -> ClassifierChecker:
    """The catalog's classifier and its image processor, on `device` in `dtype`."""
    source = ComponentSource.of(config.source)
    model = AutoModelForImageClassification.from_pretrained(**source.weights(), dtype=dtype)
    processor = AutoImageProcessor.from_pretrained(**source.files())
    return ClassifierChecker(model.to(device).eval(), processor, config, device, dtype)


@contextmanager
def _quiet(logger: str) -> Iterator[None]:
    # The checker logs "A black image will be returned instead" for every flagged batch, which is
    # not what happens here; the worker logs what it does with flagged images itself.
    log = logging.getLogger(logger)
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)
