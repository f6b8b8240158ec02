"""The catalog's `builtin` models: `shapes`, trained by `training.shapes.train` and shipped with the
package, and `tiny`, random weights built on first use (`models.tiny`); its builtin upscaler
`shapes-2x`, trained by `training.superres.train`; its builtin captioner `shapes-captioner`,
trained by `training.captioner.train`; and its builtin adapter `shapes-ip-adapter`, trained by
`training.adapter.train`."""

from pathlib import Path

from models.tiny import materialize_builtin

SHIPPED: dict[str, Path] = {"shapes": Path(__file__).parent / "shapes" / "model"}
"""Builtins whose weights ship in the package, in the diffusers layout."""
SHIPPED_UPSCALERS: dict[str, Path] = {
    "shapes-2x": Path(__file__).parent / "superres" / "shapes-2x" / "model.safetensors"
}
"""Builtin upscalers: one weights file each (`training.superres.train` made them)."""
SHIPPED_CAPTIONERS: dict[str, Path] = {
    "shapes-captioner": Path(__file__).parent / "captioners" / "shapes-captioner"
}
"""Builtin captioners: a transformers model folder each (`training.captioner.train` made them)."""
SHIPPED_ADAPTERS: dict[str, Path] = {
    "shapes-ip-adapter": Path(__file__).parent / "adapters" / "shapes-ip-adapter"
}
"""Builtin image-prompt adapters, in `load_ip_adapter`'s layout (`training.adapter.train` made them)."""


def builtin_folder(name: str, cache_dir: Path) -> Path:
    """The folder holding builtin `name` in the diffusers layout (built into `cache_dir` if need be)."""
    shipped = SHIPPED.get(name)
    return shipped if shipped is not None else materialize_builtin(name, cache_dir)
