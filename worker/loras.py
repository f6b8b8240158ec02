"""The LoRAs of one resident model: loaded on first use with diffusers' LoRA loaders (PEFT as the
backend), kept up to a number of them, least recently used unloaded first, switched on for one
pipeline call at the job's weights and off again after it.

Off means PEFT's layers pass through to their base layers untouched, so a job without LoRAs
after one with them makes exactly the pixels it makes on a fresh worker.
"""

import logging
import warnings
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from diffusers import DiffusionPipeline

from jobs.specs import LoraUse
from models.catalog import LoraEntry, LoraFileSource, LoraFolderSource, LoraHubSource
from worker.errors import LoraLoadError, LoraNotServedError

log = logging.getLogger(__name__)


def check_loras(loras: Sequence[LoraUse], served: Mapping[str, LoraEntry], model: str, family: str) -> None:
    """Raise LoraNotServedError, naming it, for a LoRA this worker's catalog lacks or that is for
    another family than `model`'s. (The spec's own validation bounds their number and weights.)"""
    for lora in loras:
        entry = served.get(lora.name)
        if entry is None:
            raise LoraNotServedError(f"this worker serves no LoRA `{lora.name}`")
        if family not in {fits.value for fits in entry.families}:
            raise LoraNotServedError(f"the LoRA `{lora.name}` is not made for `{model}`'s family ({family})")


class LoraSlots:
    """The LoRAs loaded into one pipeline (and the pipelines built from its modules)."""

    def __init__(self, pipe: DiffusionPipeline, served: Mapping[str, LoraEntry], *, resident: int) -> None:
        self._pipe = pipe
        self._served = served
        self._resident = resident
        self._loaded: OrderedDict[str, str] = OrderedDict()  # LoRA name → adapter name, oldest first

    @property
    def served(self) -> Mapping[str, LoraEntry]:
        """Every LoRA this worker may load, by name."""
        return self._served

    @property
    def loaded(self) -> tuple[str, ...]:
        """The LoRAs in memory, least recently used first."""
        return tuple(self._loaded)

    @contextmanager
    def active(self, loras: Sequence[LoraUse]) -> Iterator[None]:
        """`loras` on at their weights for the calls made inside; none on again after."""
        if not loras:
            yield
            return
        adapters = [self._adapter(lora.name, keep={use.name for use in loras}) for lora in loras]
        try:
            self._pipe.enable_lora()
            self._pipe.set_adapters(adapters, adapter_weights=[lora.weight for lora in loras])
            yield
        finally:
            self._pipe.disable_lora()

    def _adapter(self, name: str, *, keep: set[str]) -> str:
        """The adapter name of LoRA `name`, loading it first if it is not in memory."""
        if name in self._loaded:
            self._loaded.move_to_end(name)
            return self._loaded[name]
        while len(self._loaded) >= self._resident and (old := self._oldest(keep)) is not None:
            self._pipe.delete_adapters(self._loaded.pop(old))
            log.info("unloaded the LoRA %s (least recently used)", old)
        adapter = f"lora_{name.encode().hex()}"  # PEFT's names cannot hold `.` or `-`
        try:
            where, options = _where(self._served[name])
            with warnings.catch_warnings():
                # PEFT warns on every adapter after the first; several resident is the point here.
                warnings.filterwarnings("ignore", "Already found a `peft_config`", UserWarning)
                self._pipe.load_lora_weights(where, adapter_name=adapter, **options)
        except Exception as error:
            self._forget(adapter)
            log.warning("the LoRA %s could not be loaded", name, exc_info=True)
            reason = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
            raise LoraLoadError(f"the LoRA `{name}` could not be loaded: {reason}") from error
        self._loaded[name] = adapter
        log.info("loaded the LoRA %s", name)
        return adapter

    def _oldest(self, keep: set[str]) -> str | None:
        return next((name for name in self._loaded if name not in keep), None)

    def _forget(self, adapter: str) -> None:
        """Removes whatever part of a failed load got into the model."""
        if any(adapter in names for names in self._pipe.get_list_adapters().values()):
            self._pipe.delete_adapters(adapter)


def _where(entry: LoraEntry) -> tuple[str, dict[str, Any]]:
    """What `load_lora_weights` loads the entry's source from, and its keyword arguments."""
    source = entry.source
    match source:
        case LoraFileSource():
            return str(source.path), {}
        case LoraFolderSource():
            return str(source.path), {"weight_name": source.weight_name}
        case LoraHubSource():
            return source.repo, {"revision": source.revision, "weight_name": source.weight_name}
    raise TypeError(f"unknown LoRA source {source!r}")
