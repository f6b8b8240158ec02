"""`--tile`: seamless textures by making every convolution wrap around the image's edges."""

from collections.abc import Iterator
from contextlib import contextmanager

import torch


@contextmanager
def seamless(*modules: torch.nn.Module, enabled: bool = True) -> Iterator[None]:
    """Switches the Conv2d layers of `modules` to circular padding for the duration of one job.

    The pipelines stay resident and are shared by every job, so the padding is put back after.
    """
    convs = [layer for module in modules for layer in module.modules() if isinstance(layer, torch.nn.Conv2d)]
    previous = [conv.padding_mode for conv in convs]
    if enabled:
        for conv in convs:
            conv.padding_mode = "circular"
    try:
        yield
    finally:
        for conv, mode in zip(convs, previous, strict=True):
            conv.padding_mode = mode
