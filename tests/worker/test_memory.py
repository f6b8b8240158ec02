"""`IMAGINE_OFFLOAD`: a model bigger than the GPU runs from main memory, a part at a time."""

import numpy as np
import pytest
import torch
from pydantic import ValidationError

from broker.startup import StartupError
from jobs.prompt import parse_prompt
from jobs.resolve import generation_for
from worker.boot import load_engines
from worker.settings import WorkerSettings


def test_offloading_without_a_gpu_is_one_line_naming_the_setting(worker_settings: WorkerSettings):
    with pytest.raises(StartupError) as caught:
        load_engines(worker_settings.model_copy(update={"offload": "model"}))
    assert caught.value.lines == (
        "IMAGINE_OFFLOAD=model is not allowed on a worker without a GPU (it runs on the cpu): "
        "leave it unset, or none",
    )


def test_a_device_or_dtype_the_machine_lacks_is_one_line_too(worker_settings: WorkerSettings):
    with pytest.raises(StartupError) as caught:
        load_engines(worker_settings.model_copy(update={"dtype": "fp16"}))
    [line] = caught.value.lines
    assert line == "model `tiny` cannot be loaded: fp16 needs a GPU: on the CPU use fp32 (or bf16)"
    with pytest.raises(StartupError, match="IMAGINE_DEVICE=cuda:7 is not allowed: device `cuda:7`"):
        load_engines(worker_settings.model_copy(update={"device": "cuda:7"}))


def test_a_mistyped_offload_says_what_is_allowed():
    with pytest.raises(ValidationError, match="'none', 'model' or 'sequential'"):
        WorkerSettings(offload="all")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("offload", ["model", "sequential"])
def test_an_offloaded_model_draws_what_a_resident_one_draws(worker_settings: WorkerSettings, offload: str):
    resident_settings = worker_settings.model_copy(update={"device": "cuda", "models": ["tiny-flux"]})
    resident = load_engines(resident_settings)["tiny-flux"]
    generation = generation_for(
        parse_prompt("a lighthouse --seed 2 --steps 3"), resident.model.entry.profile()
    )
    expected = resident.imagine(generation, lambda *_: None).images
    del resident
    torch.cuda.empty_cache()
    offloaded = load_engines(resident_settings.model_copy(update={"offload": offload}))["tiny-flux"]
    assert offloaded.model.text2img.transformer.device.type == "cpu"  # waiting in main memory
    images = offloaded.imagine(generation, lambda *_: None).images
    for got, want in zip(images, expected, strict=True):
        assert np.abs(np.asarray(got, np.int16) - np.asarray(want, np.int16)).max() <= 2
