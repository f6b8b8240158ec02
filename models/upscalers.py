"""Load a catalog upscaler: a super-resolution model, read by spandrel, which tells the community's
architectures (Real-ESRGAN and its compact variant, ESRGAN, SwinIR, HAT, ...) from their weights.

Only the worker imports this module (it needs torch).

spandrel 0.4.2 imports torchvision when it is imported, for two architectures that are not
super-resolution (LaMa inpainting and RestoreFormer face restoration). PyPI's torchvision does not
import beside a CPU build of torch, and a matching one comes only with a multi-GB CUDA torch, so
where torchvision is not installed spandrel is imported with a stand-in for it that fails if it is
ever called: every super-resolution architecture loads and runs as usual
(`models/superres/shapes-2x/README.md` weighs the options).
"""

import importlib.abc
import importlib.machinery
import importlib.util
import logging
import pickle
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, assert_never

import torch
from huggingface_hub import hf_hub_download
from safetensors.torch import load_file

from models.builtins import SHIPPED_UPSCALERS
from models.catalog import UpscalerBuiltinSource, UpscalerEntry, UpscalerFileSource, UpscalerHubSource
from models.loader import pick_device, pick_dtype

log = logging.getLogger(__name__)


class UpscalerError(ValueError):
    """Weights that are missing, unsafe to read, or not a super-resolution model fitting their entry."""


class _Missing:
    """What the stand-in torchvision holds for every name: fails when used, saying why."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __call__(self, *args: object, **kwargs: object) -> Any:
        raise ModuleNotFoundError(
            f"`torchvision.{self._name}` is needed here and torchvision is not installed"
        )

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # what the import system, copy and inspect look up stays absent
            raise AttributeError(name)
        return self()


def _stand_in_name(name: str) -> _Missing:
    if name.startswith("__"):
        raise AttributeError(name)
    return _Missing(name)


class _TorchvisionStandIn(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname: str, path: object = None, target: object = None) -> Any:
        if fullname == "torchvision" or fullname.startswith("torchvision."):
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        module = types.ModuleType(spec.name)
        module.__path__ = []
        module.__getattr__ = _stand_in_name  # type: ignore[method-assign]  # PEP 562: any name
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        pass


@contextmanager
def _torchvision_stand_in() -> Iterator[None]:
    """A stand-in torchvision while spandrel is imported, when there is none; gone afterwards, so no
    other library (transformers checks) ever sees it."""
    if importlib.util.find_spec("torchvision") is not None:
        yield
        return
    finder = _TorchvisionStandIn()
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)
        for name in [name for name in sys.modules if name.split(".")[0] == "torchvision"]:
            del sys.modules[name]


with _torchvision_stand_in():
    import spandrel


def load_upscaler(
    entry: UpscalerEntry, *, device: torch.device | None = None, dtype: str = "auto"
) -> spandrel.ImageModelDescriptor[Any]:
    """`entry`'s model on `device` (default: `pick_device()`) in eval mode: call it with a (1, 3, H, W)
    tensor in [0, 1] of its dtype to get (1, 3, H·scale, W·scale).

    `dtype` is as the diffusion models' ("auto": fp16 on a GPU, fp32 on the CPU); an architecture
    that spandrel marks unsafe in half precision runs in bf16 or fp32 instead. Raises UpscalerError
    when the weights are missing, are not a 3-channel super-resolution model, or their scale is not
    the entry's.
    """
    path = weights_file(entry)
    state_dict = spandrel.canonicalize_state_dict(read_weights(path))
    try:
        descriptor = spandrel.ModelLoader().load_from_state_dict(state_dict)
    except spandrel.UnsupportedModelError:
        raise UpscalerError(
            f"upscaler `{entry.name}`: {path.name} is not a model architecture spandrel knows"
        ) from None
    except RuntimeError as exc:  # a known architecture's keys with shapes it cannot take
        first = str(exc).splitlines()[0]
        raise UpscalerError(
            f"upscaler `{entry.name}`: {path.name} does not fit its architecture: {first}"
        ) from None
    if not isinstance(descriptor, spandrel.ImageModelDescriptor) or descriptor.purpose != "SR":
        raise UpscalerError(
            f"upscaler `{entry.name}`: {path.name} is a {descriptor.architecture.name} model for"
            f" {descriptor.purpose}, not super-resolution"
        )
    if (descriptor.input_channels, descriptor.output_channels) != (3, 3):
        raise UpscalerError(f"upscaler `{entry.name}`: {path.name} is not an RGB model")
    if descriptor.scale != entry.scale:
        raise UpscalerError(
            f"upscaler `{entry.name}` has `scale = {entry.scale}`, but {path.name} upscales"
            f" {descriptor.scale}×: set `scale = {descriptor.scale}`"
        )
    device = pick_device() if device is None else device
    torch_dtype = _supported(descriptor, pick_dtype(device, dtype))
    return descriptor.to(device=device, dtype=torch_dtype).eval()


def weights_file(entry: UpscalerEntry) -> Path:
    """The weights file of `entry` (a hub file is downloaded into the Hugging Face cache once)."""
    match entry.source:
        case UpscalerFileSource(path=path):
            pass
        case UpscalerHubSource(repo=repo, revision=revision, filename=filename):
            path = Path(hf_hub_download(repo, filename, revision=revision))
        case UpscalerBuiltinSource(name=name):
            path = SHIPPED_UPSCALERS[name]
        case unknown:
            assert_never(unknown)
    if not path.is_file():
        raise UpscalerError(f"upscaler `{entry.name}`: there is no file {path}")
    return path


def read_weights(path: Path) -> dict[str, Any]:
    """The tensors in a `.safetensors` or `.pth` file; a `.pth` is unpickled with
    `weights_only=True`, which refuses anything but tensors and plain containers."""
    if path.suffix == ".safetensors":
        return load_file(path)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise UpscalerError(f"{path.name} holds more than weights, so it is not read: {exc}") from None


def _supported(descriptor: spandrel.ImageModelDescriptor[Any], dtype: torch.dtype) -> torch.dtype:
    if dtype is torch.float16 and not descriptor.supports_half:
        fallback = torch.bfloat16 if descriptor.supports_bfloat16 else torch.float32
    elif dtype is torch.bfloat16 and not descriptor.supports_bfloat16:
        fallback = torch.float32
    else:
        return dtype
    log.info("%s does not run in %s: using %s", descriptor.architecture.name, dtype, fallback)
    return fallback
