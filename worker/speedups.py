"""The speed-ups a worker can be told to apply (`IMAGINE_SPEEDUPS`), apart from `worker.acceleration`,
which applies them: reading the settings must not import torch (seconds, before any check)."""

from enum import StrEnum


class Speedup(StrEnum):
    CHANNELS_LAST = "channels_last"
    """The UNet's and VAE's convolution weights in NHWC order, which tensor-core kernels prefer."""
    FUSED_QKV = "fused_qkv"
    """One matrix multiplication for attention's query, key and value projections instead of three."""
    COMPILE = "compile"
    """`torch.compile` of the UNet, one graph per input shape, compiled by a warm-up at start."""
