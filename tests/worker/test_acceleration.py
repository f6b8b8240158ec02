"""The worker's speed-ups: each changes how the model runs, not what it draws; compile warms up at start."""

import logging
from pathlib import Path

import numpy as np
import pytest
import torch
from diffusers.models.attention_processor import FusedAttnProcessor2_0
from pydantic import ValidationError
from torch._dynamo.utils import counters

from jobs.prompt import parse_prompt
from jobs.resolve import generation_for
from models.catalog import load_catalog
from worker.acceleration import warm_up
from worker.boot import load_engines
from worker.engine import Engine
from worker.settings import WorkerSettings
from worker.speedups import Speedup


def _engine(model_cache: Path, speedups: str, **settings: object) -> Engine:
    return load_engines(
        WorkerSettings(models=["tiny"], model_cache=model_cache, device="cpu", speedups=speedups, **settings)
    )["tiny"]


def _pixels(engine: Engine, prompt: str = "a red circle --seed 7 --steps 3") -> np.ndarray:
    generation = generation_for(parse_prompt(prompt), load_catalog().get("tiny").profile())
    images = engine.imagine(generation, lambda *_: None).images
    return np.stack([np.asarray(image, dtype=np.int16) for image in images])


def test_channels_last_and_fused_projections_change_the_layout_not_the_pictures(model_cache, engines):
    plain = _pixels(engines["tiny"])
    engine = _engine(model_cache, "channels_last,fused_qkv")
    unet = engine.model.text2img.unet
    assert unet.conv_in.weight.is_contiguous(memory_format=torch.channels_last)
    assert {type(p) for p in unet.attn_processors.values()} == {FusedAttnProcessor2_0}
    assert engine.model.img2img.unet is unet  # both pipelines run the accelerated modules
    assert np.abs(_pixels(engine) - plain).max() <= 2  # fp32 rounding, no more


@pytest.mark.slow
def test_compile_builds_its_graphs_during_the_warm_up_not_during_jobs(model_cache, engines, caplog):
    caplog.set_level(logging.INFO, logger="worker.acceleration")
    counters.clear()
    # One size (the native one) compiles once; each of IMAGINE_WARM_UP_SIZES is warmed up alike
    # (`warm_up` runs the same call per size), at about a minute per graph on a CPU.
    engine = _engine(model_cache, "compile")
    assert [r.getMessage().split(" in ")[0] for r in caplog.records] == ["warmed up tiny at 64x64"]
    graphs = counters["stats"]["unique_graphs"]
    assert graphs >= 1
    compiled = _pixels(engine, "a red circle --seed 7 --steps 5")  # 64x64: compiled at the warm-up
    assert counters["stats"]["unique_graphs"] == graphs
    assert np.abs(compiled - _pixels(engines["tiny"], "a red circle --seed 7 --steps 5")).max() <= 2


def test_the_warm_up_renders_each_size_at_each_share_of_a_call(engines, caplog):
    caplog.set_level(logging.INFO, logger="worker.acceleration")
    warm_up(engines["tiny"], [(64, 64), (72, 48)], jobs=2)
    assert [r.getMessage().split(" in ")[0] for r in caplog.records] == [
        "warmed up tiny at 64x64 (1 jobs per call)",
        "warmed up tiny at 64x64 (2 jobs per call)",
        "warmed up tiny at 72x48 (1 jobs per call)",
        "warmed up tiny at 72x48 (2 jobs per call)",
    ]


def test_speedups_and_warm_up_sizes_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("IMAGINE_SPEEDUPS", "channels_last, compile")
    monkeypatch.setenv("IMAGINE_WARM_UP_SIZES", "768x512, 512X768")
    settings = WorkerSettings()
    assert settings.speedups == [Speedup.CHANNELS_LAST, Speedup.COMPILE]
    assert settings.warm_up_sizes == [(768, 512), (512, 768)]
    assert WorkerSettings(speedups="").speedups == []


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("speedups", "turbo", "channels_last"),
        ("warm_up_sizes", "512", "WIDTHxHEIGHT"),
        ("warm_up_sizes", "512x", "WIDTHxHEIGHT"),
    ],
)
def test_a_mistyped_setting_says_what_is_expected(field, value, message):
    with pytest.raises(ValidationError, match=message):
        WorkerSettings(**{field: value})
