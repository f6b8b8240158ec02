"""Image-prompt adapters (IP-Adapter) for `--sref` and `/blend`: loaded once into a model with
diffusers' `load_ip_adapter`, kept resident, and switched into the UNet only for the calls of jobs
that use them, so every other job runs exactly as it would without one.

Only the worker imports this module (it needs torch).
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, assert_never

import torch
from PIL import Image
from safetensors import SafetensorError

from jobs import limits
from models.builtins import SHIPPED_ADAPTERS
from models.catalog import AdapterBuiltinSource, AdapterEntry, FolderSource, HubSource
from models.loader import LoadedModel


class AdapterError(ValueError):
    """Adapter weights that are missing or do not fit the model they are named for."""


class ImageAdapter:
    """One catalog adapter in one model's pipelines, which share its UNet (`from_pipe`)."""

    def __init__(self, entry: AdapterEntry, model: LoadedModel) -> None:
        self.entry = entry
        self._model = model
        pipe = model.text2img
        self._unet = model.pipeline.denoiser(pipe)
        plain = dict(self._unet.attn_processors)
        where, options = _location(entry)
        try:
            pipe.load_ip_adapter(
                where,
                subfolder=entry.subfolder,
                weight_name=entry.weight_name,
                image_encoder_folder=entry.image_encoder,
                **options,
            )
        except (
            OSError,
            ValueError,
            KeyError,
            RuntimeError,
            SafetensorError,
        ) as error:  # unreadable, wrong shapes
            raise AdapterError(
                f"adapter `{entry.name}` does not load into `{model.entry.name}`: {error}"
            ) from None
        self._encoder = pipe.image_encoder.to(model.device, model.dtype).eval()
        self._features = pipe.feature_extractor
        self._layers = dict(self._unet.attn_processors)
        self._projection = self._unet.encoder_hid_proj
        self._plain = plain
        self._switch(on=False)

    def embeds(self, images: Sequence[Image.Image]) -> torch.Tensor:
        """The images' embeddings, one row each (what the adapter's projection turns into tokens)."""
        pixels = self._features(list(images), return_tensors="pt").pixel_values
        with torch.inference_mode():
            return self._encoder(pixels.to(self._model.device, self._model.dtype)).image_embeds

    def scale(self, style_weight: int) -> float:
        """`--sw` as the adapter's scale: the catalog's `scale` at 100, in proportion, at most
        `limits.ADAPTER_SCALE_MAX`."""
        return min(limits.ADAPTER_SCALE_MAX, self.entry.scale * style_weight / limits.STYLE_WEIGHT_DEFAULT)

    def call_kwargs(self, embedding: torch.Tensor, count: int, *, guided: bool) -> dict[str, Any]:
        """`embedding` (one row) for each of a call's `count` images, with the zero embedding
        classifier-free guidance weighs it against when `guided` (as diffusers' own encoding does)."""
        rows = embedding.reshape(1, 1, -1).expand(count, 1, -1)
        if guided:
            rows = torch.cat([torch.zeros_like(rows), rows])
        return {"ip_adapter_image_embeds": [rows]}

    @contextmanager
    def active(self, scale: float) -> Iterator[None]:
        """The adapter's layers in the UNet at `scale` for the calls made meanwhile; out after."""
        self._switch(on=True)
        self._model.text2img.set_ip_adapter_scale(scale)
        try:
            yield
        finally:
            self._switch(on=False)

    def _switch(self, *, on: bool) -> None:
        self._unet.set_attn_processor(dict(self._layers if on else self._plain))  # it empties the dict
        self._unet.encoder_hid_proj = self._projection if on else None
        self._unet.config.encoder_hid_dim_type = "ip_image_proj" if on else None


def _location(entry: AdapterEntry) -> tuple[str | Path, dict[str, Any]]:
    """Where `entry`'s files are, and how `load_ip_adapter` reads them there."""
    match entry.source:
        case HubSource(repo=repo, revision=revision):
            return repo, {"revision": revision}
        case FolderSource(path=path):
            folder = path
        case AdapterBuiltinSource(name=name):
            folder = SHIPPED_ADAPTERS[name]
        case unknown:
            assert_never(unknown)
    weights = folder / entry.subfolder / entry.weight_name
    if not weights.is_file():
        raise AdapterError(f"adapter `{entry.name}`: there is no {weights}")
    return folder, {"local_files_only": True}
