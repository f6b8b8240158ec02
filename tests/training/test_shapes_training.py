"""The shapes model's training script, end to end in miniature: a moment of each phase, saved as a
diffusers folder, loaded through the catalog's loader like any model, and sampled; and a second run
that starts from the first one's VAE."""

from pathlib import Path

import torch
from safetensors.torch import load_file

from models.catalog import CatalogEntry, Family, FolderSource
from models.loader import load_model
from training.shapes import train


def test_the_script_writes_a_pipeline_the_loader_serves(tmp_path: Path) -> None:
    out = tmp_path / "shapes"
    train.main(["--out", str(out), "--batch", "4", "--vae-minutes", "0.01", "--unet-minutes", "0"])
    assert (out / "unet" / "diffusion_pytorch_model.safetensors").exists()
    assert (out / "tokenizer" / "tokenizer.json").exists()
    entry = CatalogEntry.model_validate(
        {
            "name": "shapes",
            "family": Family.SD15,
            "source": FolderSource(path=out),
            "native_width": 64,
            "native_height": 64,
            "size_multiple": 16,
            "max_pixels": 16384,
            "steps": 2,
        }
    )
    model = load_model(entry, cache_dir=tmp_path, device=torch.device("cpu"))
    scale = model.text2img.vae.config.scaling_factor
    assert scale != 0.18215  # set from the trained latents' spread, not SD1.5's constant
    images = model.text2img(
        "a small red circle on a blue background", height=64, width=64, num_inference_steps=2
    ).images
    assert images[0].size == (64, 64)

    again = tmp_path / "again"
    reuse = ["--vae-from", str(out / "vae"), "--vae-minutes", "0", "--unet-minutes", "0"]
    train.main(["--out", str(again), "--batch", "4", *reuse])
    weights = "vae/diffusion_pytorch_model.safetensors"
    first, second = (load_file(folder / weights) for folder in (out, again))
    assert first.keys() == second.keys() and all(torch.equal(first[key], second[key]) for key in first)
