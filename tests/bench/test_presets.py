"""The FLUX.1 presets are FLUX.1's architecture (checked on the meta device: nothing is allocated),
and the benchmark's transformer path runs end to end on the CPU on `tiny-flux`'s architecture."""

import json
from pathlib import Path

import pytest
import torch

import bench.__main__ as bench_main
from bench import ablation
from bench.grid import denoiser_flops, denoiser_name
from bench.presets import PRESETS, Preset, _flux_vae, flux_transformer, t5_xxl_encoder
from models.families import Family
from models.tiny.flux import build_tiny_flux
from models.tiny.parts import byte_level_tokenizer

# Parameter counts of the published checkpoints (the safetensors' tensors summed): FLUX.1-dev's
# transformer 11.90 B (schnell's lacks the guidance embedder: two linear layers, 256 → 3072 → 3072),
# google/t5-v1_1-xxl's encoder 4.76 B.
FLUX_DEV_TRANSFORMER = 11.90e9
GUIDANCE_EMBEDDER = (256 * 3072 + 3072) + (3072 * 3072 + 3072)
T5_XXL_ENCODER = 4.762e9


def _parameters(module: torch.nn.Module) -> int:
    return sum(parameter.numel() for parameter in module.parameters())


def test_the_flux_transformers_and_t5_have_the_published_sizes():
    with torch.device("meta"):
        dev = flux_transformer(guidance_embeds=True)
        schnell = flux_transformer(guidance_embeds=False)
        t5 = t5_xxl_encoder(byte_level_tokenizer(model_max_length=512))
    assert _parameters(dev) == pytest.approx(FLUX_DEV_TRANSFORMER, rel=0.01)
    assert _parameters(dev) - _parameters(schnell) == GUIDANCE_EMBEDDER
    assert hasattr(dev.time_text_embed, "guidance_embedder")
    assert not hasattr(schnell.time_text_embed, "guidance_embedder")
    assert _parameters(t5) == pytest.approx(T5_XXL_ENCODER, rel=0.01)
    assert next(dev.parameters()).device.type == "meta"


def test_the_flux_presets_settings():
    schnell, dev = PRESETS["flux-schnell"], PRESETS["flux-dev"]
    for preset, steps in ((schnell, 4), (dev, 28)):
        assert (preset.family, preset.size, preset.steps, preset.needs_gpu) == (
            Family.FLUX,
            1024,
            steps,
            True,
        )
        assert preset.half_precision == torch.bfloat16  # FLUX overflows fp16
    assert schnell.catalog_overrides == {"steps": 4, "guidance": 0.0}
    assert dev.catalog_overrides == {}  # the family's defaults are dev's
    assert PRESETS["sdxl"].half_precision == torch.float16


def test_a_flux_ablation_runs_bf16_where_sd_runs_fp16():
    cuda = torch.device("cuda")  # only its type is read: no GPU is needed
    labels = [variant.label for variant in ablation.variants(cuda, PRESETS["flux-dev"])]
    assert labels[:3] == ["fp32", "bf16, classic attention", "bf16, SDPA"]
    assert not any("fp16" in label for label in labels)
    sd = [variant.label for variant in ablation.variants(cuda, PRESETS["sdxl"])]
    assert sd[:4] == ["fp32", "fp16, classic attention", "fp16, SDPA", "bf16, SDPA"]
    assert len(sd) == len(labels) + 1


def _config_only(folder: Path, *, dev: bool) -> Path:
    """The configs FLOP counting reads, without weights."""
    with torch.device("meta"):
        flux_transformer(guidance_embeds=dev).save_config(folder / "transformer")
        _flux_vae().save_config(folder / "vae")
    byte_level_tokenizer(model_max_length=512 if dev else 256).save_pretrained(folder / "tokenizer_2")
    return folder


@pytest.mark.parametrize("dev", [True, False], ids=["dev", "schnell"])
def test_flux_flops_are_counted_on_meta_tensors(tmp_path, dev):
    folder = _config_only(tmp_path, dev=dev)
    assert denoiser_name(folder) == "transformer"
    flops = denoiser_flops(folder, 1024, 4)
    assert flops is not None
    # By hand, per image: 4096 image tokens and the T5 window; the double-stream blocks' weights
    # (attention and MLP, 113 M a stream per block) apply to each stream's own tokens, the single
    # blocks' (113 M each) to both; attention is 4 × tokens² × 3072 a block. 2 FLOPs a multiply-add.
    image, text = 4096, 512 if dev else 256
    width = 3072
    stream = 4 * width * width + 2 * width * 4 * width
    single = width * (3 * width + 4 * width) + (width + 4 * width) * width
    tokens = image + text
    weights = 2 * (19 * stream * tokens + 38 * single * tokens)
    attention = 57 * 4 * tokens * tokens * width
    assert flops / 4 == pytest.approx(weights + attention, rel=0.02)


def test_the_transformer_path_runs_end_to_end_on_tiny_flux(capsys):
    preset = Preset(
        "tiny-flux",
        Family.FLUX,
        64,
        steps=2,
        needs_gpu=False,
        build=build_tiny_flux,
        catalog_overrides={"native_width": 64, "native_height": 64, "size_multiple": 8, "max_pixels": 16384},
        baseline_kwargs={"max_sequence_length": 256},
    )
    figures = bench_main._grid(preset, torch.device("cpu"), 1, 0, ours_first=False, ablate=True, rows=[1, 2])
    assert (figures["denoiser"], figures["batch"]) == ("transformer", 4)  # no negative pass
    assert figures["unet_tflop_per_call"] > 0
    for path in ("baseline", "ours"):
        assert figures[path]["unet_calls"] == 2
        assert 0 < figures[path]["unet_seconds"] < figures[path]["seconds_per_grid"]
        assert figures[path]["unet_tflops"] > 0
    # classic attention leaves the transformer's own (RoPE) processors: the same picture
    rows = figures["ablation"]
    assert [row["variant"] for row in rows] == ["fp32, classic attention", "fp32, SDPA"]
    assert rows[1]["pixel_difference_max"] <= 2
    table = bench_main._table({"device": "CPU", "presets": {"tiny-flux": figures}})
    assert "transformer TFLOP/s" in table and "(batch 4)" in table
    json.dumps(figures)


def test_a_flop_count_not_known_shows_na():
    path = {
        "seconds_per_grid": 2.0,
        "images_per_second": 2.0,
        "peak_memory_gib": None,
        "unet_tflops": None,
        "unet_fraction_of_peak": None,
    }
    figures = {
        "size": 1024,
        "steps": 4,
        "denoiser": "transformer",
        "batch": 4,
        "unet_tflop_per_call": None,
        "device_peak_tflops": 989.0,
        "baseline": path,
        "ours": path,
        "ratio_ours_over_baseline": 1.0,
    }
    table = bench_main._table({"device": "GPU", "presets": {"flux-schnell": figures}})
    assert "transformer n/a per call (batch 4)" in table


def test_the_flux_presets_are_refused_without_a_gpu(monkeypatch, capsys):
    monkeypatch.setattr(bench_main.torch.cuda, "is_available", lambda: False)
    for preset in ("flux-schnell", "flux-dev"):
        assert bench_main.main(["--preset", preset, "--queue-jobs", "0"]) == 2
        assert "needs a CUDA GPU" in capsys.readouterr().err
        # not even for a smoke check: the weights are as large at any size
        assert bench_main.main(["--preset", preset, "--size", "64", "--steps", "1", "--queue-jobs", "0"]) == 2
        assert "67 GB in fp32" in capsys.readouterr().err


def test_all_on_a_cpu_leaves_the_flux_presets_out_even_for_a_smoke_check(monkeypatch):
    monkeypatch.setattr(bench_main.torch.cuda, "is_available", lambda: False)
    ran: list[str] = []
    monkeypatch.setattr(bench_main, "_grid", lambda preset, *args, **kwargs: ran.append(preset.name) or {})
    monkeypatch.setattr(bench_main, "_table", lambda report: "")
    assert bench_main.main(["--preset", "all", "--size", "64", "--steps", "1", "--queue-jobs", "0"]) == 0
    assert ran == ["tiny", "shapes", "sd15", "sdxl"]
