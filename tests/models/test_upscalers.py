"""Upscalers in the catalog, and their weights read through the production loader (spandrel): the
shipped `shapes-2x`, and random weights in the layouts the community ships (Real-ESRGAN's `.pth`
files, flat `.safetensors`), each a few kilobytes."""

import textwrap
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from models.catalog import CatalogError, UnknownModelError, UpscalerEntry, load_catalog
from models.upscalers import UpscalerError, load_upscaler, spandrel

CPU = torch.device("cpu")
MODELS = """
default = "tiny"

[[models]]
name = "tiny"
family = "sd15"
source = { kind = "builtin", name = "tiny" }
"""


def _catalog(tmp_path: Path, upscalers: str) -> Path:
    path = tmp_path / "catalog.toml"
    path.write_text(MODELS + textwrap.dedent(upscalers), encoding="utf-8")
    return path


def _file_entry(path: Path, scale: int) -> UpscalerEntry:
    return UpscalerEntry.model_validate(
        {"name": "up", "source": {"kind": "file", "path": path}, "scale": scale}
    )


def _compact(scale: int) -> dict[str, torch.Tensor]:
    """Real-ESRGAN's compact model (SRVGGNetCompact, as `realesr-general-x4v3.pth`), in miniature."""
    torch.manual_seed(0)
    model = spandrel.architectures.Compact.Compact(num_feat=8, num_conv=2, upscale=scale)
    return model.state_dict()


def _rrdb_basicsr(features: int = 8, growth: int = 32) -> dict[str, torch.Tensor]:
    """Real-ESRGAN's RRDBNet 4× in BasicSR's key layout (as `RealESRGAN_x4plus.pth`), one block
    (the growth of 32 channels is what every ESRGAN has, and what spandrel assumes)."""
    generator = torch.Generator().manual_seed(0)

    def conv(out: int, inp: int) -> dict[str, torch.Tensor]:
        weight = torch.randn(out, inp, 3, 3, generator=generator) * 0.05
        return {"weight": weight, "bias": torch.zeros(out)}

    layers = {"conv_first": conv(features, 3)}
    for rdb in (1, 2, 3):
        for i in range(1, 5):
            layers[f"body.0.rdb{rdb}.conv{i}"] = conv(growth, features + (i - 1) * growth)
        layers[f"body.0.rdb{rdb}.conv5"] = conv(features, features + 4 * growth)
    for name in ("conv_body", "conv_up1", "conv_up2", "conv_hr"):
        layers[name] = conv(features, features)
    layers["conv_last"] = conv(3, features)
    return {f"{layer}.{kind}": tensor for layer, params in layers.items() for kind, tensor in params.items()}


def test_the_builtin_catalog_serves_shapes_2x_and_it_loads_through_spandrel() -> None:
    entry = load_catalog().upscaler("shapes-2x")
    model = load_upscaler(entry, device=CPU)
    assert (model.architecture.id, model.scale, model.dtype) == ("Compact", 2, torch.float32)
    out = model(torch.rand(1, 3, 16, 24))
    assert out.shape == (1, 3, 32, 48)


def test_a_catalog_reads_each_source_kind(tmp_path: Path) -> None:
    catalog = load_catalog(
        _catalog(
            tmp_path,
            """
            [[upscalers]]
            name = "realesrgan-x4"
            source = { kind = "file", path = "weights/RealESRGAN_x4plus.pth" }
            scale = 4
            [[upscalers]]
            name = "x2"
            source = { kind = "hub", repo = "owner/name", revision = "abc123", filename = "x2.safetensors" }
            scale = 2
            """,
        )
    )
    assert catalog.upscaler_names == ("realesrgan-x4", "x2")
    assert catalog.upscaler("realesrgan-x4").source.path == tmp_path / "weights" / "RealESRGAN_x4plus.pth"
    with pytest.raises(
        UnknownModelError, match=r"There is no upscaler `x3`\. Available: `realesrgan-x4`, `x2`"
    ):
        catalog.upscaler("x3")


@pytest.mark.parametrize(
    ("upscaler", "message"),
    [
        (
            'name = "a"\nsource = { kind = "file", path = "a.pth" }\nscale = 5',
            r"upscalers\[0\]\.scale \(upscaler `a`\): Input should be 2, 3, 4 or 8",
        ),
        (
            'name = "a"\nsource = { kind = "file", path = "w/a.ckpt" }\nscale = 4',
            r"upscalers\[0\]\.source\.path \(upscaler `a`\): `a.ckpt` is not a .safetensors or .pth file",
        ),
        (
            'name = "a"\nscale = 4\n'
            'source = { kind = "hub", repo = "o/n", revision = "1", filename = "a.ckpt" }',
            r"upscalers\[0\]\.source\.filename \(upscaler `a`\): String should match pattern",
        ),
        (
            'name = "a"\nsource = { kind = "builtin", name = "a" }\nscale = 2',
            r"upscalers\[0\]\.source\.name \(upscaler `a`\): Input should be 'shapes-2x'",
        ),
        (
            'name = "a"\nsource = { kind = "file", path = "a.pth" }',
            r"upscalers\[0\]\.scale \(upscaler `a`\): Field required",
        ),
    ],
)
def test_a_bad_upscaler_entry_is_refused_naming_the_field(
    tmp_path: Path, upscaler: str, message: str
) -> None:
    with pytest.raises(CatalogError, match=message):
        load_catalog(_catalog(tmp_path, f"[[upscalers]]\n{upscaler}\n"))


def test_upscaler_names_must_be_unique(tmp_path: Path) -> None:
    entry = '[[upscalers]]\nname = "a"\nsource = { kind = "builtin", name = "shapes-2x" }\nscale = 2\n'
    with pytest.raises(CatalogError, match="upscaler names must be unique; repeated: a"):
        load_catalog(_catalog(tmp_path, entry * 2))


def test_a_missing_file_is_refused_when_loading(tmp_path: Path) -> None:
    with pytest.raises(UpscalerError, match=r"upscaler `up`: there is no file .*absent\.safetensors"):
        load_upscaler(_file_entry(tmp_path / "absent.safetensors", 2), device=CPU)


@pytest.mark.parametrize(
    ("layout", "build", "scale", "architecture"),
    [
        ("params", lambda: {"params": _compact(4)}, 4, "Compact"),  # realesr-general-x4v3.pth
        ("params_ema", lambda: {"params_ema": _rrdb_basicsr()}, 4, "ESRGAN"),  # RealESRGAN_x4plus.pth
        ("flat", lambda: _compact(2), 2, "Compact"),
    ],
)
@pytest.mark.parametrize("suffix", [".pth", ".safetensors"])
def test_community_layouts_load_through_the_same_path(
    tmp_path: Path, layout: str, build, scale: int, architecture: str, suffix: str
) -> None:
    weights = build()
    path = tmp_path / f"model{suffix}"
    if suffix == ".pth":
        torch.save(weights, path)
    else:  # safetensors files hold flat state dicts, as converted models ship
        flat = next(iter(weights.values())) if layout != "flat" else weights
        save_file({key: tensor.contiguous() for key, tensor in flat.items()}, path)
    model = load_upscaler(_file_entry(path, scale), device=CPU)
    assert (model.architecture.id, model.scale) == (architecture, scale)
    assert model(torch.rand(1, 3, 8, 8)).shape == (1, 3, 8 * scale, 8 * scale)


def test_a_pth_holding_more_than_tensors_is_not_unpickled(tmp_path: Path) -> None:
    path = tmp_path / "model.pth"
    torch.save({"params": _compact(2), "config": Path("anything")}, path)  # an arbitrary object
    with pytest.raises(UpscalerError, match="holds more than weights, so it is not read"):
        load_upscaler(_file_entry(path, 2), device=CPU)


def test_weights_of_another_scale_than_the_entry_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.safetensors"
    save_file(_compact(4), path)
    with pytest.raises(
        UpscalerError, match=r"has `scale = 2`, but model.safetensors upscales 4×: set `scale = 4`"
    ):
        load_upscaler(_file_entry(path, 2), device=CPU)


def test_weights_spandrel_does_not_know_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.safetensors"
    save_file({"unknown.weight": torch.zeros(2, 2)}, path)
    with pytest.raises(UpscalerError, match="not a model architecture spandrel knows"):
        load_upscaler(_file_entry(path, 2), device=CPU)
