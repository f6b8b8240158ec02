"""The catalog captioners a worker's models name (`CatalogEntry.captioner`), for `/describe`."""

import logging

import torch

from broker.startup import StartupError
from models.captioning import Captioner
from models.catalog import Catalog
from models.loader import pick_dtype

log = logging.getLogger(__name__)


class Captioners:
    """Each captioner loaded once, the first time a model names it, and shared by all that do."""

    def __init__(self) -> None:
        self._loaded: dict[str, Captioner] = {}

    def get(self, catalog: Catalog, name: str | None, device: torch.device, dtype: str) -> Captioner | None:
        """The captioner called `name` on `device` (`dtype` as the worker's setting: "auto" is fp16
        on a GPU, fp32 on the CPU); None for None. Raises StartupError, naming it, when it cannot
        be loaded."""
        if name is None:
            return None
        if name not in self._loaded:
            try:
                self._loaded[name] = Captioner.load(
                    catalog.captioner(name), device=device, dtype=pick_dtype(device, dtype)
                )
            except ValueError as error:  # weights missing, not an image-to-text model, a bad dtype
                raise StartupError(f"captioner `{name}` cannot be loaded: {error}") from None
        return self._loaded[name]
