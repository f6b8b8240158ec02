"""A FLUX fine-tune as the community ships it: the transformer alone, in one .safetensors file with
Black Forest Labs' original keys (`double_blocks.0.img_attn.qkv.weight`, …), loaded for real.

diffusers' converter splits the single blocks' fused projection at FLUX.1's width (3072), so the
transformer here is that wide, with one block of each kind (531 M parameters, 1 GB in bf16): the
narrowest a file in that layout can be. `to_original` writes it in BFL's layout (the inverse of the
converter); the text encoders and the VAE come from the source's `config`, a diffusers folder.
"""

from pathlib import Path

import pytest
import torch
from diffusers import FluxPipeline, FluxTransformer2DModel
from safetensors.torch import save_file

from models.catalog import CatalogEntry, FolderSource, SingleFileSource
from models.families import Family
from models.loader import load_model
from models.tiny.flux import build_tiny_flux

_RENAMED = {
    "time_in.in_layer": "time_text_embed.timestep_embedder.linear_1",
    "time_in.out_layer": "time_text_embed.timestep_embedder.linear_2",
    "vector_in.in_layer": "time_text_embed.text_embedder.linear_1",
    "vector_in.out_layer": "time_text_embed.text_embedder.linear_2",
    "guidance_in.in_layer": "time_text_embed.guidance_embedder.linear_1",
    "guidance_in.out_layer": "time_text_embed.guidance_embedder.linear_2",
    "txt_in": "context_embedder",
    "img_in": "x_embedder",
    "final_layer.linear": "proj_out",
}
_DOUBLE = {
    "img_mod.lin": "norm1.linear",
    "txt_mod.lin": "norm1_context.linear",
    "img_mlp.0": "ff.net.0.proj",
    "img_mlp.2": "ff.net.2",
    "txt_mlp.0": "ff_context.net.0.proj",
    "txt_mlp.2": "ff_context.net.2",
    "img_attn.proj": "attn.to_out.0",
    "txt_attn.proj": "attn.to_add_out",
}
_DOUBLE_NORMS = {
    "img_attn.norm.query_norm.scale": "attn.norm_q.weight",
    "img_attn.norm.key_norm.scale": "attn.norm_k.weight",
    "txt_attn.norm.query_norm.scale": "attn.norm_added_q.weight",
    "txt_attn.norm.key_norm.scale": "attn.norm_added_k.weight",
}


def to_original(weights: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A FluxTransformer2DModel's state dict (one block of each kind) in BFL's original layout."""
    left = dict(weights)
    out = {}
    for kind in ("weight", "bias"):
        for original, ours in _RENAMED.items():
            out[f"{original}.{kind}"] = left.pop(f"{ours}.{kind}")
        shift, scale = left.pop(f"norm_out.linear.{kind}").chunk(2)  # BFL's order: shift, scale
        out[f"final_layer.adaLN_modulation.1.{kind}"] = torch.cat([scale, shift])
        block, ours = "double_blocks.0.", "transformer_blocks.0."
        for original, name in _DOUBLE.items():
            out[f"{block}{original}.{kind}"] = left.pop(f"{ours}{name}.{kind}")
        out[f"{block}img_attn.qkv.{kind}"] = torch.cat([left.pop(f"{ours}attn.to_{x}.{kind}") for x in "qkv"])
        context = [left.pop(f"{ours}attn.add_{x}_proj.{kind}") for x in "qkv"]
        out[f"{block}txt_attn.qkv.{kind}"] = torch.cat(context)
        block, ours = "single_blocks.0.", "single_transformer_blocks.0."
        out[f"{block}modulation.lin.{kind}"] = left.pop(f"{ours}norm.linear.{kind}")
        fused = [left.pop(f"{ours}attn.to_{x}.{kind}") for x in "qkv"] + [left.pop(f"{ours}proj_mlp.{kind}")]
        out[f"{block}linear1.{kind}"] = torch.cat(fused)
        out[f"{block}linear2.{kind}"] = left.pop(f"{ours}proj_out.{kind}")
    for original, ours in _DOUBLE_NORMS.items():
        out[f"double_blocks.0.{original}"] = left.pop(f"transformer_blocks.0.{ours}")
    out["single_blocks.0.norm.query_norm.scale"] = left.pop("single_transformer_blocks.0.attn.norm_q.weight")
    out["single_blocks.0.norm.key_norm.scale"] = left.pop("single_transformer_blocks.0.attn.norm_k.weight")
    assert not left, f"not mapped: {sorted(left)}"
    return {key: tensor.contiguous() for key, tensor in out.items()}


@pytest.fixture(scope="module")
def community_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, torch.Tensor]]:
    """The file, a config folder (tiny-flux's encoders and VAE, the wide transformer's config only)
    and the weights the file was written from."""
    folder = tmp_path_factory.mktemp("flux-file")
    tiny = build_tiny_flux()
    with torch.device("meta"):
        wide = FluxTransformer2DModel(
            in_channels=64,
            num_layers=1,
            num_single_layers=1,
            attention_head_dim=128,
            num_attention_heads=24,  # 3072 wide, as FLUX.1
            joint_attention_dim=tiny.text_encoder_2.config.d_model,
            pooled_projection_dim=tiny.text_encoder.config.projection_dim,
            axes_dims_rope=(16, 56, 56),
            guidance_embeds=True,  # FLUX.1-dev's
        )
    wide = wide.to_empty(device="cpu").to(torch.bfloat16)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for parameter in wide.parameters():
            parameter.normal_(std=0.02, generator=generator)
    tiny.transformer = None
    tiny.save_pretrained(folder / "config")
    wide.save_config(folder / "config" / "transformer")  # a config, no weights
    weights = wide.state_dict()
    save_file(to_original(weights), folder / "flux1-finetune.safetensors")
    return folder / "flux1-finetune.safetensors", folder / "config", weights


def test_a_transformer_only_flux_file_loads_with_every_weight_identical(community_file, tmp_path):
    path, config, weights = community_file
    entry = CatalogEntry(
        name="flux-finetune",
        family=Family.FLUX,
        source=SingleFileSource(path=path, config=FolderSource(path=config)),
        native_width=64,
        native_height=64,
        size_multiple=16,
        max_pixels=16384,
    )
    model = load_model(entry, cache_dir=tmp_path, device=torch.device("cpu"), dtype="bf16")
    assert isinstance(model.text2img, FluxPipeline)
    loaded = model.text2img.transformer.state_dict()
    assert loaded.keys() == weights.keys()
    assert all(torch.equal(loaded[key], weights[key]) for key in weights)
    assert model.img2img.transformer is model.text2img.transformer  # one copy
    tiny = build_tiny_flux()  # the text encoders and the VAE came from the config folder
    assert torch.equal(
        model.text2img.vae.decoder.conv_out.weight, tiny.vae.decoder.conv_out.weight.to(torch.bfloat16)
    )
