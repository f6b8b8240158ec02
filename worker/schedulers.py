"""`--sampler` names mapped to diffusers schedulers, built from the model's own scheduler config."""

from typing import Any

from diffusers import (
    DDIMScheduler,
    DPMSolverMultistepScheduler,
    EulerAncestralDiscreteScheduler,
    EulerDiscreteScheduler,
    FlowMatchEulerDiscreteScheduler,
    HeunDiscreteScheduler,
    LMSDiscreteScheduler,
    PNDMScheduler,
    UniPCMultistepScheduler,
)
from diffusers.schedulers.scheduling_utils import SchedulerMixin

from jobs import limits

_SCHEDULERS: dict[str, tuple[type[SchedulerMixin], dict[str, Any]]] = {
    "euler": (EulerDiscreteScheduler, {}),
    "euler_a": (EulerAncestralDiscreteScheduler, {}),
    "heun": (HeunDiscreteScheduler, {}),
    "lms": (LMSDiscreteScheduler, {}),
    "ddim": (DDIMScheduler, {}),
    "pndm": (PNDMScheduler, {"skip_prk_steps": True}),
    "dpm++2m": (DPMSolverMultistepScheduler, {"algorithm_type": "dpmsolver++"}),
    "dpm++2m_karras": (
        DPMSolverMultistepScheduler,
        {"algorithm_type": "dpmsolver++", "use_karras_sigmas": True},
    ),
    "dpm++sde": (DPMSolverMultistepScheduler, {"algorithm_type": "sde-dpmsolver++"}),
    "unipc": (UniPCMultistepScheduler, {}),
    # Flow matching: the model's own config keeps its timestep shift (FLUX's resolution-dependent one).
    "flow_euler": (FlowMatchEulerDiscreteScheduler, {}),
}
assert set(_SCHEDULERS) == set(limits.SAMPLERS), "every sampler a prompt may name needs a scheduler"


class SchedulerCache:
    """One scheduler per sampler name, derived from the model's scheduler config on first use."""

    def __init__(self, base_config: dict[str, Any]) -> None:
        self._base_config = base_config
        self._built: dict[str, SchedulerMixin] = {}

    def get(self, sampler: str) -> SchedulerMixin:
        if sampler not in self._built:
            scheduler_class, overrides = _SCHEDULERS[sampler]
            self._built[sampler] = scheduler_class.from_config(self._base_config, **overrides)
        return self._built[sampler]
