"""NSFW checks on the worker: which checker a model uses, and what a job's `Safety` does to its images."""

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

from PIL import Image

from jobs.specs import Safety
from models.catalog import SafetyClassifier
from models.loader import LoadedModel
from models.safety import ImageChecker, load_classifier, load_own_checker
from worker.errors import SafetyCheckUnavailableError, UploadFlaggedError

log = logging.getLogger(__name__)

STAND_IN_COLOUR = (40, 40, 40)
"""What a blocked image becomes: one flat colour, so nothing of the original can be recovered."""

_CLASSIFIER = "classifier"


class SafetyChecks:
    """The NSFW checkers of one worker: each model's own, and the catalog's classifier for the others.

    A checker loads the first time a job asks for a check, on the model's device and dtype, then
    stays resident like the pipelines. One that fails to load is tried again by the next job.
    """

    def __init__(self, classifier: SafetyClassifier | None = None) -> None:
        self._classifier = classifier
        self._loaded: dict[str, ImageChecker] = {}
        self._unchecked: set[str] = set()

    @property
    def loaded(self) -> tuple[str, ...]:
        """The checkers loaded so far: `own:<model>` or `classifier`."""
        return tuple(self._loaded)

    def describe(self, model: LoadedModel) -> str:
        """Which check `model`'s images get, in words, for the worker's log."""
        if model.safety_checker is not None and model.entry.safety_checker == "auto":
            return "its own safety checker"
        return "the catalog's safety classifier" if self._classifier is not None else "none available"

    def checker(self, model: LoadedModel) -> ImageChecker | None:
        """The checker for `model`'s images, loaded on first use; None when there is none to use."""
        own = model.safety_checker if model.entry.safety_checker == "auto" else None
        load: Callable[[], ImageChecker]
        if own is not None:
            key = f"own:{model.entry.name}"
            load = partial(load_own_checker, own, device=model.device, dtype=model.dtype)
        elif self._classifier is not None:
            key = _CLASSIFIER  # one classifier for every model that uses it
            load = partial(load_classifier, self._classifier, device=model.device, dtype=model.dtype)
        else:
            if model.entry.name not in self._unchecked:
                self._unchecked.add(model.entry.name)
                log.warning(
                    "jobs ask for NSFW checks, but model %s has no safety checker and the catalog no "
                    "[safety_classifier]: its images pass unchecked",
                    model.entry.name,
                )
            return None
        if key not in self._loaded:
            try:
                self._loaded[key] = load()
            except Exception as error:
                log.exception("could not load the NSFW checker (%s) for model %s", key, model.entry.name)
                raise SafetyCheckUnavailableError(
                    "this server asks for NSFW checks, and the worker could not load its checker; "
                    "an operator can find the details in its log"
                ) from error
            log.info("loaded %s for model %s", self._loaded[key].description, model.entry.name)
        return self._loaded[key]


@dataclass(frozen=True)
class Screened:
    """A job's images after the check: what to store, which were flagged (1-based), whether checked."""

    images: list[Image.Image]
    flagged: tuple[int, ...] = ()
    checked: bool = False


def screen(images: Sequence[Image.Image], checker: ImageChecker | None, safety: Safety) -> Screened:
    """Checks `images` as `safety` asks: BLOCK replaces the flagged ones, SPOILER keeps them."""
    if safety is Safety.OFF or checker is None:
        return Screened(list(images))
    flags = checker.flags(images)
    if len(flags) != len(images):
        raise RuntimeError(f"the NSFW checker gave {len(flags)} verdicts for {len(images)} images")
    flagged = tuple(index for index, flag in enumerate(flags, start=1) if flag)
    if safety is Safety.BLOCK:
        images = [stand_in(image.size) if flag else image for image, flag in zip(images, flags, strict=True)]
    return Screened(list(images), flagged, checked=True)


def stand_in(size: tuple[int, int]) -> Image.Image:
    """A flat image of `size` in place of a blocked one (made from nothing but its size)."""
    return Image.new("RGB", size, STAND_IN_COLOUR)


def screen_uploads(
    images: Sequence[Image.Image], checker: ImageChecker | None, safety: Safety
) -> tuple[str, ...]:
    """Checks the images a member gave as `safety` asks, as their results will be: BLOCK refuses
    the job when one is flagged (nothing is made from it); SPOILER goes on, with a note."""
    if safety is Safety.OFF or checker is None or not images:
        return ()
    flagged = [index for index, flag in enumerate(checker.flags(images), start=1) if flag]
    if not flagged:
        return ()
    if len(images) == 1:
        which = "the image you gave was"
    elif len(flagged) == 1:
        which = f"image {flagged[0]} of those you gave was"
    else:
        which = f"images {', '.join(map(str, flagged[:-1]))} and {flagged[-1]} of those you gave were"
    if safety is Safety.BLOCK:
        raise UploadFlaggedError(f"{which} flagged by this server's NSFW filter: use another")
    return (f"{which} flagged as possibly NSFW",)
