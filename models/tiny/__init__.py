"""Tiny pipelines with random weights, each a family's architecture in miniature: for tests.

Each exercises the same code paths as a real model of its family: saved in the diffusers layout,
loaded by `models.loader`, run as text-to-image and image-to-image. Their images are coloured
noise. Native 64×64; their VAEs downscale 4×.
"""

import fcntl
import tempfile
from collections.abc import Callable
from pathlib import Path

from diffusers import DiffusionPipeline

from models.tiny.flux import build_tiny_flux
from models.tiny.flux2_klein import build_tiny_flux2_klein
from models.tiny.qwen_image import build_tiny_qwen_image
from models.tiny.sd import build_tiny_pipeline
from models.tiny.sd3 import build_tiny_sd3
from models.tiny.z_image import build_tiny_z_image

BUILD_VERSION = "1"
"""Bump when a builtin's architecture or weights change, so cached copies are rebuilt."""
_MARKER = "imagine-builtin.txt"
BUILTINS: dict[str, Callable[[], DiffusionPipeline]] = {
    "tiny": build_tiny_pipeline,
    "tiny-flux": build_tiny_flux,
    "tiny-sd3": build_tiny_sd3,
    "tiny-flux2-klein": build_tiny_flux2_klein,
    "tiny-z-image": build_tiny_z_image,
    "tiny-qwen-image": build_tiny_qwen_image,
}


def materialize_builtin(name: str, cache_dir: Path) -> Path:
    """The folder holding builtin `name` in the diffusers layout, built and saved on first use.

    Safe with several workers sharing `cache_dir`: a lock file serialises the builders, each
    build is written to a temporary folder and renamed into place whole, and a folder without the
    current version marker (an interrupted or older build) is replaced.
    """
    build = BUILTINS.get(name)
    if build is None:
        raise ValueError(f"there is no builtin model `{name}`; builtins: {', '.join(BUILTINS)}")
    target = cache_dir / name
    if _is_current(target):
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    with (cache_dir / f".{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if _is_current(target):  # another worker built it while we waited
            return target
        with tempfile.TemporaryDirectory(dir=cache_dir, prefix=f".{name}-") as scratch:
            staging = Path(scratch) / name
            build().save_pretrained(staging)
            (staging / _MARKER).write_text(BUILD_VERSION, encoding="utf-8")
            if target.exists():
                target.rename(Path(scratch) / "outdated")  # deleted with the scratch folder
            staging.rename(target)
    return target


def _is_current(folder: Path) -> bool:
    marker = folder / _MARKER
    return marker.is_file() and marker.read_text(encoding="utf-8") == BUILD_VERSION
