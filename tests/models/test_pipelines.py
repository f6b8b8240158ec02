"""Every family's defaults name a pipeline module, and every pipeline module is some family's."""

from typing import get_args

from diffusers import DiffusionPipeline

from models.families import FAMILY_DEFAULTS, FamilyDefaults
from models.pipelines import PIPELINES


def test_each_family_is_run_by_a_pipeline_module_and_each_module_runs_a_family():
    named = {defaults.pipeline for defaults in FAMILY_DEFAULTS.values()}
    assert named == set(PIPELINES) == set(get_args(FamilyDefaults.model_fields["pipeline"].annotation))


def test_each_pipeline_module_names_diffusers_pipelines_that_share_their_modules():
    for family in PIPELINES.values():
        assert issubclass(family.text2img, DiffusionPipeline)
        assert issubclass(family.img2img, DiffusionPipeline)
        # from_pipe builds img2img from text2img's modules: it needs every one img2img declares.
        text2img = set(family.text2img._get_signature_keys(family.text2img)[0])
        img2img = set(family.img2img._get_signature_keys(family.img2img)[0])
        assert img2img - text2img <= {"image_encoder", "feature_extractor"}, family
