"""`[[loras]]` and `[[styles]]` in the catalog, and a prompt's LoRAs and `--style` resolved with them."""

from pathlib import Path

import pytest

from jobs.errors import MemberError
from jobs.prompt import parse_prompt
from jobs.resolve import imagine_specs
from models.catalog import CatalogError, load_catalog

CATALOG = """
default = "tiny"

[[models]]
name = "tiny"
family = "sd15"
source = { kind = "builtin", name = "tiny" }

[[models]]
name = "tiny-flux"
family = "flux"
source = { kind = "builtin", name = "tiny-flux" }

[[loras]]
name = "Ink-Wash"
families = ["sd15", "sdxl"]
source = { kind = "file", path = "loras/ink.safetensors" }
triggers = ["ink wash"]
weight = 0.7
description = "Ink wash painting"

[[loras]]
name = "paper"
families = ["sd15"]
source = { kind = "hub", repo = "someone/paper-lora", revision = "0123abc", weight_name = "p.safetensors" }

[[loras]]
name = "flux-grain"
families = ["flux"]
source = { kind = "folder", path = "/srv/loras/grain" }

[[styles]]
name = "sumi"
prompt = "sumi-e painting of {prompt}, rice paper"
negative = "photo"
loras = [{ name = "ink-wash", weight = 0.9 }, { name = "paper" }]

[[styles]]
name = "grainy"
prompt = "film grain"
"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("catalog")


@pytest.fixture(scope="module")
def catalog(folder: Path):
    path = folder / "catalog.toml"
    path.write_text(CATALOG)
    return load_catalog(path)


def _spec(catalog, text: str):
    [spec] = imagine_specs(parse_prompt(text), catalog, seed=1)
    return spec


def test_loras_are_read_from_the_catalog_with_their_sources_and_names_in_lowercase(catalog, folder):
    assert catalog.lora_names == ("ink-wash", "paper", "flux-grain")
    assert catalog.lora("INK-wash").source.path == folder.resolve() / "loras" / "ink.safetensors"
    assert catalog.lora("paper").source.weight_name == "p.safetensors"


def test_a_lora_gets_its_default_weight_and_its_trigger_words_once(catalog):
    spec = _spec(catalog, "a heron <lora:ink-wash> --lora paper:0.4")
    assert [(lora.name, lora.weight) for lora in spec.generation.loras] == [("ink-wash", 0.7), ("paper", 0.4)]
    assert spec.generation.prompt[0].text == "a heron, ink wash"
    assert spec.warnings == ("Added “ink wash” to the prompt: the trigger words of `ink-wash`",)
    assert _spec(catalog, "an ink wash heron <lora:ink-wash>").warnings == ()


def test_a_style_sets_the_prompt_in_its_text_and_brings_its_loras_and_negative(catalog):
    spec = _spec(catalog, "a heron::2 a pond --style sumi --no text --lora ink-wash:0.3")
    generation = spec.generation
    assert [part.text for part in generation.prompt] == [
        "sumi-e painting of a heron, rice paper",
        "sumi-e painting of a pond, rice paper, ink wash",
    ]
    assert generation.negative == "text, photo"
    # The prompt's own weight for a LoRA the style names too wins; the style's others follow.
    assert [(lora.name, lora.weight) for lora in generation.loras] == [("ink-wash", 0.3), ("paper", 1.0)]
    assert _spec(catalog, "a heron --style grainy").generation.prompt[0].text == "a heron, film grain"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a heron <lora:nope>", "There is no LoRA `nope`. Available: `ink-wash`, `paper`, `flux-grain`"),
        ("a heron --style nope", "There is no style `nope`. Available: `sumi`, `grainy`"),
        ("a heron <lora:flux-grain>", "`flux-grain` is made for `flux` models, and `tiny` is a sd15 model"),
        ("a heron --model tiny-flux --style sumi", "`ink-wash` is made for `sd15` or `sdxl` models"),
        (
            "a heron " + " ".join(f"<lora:l{n}>" for n in range(7)) + " --style sumi",
            "uses 9 LoRAs: use at most 8",
        ),
    ],
)
def test_an_unknown_or_mismatched_lora_or_style_is_refused_naming_it(catalog, text, message):
    with pytest.raises(MemberError, match=message):
        _spec(catalog, text)


@pytest.mark.parametrize(
    ("addition", "message"),
    [
        (
            '[[loras]]\nname = "paper"\nfamilies = ["sd15"]\nsource = { kind = "file", path = "a.safetensors" }',  # noqa: E501
            "LoRA names must be unique; repeated: paper",
        ),
        ('[[styles]]\nname = "odd"\nloras = [{ name = "missing" }]', "style `odd` uses the LoRA `missing`"),
        (
            '[[loras]]\nname = "pickle"\nfamilies = ["sd15"]\nsource = { kind = "file", path = "p.ckpt" }',
            r"loras\[\d+\]\.source\.path \(LoRA `pickle`\): `p.ckpt` is not a .safetensors file",
        ),
    ],
)
def test_a_catalog_with_a_wrong_lora_or_style_says_where(tmp_path: Path, addition, message):
    path = tmp_path / "catalog.toml"
    path.write_text(CATALOG + "\n" + addition + "\n")
    with pytest.raises(CatalogError, match=message):
        load_catalog(path)
