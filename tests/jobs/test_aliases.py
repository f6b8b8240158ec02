"""`--v` and `--niji` onto the models a server's admin named for them."""

import pytest

from jobs.aliases import AliasError, alias_name, aliased, coded
from jobs.prompt import parse_prompt

ALIASES = {"v7": "sdxl", "v6": "sd15", "niji": "anime", "niji5": "anime-old"}


@pytest.mark.parametrize(
    ("written", "name"),
    [
        ("v7", "v7"),
        ("V 7", "v7"),
        ("--v 6.1", "v6.1"),
        ("7", "v7"),
        ("--version 5", "v5"),
        ("niji", "niji"),
        ("--niji 6", "niji6"),
    ],
)
def test_an_alias_is_stored_as_the_prompt_looks_it_up(written: str, name: str):
    assert alias_name(written) == name


@pytest.mark.parametrize("written", ["v9", "v0", "niji3", "sdxl", "v7.12", ""])
def test_an_alias_no_prompt_could_ask_for_is_refused_saying_what_is(written: str):
    with pytest.raises(AliasError, match="use `v1` to `v8`"):
        alias_name(written)


@pytest.mark.parametrize(
    ("prompt", "model", "unmapped"),
    [
        ("a fox --v 7 --stealth", "sdxl", ("--stealth",)),
        ("a fox --version 7", "sdxl", ()),
        ("a fox --v 6.1", "sd15", ()),  # no `v6.1`: its major version's
        ("a fox --niji 6", "anime", ()),  # no `niji6`: the plain `niji`
        ("a fox --niji 5", "anime-old", ()),
        ("a fox --niji", "anime", ()),
        ("a fox --v 5", None, ("--v 5",)),  # no alias: noted, the default model draws
        ("a fox --v 7 --model tiny", "tiny", ("--v 7",)),  # the member's own choice wins
    ],
)
def test_a_version_draws_with_its_alias_or_is_noted(
    prompt: str, model: str | None, unmapped: tuple[str, ...]
):
    parsed = aliased(parse_prompt(prompt), ALIASES)
    assert (parsed.model, parsed.unmapped) == (model, unmapped)


CODES = {"2837465": "ink", "abc123": "house"}


@pytest.mark.parametrize(
    ("prompt", "style", "left"),
    [
        ("a fox --sref 2837465", "ink", ((), ())),
        ("a fox --sref 99 2837465", "ink", (("99",), ())),  # the unmapped code stays, noted
        ("a fox --p abc123", "house", ((), ())),
        ("a fox --p ABC123 --sref 2837465", "ink", ((), ("--p ABC123",))),  # one style: the first code's
        ("a fox --p zzz", None, ((), ("--p zzz",))),
        ("a fox --sref 2837465 --style sumi", "sumi", (("2837465",), ())),  # the member's own style wins
    ],
)
def test_a_mapped_style_code_draws_with_its_catalog_style(
    prompt: str, style: str | None, left: tuple[tuple[str, ...], tuple[str, ...]]
):
    parsed = coded(parse_prompt(prompt), CODES)
    assert (parsed.style, (tuple(map(str, parsed.style_refs)), parsed.unmapped)) == (style, left)
