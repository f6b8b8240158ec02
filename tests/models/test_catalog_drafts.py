"""A catalog entry's `draft`: the model `--draft` runs instead, checked when the catalog loads."""

from pathlib import Path

import pytest

from models.catalog import Catalog, CatalogError, load_catalog

CATALOG = """
default = "dev"

[[models]]
name = "dev"
family = "flux"
source = {{ kind = "builtin", name = "tiny-flux" }}
{draft}

[[models]]
name = "schnell"
family = "flux"
steps = 4
guidance = 0
source = {{ kind = "builtin", name = "tiny-flux" }}
"""


def _load(tmp_path: Path, draft: str) -> Catalog:
    path = tmp_path / "catalog.toml"
    path.write_text(CATALOG.format(draft=draft), encoding="utf-8")
    return load_catalog(path)


def test_a_draft_reaches_the_models_profile(tmp_path: Path) -> None:
    catalog = _load(tmp_path, 'draft = "schnell"')
    assert catalog.profile("dev").draft == "schnell"
    assert catalog.profile("schnell").draft is None
    assert catalog.profile() == catalog.profile("dev")


@pytest.mark.parametrize(
    ("draft", "words"),
    [
        pytest.param(
            'draft = "nope"', ['catalog.toml: model `dev` has `draft = "nope"`', "dev, schnell"], id="unknown"
        ),
        pytest.param('draft = "dev"', ["model `dev` names itself as its `draft`"], id="itself"),
        pytest.param('draft = "Bad Name"', ["models[0].draft (model `dev`)", "pattern"], id="not-a-name"),
    ],
)
def test_a_draft_that_is_not_another_model_is_refused_at_load(
    tmp_path: Path, draft: str, words: list[str]
) -> None:
    with pytest.raises(CatalogError) as caught:
        _load(tmp_path, draft)
    for word in words:
        assert word in str(caught.value)
