"""The catalog: TOML in, validated entries and profiles out, with errors that name the field."""

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from jobs import limits
from jobs.profile import ModelProfile
from models.catalog import (
    DEFAULT_CATALOG,
    BuiltinSource,
    CaptionerBuiltinSource,
    CatalogEntry,
    CatalogError,
    FolderSource,
    HubSource,
    SingleFileSource,
    UnknownModelError,
    load_catalog,
)
from models.families import FAMILY_DEFAULTS, Family

ALL_KINDS = """
default = "sdxl"

[[models]]
name = "sdxl"
family = "sdxl"
[models.source]
kind = "hub"
repo = "stabilityai/stable-diffusion-xl-base-1.0"
revision = "462165984030d82259a11f4367a4eed129e94a7b"
variant = "fp16"

[[models]]
name = "dreamshaper"
family = "sd15"
steps = 30
[models.source]
kind = "single_file"
path = "weights/dreamshaper_8.safetensors"
config = { kind = "folder", path = "configs/sd15" }

[[models]]
name = "community-xl"
family = "sdxl"
[models.source]
kind = "single_file"
path = "/abs/xl.safetensors"
config = { kind = "hub", repo = "stabilityai/stable-diffusion-xl-base-1.0", revision = "v1.0" }

[[models]]
name = "local"
family = "sd2"
source = { kind = "folder", path = "../models/local" }
vae = { kind = "folder", path = "vaes/ft-mse" }

[[models]]
name = "tiny"
family = "sd15"
source = { kind = "builtin", name = "tiny" }
"""


def write(folder: Path, text: str) -> Path:
    path = folder / "catalog.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_the_embedded_catalog_serves_the_shapes_model_and_the_tiny_one():
    catalog = load_catalog()
    assert catalog.names == (
        "shapes",
        "tiny",
        "tiny-flux",
        "tiny-sd3",
        "tiny-flux2-klein",
        "tiny-z-image",
        "tiny-qwen-image",
    )
    entry = catalog.get(None)
    assert entry.source == BuiltinSource(name="shapes")
    assert entry.family is Family.SD15
    assert entry.profile() == ModelProfile(
        name="shapes", family="sd15", native_width=64, native_height=64, size_multiple=16, steps=entry.steps,
        guidance=entry.guidance, sampler="dpm++2m_karras", samplers=limits.UNET_SAMPLERS, vary_subtle=0.3,
        vary_strong=0.6, upscale_denoise=0.1, upscale_creative=0.2, max_pixels=64 * 64 * 4,
        adapter="shapes-ip-adapter",
    )  # fmt: skip
    assert catalog.adapter("shapes-ip-adapter").families == (Family.SD15,)
    assert entry.upscaler == "shapes-2x"
    assert entry.captioner == "shapes-captioner"
    assert catalog.captioner("shapes-captioner").source == CaptionerBuiltinSource(name="shapes-captioner")
    assert entry.defaults().latent_rgb_factors != FAMILY_DEFAULTS[Family.SD15].latent_rgb_factors  # own VAE
    assert catalog.get("tiny").profile() == ModelProfile(
        name="tiny", family="sd15", native_width=64, native_height=64, size_multiple=8, steps=4,
        guidance=7.5, sampler="dpm++2m_karras", samplers=limits.UNET_SAMPLERS, vary_subtle=0.3,
        vary_strong=0.6, upscale_denoise=0.3, upscale_creative=0.5, max_pixels=64 * 64 * 4,
    )  # fmt: skip


def test_a_model_with_its_own_vae_sets_its_preview_factors(tmp_path):
    factors = "[[0.1, 0.2, 0.3], [0.0, 0.1, 0.0], [0.5, 0.0, 0.0], [0.0, 0.0, 0.4]]"
    entry = load_catalog(
        write(tmp_path, ONE_MODEL + f"latent_rgb_factors = {factors}\nlatent_rgb_bias = [0.1, 0.0, -0.1]")
    ).get("a")
    assert entry.defaults().latent_rgb_factors[0] == (0.1, 0.2, 0.3)
    assert entry.defaults().latent_rgb_bias == (0.1, 0.0, -0.1)
    assert "latent_rgb_factors" not in entry.profile().model_dump()  # the bot has no use for them
    with pytest.raises(CatalogError, match="latent_rgb_factors"):
        load_catalog(write(tmp_path, ONE_MODEL + "latent_rgb_factors = [[0.1, 0.2]]"))


def test_every_source_kind_with_paths_relative_to_the_file(tmp_path):
    folder = tmp_path / "conf"
    folder.mkdir()
    catalog = load_catalog(write(folder, ALL_KINDS))
    assert catalog.names == ("sdxl", "dreamshaper", "community-xl", "local", "tiny")
    assert catalog.get().name == "sdxl"
    assert catalog.get("sdxl").source == HubSource(
        repo="stabilityai/stable-diffusion-xl-base-1.0",
        revision="462165984030d82259a11f4367a4eed129e94a7b",
        variant="fp16",
    )
    assert catalog.get("dreamshaper").source == SingleFileSource(
        path=folder / "weights/dreamshaper_8.safetensors", config=FolderSource(path=folder / "configs/sd15")
    )
    assert catalog.get("community-xl").source == SingleFileSource(
        path=Path("/abs/xl.safetensors"),
        config=HubSource(repo="stabilityai/stable-diffusion-xl-base-1.0", revision="v1.0"),
    )
    assert catalog.get("local").source == FolderSource(path=folder / "../models/local")
    assert catalog.get("local").vae == FolderSource(path=folder / "vaes/ft-mse")
    assert catalog.get("sdxl").vae is None
    assert catalog.get("tiny").source == BuiltinSource(name="tiny")


def test_the_example_catalog_is_valid():
    example = load_catalog(DEFAULT_CATALOG.with_name("catalog.example.toml"))
    kinds = {entry.source.kind for entry in example.models}
    assert kinds == {"hub", "folder", "single_file", "builtin"}
    assert {entry.source.kind for entry in example.captioners} == {"hub", "folder"}
    assert example.get("sdxl").captioner == "blip"


def test_profile_merges_overrides_into_the_family_defaults(tmp_path):
    catalog = load_catalog(write(tmp_path, ALL_KINDS))
    profile = catalog.get("dreamshaper").profile()
    assert profile.steps == 30
    sd15 = FAMILY_DEFAULTS[Family.SD15]
    assert (profile.guidance, profile.vary_subtle, profile.native_width) == (
        sd15.guidance,
        sd15.vary_subtle,
        512,
    )
    assert catalog.get("sdxl").profile().native_width == 1024
    defaults = catalog.get("dreamshaper").defaults()
    assert defaults.steps == 30
    assert defaults.latent_rgb_factors == sd15.latent_rgb_factors


def test_an_unknown_model_lists_the_available_ones(tmp_path):
    catalog = load_catalog(write(tmp_path, ALL_KINDS))
    with pytest.raises(UnknownModelError) as caught:
        catalog.get("foo")
    assert (
        str(caught.value)
        == "There is no model `foo`. Available: sdxl, dreamshaper, community-xl, local, tiny"
    )
    assert isinstance(caught.value, ValueError)


def test_an_unknown_captioner_lists_the_available_ones():
    with pytest.raises(
        UnknownModelError, match=re.escape("There is no captioner `blip`. Available: `shapes-captioner`")
    ):
        load_catalog().captioner("blip")


ONE_MODEL = """
default = "a"

[[models]]
name = "a"
family = "sd15"
source = { kind = "builtin", name = "tiny" }
"""


BUILTIN = '{ kind = "builtin", name = "tiny" }'
CAPTIONER = """
[[captioners]]
name = "blip"
source = { kind = "hub", repo = "Salesforce/blip-image-captioning-base", revision = "main" }
"""
ERRORS = [
    (
        "default-not-a-model",
        ONE_MODEL.replace('default = "a"', 'default = "zzz"'),
        "default `zzz` is not one of the models: a",
    ),
    ("duplicate-names", ONE_MODEL + ONE_MODEL.split("\n", 2)[2], "model names must be unique; repeated: a"),
    ("no-models", 'default = "a"\nmodels = []', "a catalog needs at least one model in `models`"),
    (
        "hub-without-revision",
        ONE_MODEL.replace(BUILTIN, '{ kind = "hub", repo = "a/b" }'),
        "models[0].source.revision (model `a`): Field required",
    ),
    (
        "hub-repo-without-owner",
        ONE_MODEL.replace(BUILTIN, '{ kind = "hub", repo = "b", revision = "x" }'),
        "models[0].source.repo (model `a`): String should match pattern",
    ),
    (
        "name-with-spaces",
        ONE_MODEL.replace('name = "a"', 'name = "My Model"'),
        "models[0].name (model `My Model`): String should match pattern",
    ),
    ("name-too-long", ONE_MODEL.replace('name = "a"', f'name = "{"a" * 65}"'), "models[0].name"),
    (
        "unknown-family",
        ONE_MODEL.replace('"sd15"', '"sd4"'),
        "models[0].family (model `a`): Input should be 'sd15'",
    ),
    (
        "unknown-source-kind",
        ONE_MODEL.replace('kind = "builtin"', 'kind = "ftp"'),
        "models[0].source (model `a`): Input tag 'ftp'",
    ),
    (
        "pickle-checkpoint",
        ONE_MODEL.replace(BUILTIN, '{ kind = "single_file", path = "m.ckpt" }'),
        "models[0].source.path (model `a`): `m.ckpt` is not a .safetensors file",
    ),
    (
        "misspelt-field",
        ONE_MODEL + "stpes = 4",
        "models[0].stpes (model `a`): Extra inputs are not permitted",
    ),
    (
        "override-out-of-range",
        ONE_MODEL + "steps = 0",
        "models[0] (model `a`): steps: Input should be greater than 0",
    ),
    (
        "override-against-family",
        ONE_MODEL + "vary_subtle = 0.9",
        "models[0] (model `a`): vary_subtle (0.9) must be below vary_strong (0.6)",
    ),
    (
        "unknown-sampler",
        ONE_MODEL + 'sampler = "k_lms"',
        "models[0] (model `a`): sampler `k_lms` is not one of euler",
    ),
    (
        "unknown-upscaler",
        ONE_MODEL + 'upscaler = "esrgan"',
        'model `a` has `upscaler = "esrgan"`, which is not one of the upscalers: none in `[[upscalers]]`',
    ),
    (
        "unknown-captioner",
        ONE_MODEL + 'captioner = "blip"',
        'model `a` has `captioner = "blip"`, which is not one of the captioners: none in `[[captioners]]`',
    ),
    (
        "duplicate-captioners",
        ONE_MODEL + CAPTIONER + CAPTIONER,
        "captioner names must be unique; repeated: blip",
    ),
    (
        "captioner-unknown-builtin",
        ONE_MODEL + '[[captioners]]\nname = "blip"\nsource = { kind = "builtin", name = "blip" }',
        "captioners[0].source.name (captioner `blip`): Input should be 'shapes-captioner'",
    ),
    ("size-off-the-grid", ONE_MODEL + "native_width = 100", "is not a multiple of size_multiple (64)"),
    ("not-toml", ONE_MODEL + "steps = ", "not valid TOML"),
]


@pytest.mark.parametrize(("text", "message"), [pytest.param(t, m, id=i) for i, t, m in ERRORS])
def test_catalog_errors_name_the_file_and_the_field(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(CatalogError, match=re.escape(message)) as caught:
        load_catalog(path)
    assert str(caught.value).startswith(f"{path}: ")


def test_every_error_is_reported_at_once(tmp_path):
    text = ONE_MODEL.replace(BUILTIN, '{ kind = "hub", repo = "a/b" }') + 'family = "sd4"'
    with pytest.raises(CatalogError) as caught:
        load_catalog(write(tmp_path, text.replace('family = "sd15"\n', "")))
    assert str(caught.value) == (
        f"{tmp_path / 'catalog.toml'}: models[0].family (model `a`): Input should be 'sd15', 'sd2', 'sdxl', "
        "'sd-turbo', 'sdxl-turbo', 'flux', 'sd3', 'flux2-klein', 'z-image' or 'qwen-image'; "
        "models[0].source.revision (model `a`): Field required"
    )


def test_entries_can_be_built_in_code():
    entry = CatalogEntry(name="x", family=Family.SD2, source=FolderSource(path=Path("rel")), guidance=4.0)
    assert entry.source == FolderSource(path=Path("rel"))  # no catalog file: left as given
    assert entry.defaults().guidance == 4.0
    assert entry.defaults().native_width == 768


def test_the_catalog_never_imports_torch():
    code = (
        "import sys, models.catalog, models.families\n"
        "models.catalog.load_catalog().get().profile()\n"
        "print(sorted({'torch', 'diffusers', 'transformers'} & set(sys.modules)))"
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_an_adapter_is_for_the_unet_families_and_a_model_of_its_own(tmp_path):
    path = tmp_path / "catalog.toml"
    base = """
default = "a"
[[models]]
name = "a"
family = "%s"
source = { kind = "builtin", name = "tiny" }
adapter = "ip"
[[adapters]]
name = "ip"
families = [%s]
source = { kind = "builtin", name = "shapes-ip-adapter" }
"""
    path.write_text(base % ("sd15", '"sd15"'))
    assert load_catalog(path).get("a").profile().adapter == "ip"
    path.write_text(base % ("sdxl", '"sd15"'))
    with pytest.raises(CatalogError, match="not made for the sdxl family"):
        load_catalog(path)
    path.write_text(base % ("flux", '"flux"'))
    with pytest.raises(CatalogError, match="not flux"):
        load_catalog(path)
    path.write_text(base.replace('adapter = "ip"', 'adapter = "nope"') % ("sd15", '"sd15"'))
    with pytest.raises(CatalogError, match="not one of the adapters: ip"):
        load_catalog(path)
