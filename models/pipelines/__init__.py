"""One module per pipeline family: everything the worker must know to run a model of it.

The torch-free defaults of each family (sizes, steps, guidance, sampler) are in `models.families`;
its `pipeline` field names the module here that runs it. Adding a family is one module and one
entry in `PIPELINES`, plus its defaults. Only the worker (and the loader) imports these: they need
torch and diffusers.
"""

from collections.abc import Mapping
from types import MappingProxyType

from models.pipelines.base import Encoded, PipelineFamily, PromptWindow
from models.pipelines.flux import Flux
from models.pipelines.flux2_klein import Flux2Klein
from models.pipelines.qwen_image import QwenImage
from models.pipelines.sd import StableDiffusion
from models.pipelines.sd3 import StableDiffusion3
from models.pipelines.sdxl import StableDiffusionXL
from models.pipelines.z_image import ZImage

PIPELINES: Mapping[str, PipelineFamily] = MappingProxyType(
    {
        "sd": StableDiffusion(),
        "sdxl": StableDiffusionXL(),
        "flux": Flux(),
        "sd3": StableDiffusion3(),
        "flux2-klein": Flux2Klein(),
        "z-image": ZImage(),
        "qwen-image": QwenImage(),
    }
)
"""By `FamilyDefaults.pipeline`."""

__all__ = ["PIPELINES", "Encoded", "PipelineFamily", "PromptWindow"]
