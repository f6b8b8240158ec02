"""Single-file checkpoints: the tiny model's weights in the original (LDM) layout, loaded for real.

Community checkpoints come as one .safetensors file with the keys of the original Stable
Diffusion code (`model.diffusion_model.input_blocks.1.1...`). `to_ldm` writes the tiny pipeline in
that layout (the inverse of diffusers' own conversion for SD1-style models), so `from_single_file`
is exercised end to end, with configs (from a folder or a hub repository) that hold no weights.
"""

import re
import shutil

import pytest
import torch
from diffusers import StableDiffusionPipeline
from diffusers.loaders.single_file_utils import DIFFUSERS_TO_LDM_MAPPING
from safetensors.torch import save_file

from models.catalog import CatalogEntry, FolderSource, HubSource, SingleFileSource
from models.families import Family
from models.loader import load_model
from models.tiny.sd import build_tiny_pipeline

_RESNET = {"norm1": "in_layers.0", "conv1": "in_layers.2", "norm2": "out_layers.0", "conv2": "out_layers.3",
           "time_emb_proj": "emb_layers.1", "conv_shortcut": "skip_connection"}  # fmt: skip
_VAE_ATTENTION = {"group_norm": "norm", "to_q": "q", "to_k": "k", "to_v": "v", "to_out.0": "proj_out"}


def _unet_resnet(rest: str) -> str:
    layer, _, tail = rest.partition(".")
    return f"{_RESNET.get(layer, layer)}.{tail}"


def _unet_key(key: str, pipe: StableDiffusionPipeline) -> str:
    # LDM numbers the UNet's layers flat: input_blocks.0 is conv_in, then per block `layers_per_block`
    # [resnet, attention] pairs and a downsampler; the up path mirrors it with one layer more.
    if key in DIFFUSERS_TO_LDM_MAPPING["unet"]["layers"]:
        return DIFFUSERS_TO_LDM_MAPPING["unet"]["layers"][key]
    step = pipe.unet.config.layers_per_block + 1
    if m := re.fullmatch(r"(down|up)_blocks\.(\d+)\.(resnets|attentions)\.(\d+)\.(.+)", key):
        block = int(m[2]) * step + int(m[4])
        prefix = f"input_blocks.{1 + block}" if m[1] == "down" else f"output_blocks.{block}"
        return f"{prefix}.0.{_unet_resnet(m[5])}" if m[3] == "resnets" else f"{prefix}.1.{m[5]}"
    if m := re.fullmatch(r"down_blocks\.(\d+)\.downsamplers\.0\.conv\.(.+)", key):
        return f"input_blocks.{(int(m[1]) + 1) * step}.0.op.{m[2]}"
    if m := re.fullmatch(r"up_blocks\.(\d+)\.upsamplers\.0\.(conv\..+)", key):
        slot = 2 if hasattr(pipe.unet.up_blocks[int(m[1])], "attentions") else 1
        return f"output_blocks.{(int(m[1]) + 1) * step - 1}.{slot}.{m[2]}"
    if m := re.fullmatch(r"mid_block\.resnets\.(\d+)\.(.+)", key):
        return f"middle_block.{2 * int(m[1])}.{_unet_resnet(m[2])}"
    if m := re.fullmatch(r"mid_block\.attentions\.0\.(.+)", key):
        return f"middle_block.1.{m[1]}"
    raise KeyError(key)


def _vae_key(key: str, pipe: StableDiffusionPipeline) -> str:
    # The LDM decoder numbers its up blocks from the bottom (lowest resolution) up.
    if key in DIFFUSERS_TO_LDM_MAPPING["vae"]:
        return DIFFUSERS_TO_LDM_MAPPING["vae"][key]
    top = len(pipe.vae.config.block_out_channels) - 1
    key = key.replace("conv_shortcut", "nin_shortcut")
    if m := re.fullmatch(r"encoder\.down_blocks\.(\d+)\.(resnets|downsamplers\.0)\.(.+)", key):
        return f"encoder.down.{m[1]}.{'block' if m[2] == 'resnets' else 'downsample'}.{m[3]}"
    if m := re.fullmatch(r"decoder\.up_blocks\.(\d+)\.(resnets|upsamplers\.0)\.(.+)", key):
        return f"decoder.up.{top - int(m[1])}.{'block' if m[2] == 'resnets' else 'upsample'}.{m[3]}"
    if m := re.fullmatch(r"(encoder|decoder)\.mid_block\.resnets\.(\d+)\.(.+)", key):
        return f"{m[1]}.mid.block_{int(m[2]) + 1}.{m[3]}"
    if m := re.fullmatch(r"(encoder|decoder)\.mid_block\.attentions\.0\.(.+)\.(weight|bias)", key):
        return f"{m[1]}.mid.attn_1.{_VAE_ATTENTION[m[2]]}.{m[3]}"
    raise KeyError(key)


def to_ldm(pipe: StableDiffusionPipeline) -> dict[str, torch.Tensor]:
    """The pipeline's weights as an SD1 single-file checkpoint would hold them."""
    checkpoint = {f"model.diffusion_model.{_unet_key(k, pipe)}": v for k, v in pipe.unet.state_dict().items()}
    for key, value in pipe.vae.state_dict().items():
        if ".mid_block.attentions." in key and value.ndim == 2:
            value = value[:, :, None, None]  # the LDM VAE's attention projections are 1×1 convolutions
        checkpoint[f"first_stage_model.{_vae_key(key, pipe)}"] = value
    for key, value in pipe.text_encoder.state_dict().items():
        checkpoint[f"cond_stage_model.transformer.text_model.{key}"] = value
    return {key: value.contiguous() for key, value in checkpoint.items()}


@pytest.fixture(scope="module")
def distinct_tiny() -> StableDiffusionPipeline:
    """A tiny pipeline whose every tensor (norms and biases too) differs from any fresh init."""
    pipe = build_tiny_pipeline(seed=3)
    noise = torch.Generator().manual_seed(5)
    with torch.no_grad():
        for module in (pipe.unet, pipe.vae, pipe.text_encoder):
            for parameter in module.parameters():
                parameter.add_(torch.randn(parameter.shape, generator=noise) * 0.05)
    return pipe


def test_the_checkpoint_has_the_original_layout(distinct_tiny):
    checkpoint = to_ldm(distinct_tiny)
    assert len(checkpoint) == sum(
        len(getattr(distinct_tiny, name).state_dict()) for name in ("unet", "vae", "text_encoder")
    )
    for key in [
        "model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight",
        "model.diffusion_model.input_blocks.2.0.op.weight",
        "model.diffusion_model.middle_block.2.emb_layers.1.weight",
        "model.diffusion_model.output_blocks.1.1.conv.weight",
        "model.diffusion_model.out.2.weight",
        "first_stage_model.decoder.up.0.block.0.nin_shortcut.weight",
        "cond_stage_model.transformer.text_model.embeddings.position_embedding.weight",
    ]:
        assert key in checkpoint, key
    assert checkpoint["first_stage_model.encoder.mid.attn_1.q.weight"].shape == (32, 32, 1, 1)


@pytest.mark.parametrize("configs_from", ["folder", "hub"])
def test_a_single_file_loads_with_configs_that_hold_no_weights(
    distinct_tiny, tmp_path, monkeypatch, configs_from
):
    distinct_tiny.save_pretrained(tmp_path / "saved")
    configs = tmp_path / "configs"
    shutil.copytree(tmp_path / "saved", configs, ignore=shutil.ignore_patterns("*.safetensors"))
    save_file(to_ldm(distinct_tiny), tmp_path / "tiny.safetensors")
    config: FolderSource | HubSource = FolderSource(path=configs)
    if configs_from == "hub":  # a hand-filled Hugging Face cache holding the configs repository
        config = HubSource(repo="imagine/tiny-configs", revision="89abcdef" * 5)
        snapshot = tmp_path / "hub" / "models--imagine--tiny-configs" / "snapshots" / config.revision
        snapshot.parent.mkdir(parents=True)
        snapshot.symlink_to(configs, target_is_directory=True)
        monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path / "hub"))
    entry = CatalogEntry(
        name="community",
        family=Family.SD15,
        source=SingleFileSource(path=tmp_path / "tiny.safetensors", config=config),
        native_width=64,
        native_height=64,
        size_multiple=8,
        max_pixels=16384,
    )
    model = load_model(entry, cache_dir=tmp_path, device=torch.device("cpu"))
    assert isinstance(model.text2img, StableDiffusionPipeline)
    assert model.img2img.unet is model.text2img.unet
    for name in ("unet", "vae", "text_encoder"):
        expected, loaded = (
            getattr(distinct_tiny, name).state_dict(),
            getattr(model.text2img, name).state_dict(),
        )
        assert expected.keys() == loaded.keys()
        assert [key for key in expected if not torch.equal(expected[key], loaded[key])] == [], name
    image = model.text2img(
        "a lighthouse", num_inference_steps=1, generator=torch.Generator().manual_seed(0)
    ).images[0]
    assert image.size == (64, 64)
