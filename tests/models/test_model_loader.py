"""The loader: catalog entries to resident pipelines, the img2img one sharing the text2img weights."""

from pathlib import Path

import numpy as np
import pytest
import torch
from diffusers import AutoencoderKL, StableDiffusionImg2ImgPipeline, StableDiffusionPipeline
from diffusers.models.attention_processor import AttnProcessor2_0
from PIL import Image

from models.catalog import BuiltinSource, CatalogEntry, FolderSource, HubSource
from models.families import Family
from models.loader import LoadedModel, load_model, pick_device, pick_dtype
from models.pipelines import PIPELINES

CPU = torch.device("cpu")
TINY_OVERRIDES = {
    "native_width": 64,
    "native_height": 64,
    "size_multiple": 8,
    "max_pixels": 16384,
    "steps": 4,
}


def tiny_entry(source: object) -> CatalogEntry:
    return CatalogEntry.model_validate(
        {"name": "t", "family": Family.SD15, "source": source, **TINY_OVERRIDES}
    )


@pytest.fixture(scope="module")
def loaded(tiny_folder: Path) -> LoadedModel:
    return load_model(tiny_entry(FolderSource(path=tiny_folder)), cache_dir=tiny_folder.parent, device=CPU)


def imagine(model: LoadedModel, seed: int, steps: int = 3) -> list[Image.Image]:
    generators = [torch.Generator().manual_seed(seed + i) for i in range(4)]
    return model.text2img(
        ["a red fox"] * 4, num_inference_steps=steps, guidance_scale=7.5, generator=generators,
        width=64, height=64,
    ).images  # fmt: skip


def test_a_folder_loads_as_an_sd_pipeline_pair(loaded):
    assert isinstance(loaded.text2img, StableDiffusionPipeline)
    assert isinstance(loaded.img2img, StableDiffusionImg2ImgPipeline)
    assert (loaded.device, loaded.dtype) == (CPU, torch.float32)
    assert loaded.defaults == loaded.entry.defaults()
    assert loaded.text2img.safety_checker is None


def test_img2img_shares_every_component_with_text2img(loaded):
    for name in ("unet", "vae", "text_encoder", "tokenizer", "scheduler"):
        assert getattr(loaded.img2img, name) is getattr(loaded.text2img, name), name


def test_attention_runs_through_sdpa(loaded):
    for module in (loaded.text2img.unet, loaded.text2img.vae):
        processors = module.attn_processors.values()
        assert processors and all(isinstance(p, AttnProcessor2_0) for p in processors)


def test_a_batch_of_four_is_deterministic_per_seed(loaded):
    first, again, other = imagine(loaded, 7), imagine(loaded, 7), imagine(loaded, 8)
    assert [image.size for image in first] == [(64, 64)] * 4
    assert all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(first, again, strict=True))
    assert not np.array_equal(np.asarray(first[1]), np.asarray(other[1]))
    assert not np.array_equal(np.asarray(first[0]), np.asarray(first[1]))  # each image its own seed


def test_img2img_varies_one_image(loaded):
    source = imagine(loaded, 1)[2]
    out = loaded.img2img(
        ["a red fox"] * 4, image=[source] * 4, strength=loaded.defaults.vary_strong, num_inference_steps=4,
        generator=[torch.Generator().manual_seed(seed) for seed in range(4)],
    ).images  # fmt: skip
    assert [image.size for image in out] == [(64, 64)] * 4
    assert not np.array_equal(np.asarray(out[0]), np.asarray(source))
    assert not np.array_equal(np.asarray(out[0]), np.asarray(out[1]))


def test_a_builtin_loads_through_the_same_path_with_the_same_weights(loaded, tmp_path):
    builtin = load_model(tiny_entry(BuiltinSource(name="tiny")), cache_dir=tmp_path, device=CPU)
    assert (tmp_path / "tiny" / "model_index.json").is_file()
    assert builtin.text2img.name_or_path == str(tmp_path / "tiny")
    ours, theirs = builtin.text2img.unet.state_dict(), loaded.text2img.unet.state_dict()
    assert all(torch.equal(ours[key], theirs[key]) for key in ours)


def test_a_pinned_hub_revision_loads_from_the_local_cache(tiny_folder, tmp_path, monkeypatch):
    # What `hf download` leaves behind, filled by hand: with HF_HUB_OFFLINE nothing is fetched.
    revision = "0123456789abcdef0123456789abcdef01234567"
    snapshot = tmp_path / "hub" / "models--imagine--tiny" / "snapshots" / revision
    snapshot.parent.mkdir(parents=True)
    snapshot.symlink_to(tiny_folder, target_is_directory=True)
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path / "hub"))
    entry = tiny_entry(HubSource(repo="imagine/tiny", revision=revision))
    model = load_model(entry, cache_dir=tmp_path, device=CPU)
    assert model.text2img.name_or_path == "imagine/tiny"
    assert imagine(model, 0, steps=1)[0].size == (64, 64)
    with pytest.raises(OSError, match="not fully cached locally"):  # any other revision
        load_model(
            tiny_entry(HubSource(repo="imagine/tiny", revision="f" * 40)), cache_dir=tmp_path, device=CPU
        )


def test_a_lower_precision_stays_shared(tiny_folder):
    # from_pipe casts shared modules to float32 unless told otherwise: the loader must tell it.
    model = load_model(tiny_entry(FolderSource(path=tiny_folder)), cache_dir=tiny_folder.parent, device=CPU,
                       dtype="bf16")  # fmt: skip
    assert model.dtype is torch.bfloat16
    assert model.text2img.unet.dtype is torch.bfloat16
    assert model.img2img.unet is model.text2img.unet


def test_a_vae_of_its_own_replaces_the_one_in_the_source(tiny_folder, tmp_path):
    published = AutoencoderKL.from_pretrained(tiny_folder / "vae")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(1)
        own = AutoencoderKL.from_config({**published.config, "force_upcast": False})  # other weights
    own.save_pretrained(tmp_path / "vae")
    entry = tiny_entry(FolderSource(path=tiny_folder)).model_copy(
        update={"vae": FolderSource(path=tmp_path / "vae")}
    )
    model = load_model(entry, cache_dir=tiny_folder.parent, device=CPU)
    vae = model.text2img.vae
    assert vae.config.force_upcast is False
    assert torch.equal(vae.decoder.conv_out.weight, own.decoder.conv_out.weight)
    assert not torch.equal(vae.decoder.conv_out.weight, published.decoder.conv_out.weight)
    assert model.img2img.vae is vae
    assert isinstance(vae.attn_processors["decoder.mid_block.attentions.0.processor"], AttnProcessor2_0)


@pytest.mark.parametrize(
    ("device", "requested", "expected"),
    [
        ("cpu", "auto", torch.float32),
        ("cuda", "auto", torch.float16),
        ("cuda", "bf16", torch.bfloat16),
        ("cuda", "fp32", torch.float32),
        ("cpu", "bf16", torch.bfloat16),
    ],
)
def test_pick_dtype(device, requested, expected):
    assert pick_dtype(torch.device(device), requested) is expected


def test_auto_is_each_familys_half_precision_on_a_gpu():
    for name, family in PIPELINES.items():
        expected = torch.float16 if name in ("sd", "sdxl") else torch.bfloat16  # the flow families
        assert family.half_precision is expected, name
        assert pick_dtype(torch.device("cuda"), "auto", half=family.half_precision) is expected
        assert pick_dtype(torch.device("cpu"), "auto", half=family.half_precision) is torch.float32


@pytest.mark.parametrize(
    ("device", "requested", "message"),
    [
        ("cpu", "fp16", "fp16 needs a GPU"),
        ("cpu", "half", "dtype `half` is not one of auto, fp16, bf16, fp32"),
    ],
)
def test_pick_dtype_refuses(device, requested, message):
    with pytest.raises(ValueError, match=message):
        pick_dtype(torch.device(device), requested)


def test_pick_device():
    assert pick_device("cpu") == CPU
    with pytest.raises(ValueError, match="`gpu` is not a device: use cpu, cuda or cuda:<index>"):
        pick_device("gpu")
    assert pick_device() == torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(
            ValueError, match="device `cuda:1` is not available: this machine has 0 CUDA device"
        ):
            pick_device("cuda:1")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_on_a_gpu_in_half_precision(tiny_folder):
    model = load_model(tiny_entry(FolderSource(path=tiny_folder)), cache_dir=tiny_folder.parent)
    assert (model.device.type, model.dtype) == ("cuda", torch.float16)
    assert model.img2img.unet is model.text2img.unet
    assert model.text2img.unet.dtype is torch.float16 and model.text2img.unet.device.type == "cuda"
    assert imagine(model, 0)[0].size == (64, 64)
