"""Load a catalog model into memory: a text-to-image pipeline, and the image-to-image and inpainting
pipelines built on its modules.

Only the worker imports this module (it needs torch and diffusers).
"""

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, assert_never

import torch
from diffusers import DiffusionPipeline, ModelMixin
from diffusers.loaders.single_file_utils import SingleFileComponentError
from diffusers.models.attention_processor import AttnProcessor2_0

from models.builtins import builtin_folder
from models.catalog import BuiltinSource, CatalogEntry, FolderSource, HubSource, SingleFileSource
from models.families import FamilyDefaults
from models.pipelines import PIPELINES, PipelineFamily
from models.safety import ComponentSource, own_checker_source
from models.settings import Offload

_DTYPES = {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32}


@dataclass(frozen=True)
class LoadedModel:
    """A model ready to run: both pipelines hold the very same modules (one copy of the weights)."""

    entry: CatalogEntry
    defaults: FamilyDefaults
    pipeline: PipelineFamily
    """How this family's pipelines are conditioned and run (`models.pipelines`)."""
    text2img: DiffusionPipeline
    img2img: DiffusionPipeline
    inpaint: DiffusionPipeline
    device: torch.device
    dtype: torch.dtype
    safety_checker: ComponentSource | None = None
    """Where the model's own safety checker is, when it ships one. Never part of the pipelines:
    the worker loads it (`models.safety`) the first time a job asks for an NSFW check."""


def pick_device(requested: str | None = None) -> torch.device:
    """`requested` ("cpu", "cuda", "cuda:1"), or the first GPU when there is one, else the CPU."""
    if requested is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(requested)
    except RuntimeError:
        raise ValueError(f"`{requested}` is not a device: use cpu, cuda or cuda:<index>") from None
    if device.type == "cuda":
        count = torch.cuda.device_count()
        if (device.index or 0) >= count:
            raise ValueError(
                f"device `{requested}` is not available: this machine has {count} CUDA device(s)"
            )
    return device


def pick_dtype(
    device: torch.device, requested: str = "auto", *, half: torch.dtype = torch.float16
) -> torch.dtype:
    """The weights' precision: "auto" is the family's `half` precision on a GPU (fp16, or bf16 for
    the flow families) and fp32 on the CPU; or "fp16", "bf16", "fp32"."""
    if requested == "auto":
        return half if device.type == "cuda" else torch.float32
    dtype = _DTYPES.get(requested)
    if dtype is None:
        raise ValueError(f"dtype `{requested}` is not one of auto, {', '.join(_DTYPES)}")
    if dtype is torch.float16 and device.type == "cpu":
        raise ValueError("fp16 needs a GPU: on the CPU use fp32 (or bf16)")
    return dtype


def load_model(
    entry: CatalogEntry,
    *,
    cache_dir: Path,
    device: torch.device | None = None,
    dtype: str = "auto",
    offload: Offload = "none",
) -> LoadedModel:
    """Load `entry`'s weights onto `device` (default: `pick_device()`), or with `offload` into main
    memory, from where diffusers' hooks move each part onto the GPU `device` while it runs.

    `cache_dir` holds the builtin models, built there on first use; hub weights use the standard
    Hugging Face cache, so `HF_HUB_OFFLINE=1` with a filled cache needs no network.
    """
    defaults = entry.defaults()
    family = PIPELINES[defaults.pipeline]
    device = pick_device() if device is None else device
    torch_dtype = pick_dtype(device, dtype, half=family.half_precision)
    text2img = _load_text2img(entry, family, torch_dtype, cache_dir)
    if offload == "none":
        text2img.to(device)
    # diffusers picks SDPA by default when torch has it; setting it makes that a guarantee.
    for module in family.attention_modules(text2img):
        module.set_attn_processor(AttnProcessor2_0())
    img2img = _derived(family.img2img, text2img, torch_dtype)
    inpaint = _derived(family.inpaint, text2img, torch_dtype)
    for pipeline in (text2img, img2img, inpaint):
        pipeline.set_progress_bar_config(disable=True)
    # The hooks sit on the modules, which the three pipelines share: one call offloads them all.
    if offload == "model":
        text2img.enable_model_cpu_offload(device=device)
    elif offload == "sequential":
        text2img.enable_sequential_cpu_offload(device=device)
    safety_checker = own_checker_source(entry, cache_dir) if family.ships_safety_checker else None
    return LoadedModel(
        entry, defaults, family, text2img, img2img, inpaint, device, torch_dtype, safety_checker
    )


def _load_text2img(
    entry: CatalogEntry, family: PipelineFamily, torch_dtype: torch.dtype, cache_dir: Path
) -> DiffusionPipeline:
    cls = family.text2img
    extra: dict[str, Any] = family.load_options()
    if entry.vae is not None:
        extra["vae"] = _load_vae(family.vae, entry.vae, torch_dtype)
    match entry.source:
        case HubSource(repo=repo, revision=revision, variant=variant):
            return cls.from_pretrained(repo, revision=revision, variant=variant, dtype=torch_dtype, **extra)
        case FolderSource(path=path):
            return cls.from_pretrained(str(path), local_files_only=True, dtype=torch_dtype, **extra)
        case BuiltinSource(name=name):
            folder = builtin_folder(name, cache_dir)
            return cls.from_pretrained(str(folder), local_files_only=True, dtype=torch_dtype, **extra)
        case SingleFileSource(path=path, config=config):
            where: dict[str, Any] = {}
            if isinstance(config, HubSource):
                where = {"config": config.repo, "revision": config.revision}
            elif isinstance(config, FolderSource):
                where = {"config": str(config.path), "local_files_only": True}
            try:
                return cls.from_single_file(str(path), dtype=torch_dtype, **where, **extra)
            except SingleFileComponentError:
                if family.denoiser_file is None:
                    raise
            # The community's FLUX files hold the transformer alone: the rest comes from `config`.
            if config is None:
                raise ValueError(
                    f"{path} holds only the model's transformer: give its source a `config` (the "
                    "diffusers repository or folder) to take the text encoders and the VAE from"
                ) from None
            denoiser = family.denoiser_file.from_single_file(
                str(path), subfolder="transformer", dtype=torch_dtype, **where
            )
            where["pretrained_model_name_or_path"] = where.pop("config")
            return cls.from_pretrained(transformer=denoiser, dtype=torch_dtype, **where, **extra)
        case unknown:
            assert_never(unknown)


def _load_vae(
    cls: type[ModelMixin], source: HubSource | FolderSource, torch_dtype: torch.dtype
) -> ModelMixin:
    match source:
        case HubSource(repo=repo, revision=revision, variant=variant):
            return cls.from_pretrained(repo, revision=revision, variant=variant, dtype=torch_dtype)
        case FolderSource(path=path):
            return cls.from_pretrained(str(path), local_files_only=True, dtype=torch_dtype)
        case unknown:
            assert_never(unknown)


def _derived(
    cls: type[DiffusionPipeline], text2img: DiffusionPipeline, torch_dtype: torch.dtype
) -> DiffusionPipeline:
    """A pipeline of `cls` on `text2img`'s very modules."""
    # from_pipe casts the shared modules to its `dtype` (float32 when none is given), which would
    # also change text2img's; and it logs a spurious "should be kept in float32: []" warning per
    # model while doing so (diffusers 0.42), which we keep out of the worker's log.
    modeling_log = logging.getLogger("diffusers.models.modeling_utils")
    level = modeling_log.level
    modeling_log.setLevel(logging.ERROR)
    try:
        return cls.from_pipe(text2img, dtype=torch_dtype)
    finally:
        modeling_log.setLevel(level)
