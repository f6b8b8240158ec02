"""The catalog's NSFW settings: a shared `[safety_classifier]` and each model's `safety_checker`."""

import textwrap
from pathlib import Path

import pytest

from models.catalog import DEFAULT_CATALOG, CatalogError, FolderSource, HubSource, load_catalog

MODEL = """
default = "m"

[[models]]
name = "m"
family = "sd15"
source = { kind = "folder", path = "weights/m" }
"""


def write(folder: Path, text: str) -> Path:
    path = folder / "catalog.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_a_catalog_without_safety_settings_uses_each_models_own_checker(tmp_path):
    catalog = load_catalog(write(tmp_path, MODEL))
    assert catalog.safety_classifier is None
    assert catalog.get("m").safety_checker == "auto"
    assert load_catalog().safety_classifier is None  # the embedded catalog checks nothing


def test_a_classifier_from_the_hub_or_a_folder(tmp_path):
    hub = (
        MODEL
        + """
[safety_classifier]
source = { kind = "hub", repo = "owner/nsfw", revision = "abc123" }
labels = ["porn", "hentai", "sexy"]
threshold = 0.7
"""
    )
    classifier = load_catalog(write(tmp_path, hub)).safety_classifier
    assert classifier is not None
    assert classifier.source == HubSource(repo="owner/nsfw", revision="abc123")
    assert (classifier.labels, classifier.threshold) == (("porn", "hentai", "sexy"), 0.7)

    folder = (
        MODEL
        + """
[safety_classifier]
source = { kind = "folder", path = "nsfw" }
labels = ["nsfw"]
"""
    )
    classifier = load_catalog(write(tmp_path, folder)).safety_classifier
    assert classifier is not None
    assert classifier.source == FolderSource(path=tmp_path / "nsfw")  # relative to the catalog
    assert classifier.threshold == 0.5


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            '[safety_classifier]\nsource = { kind = "folder", path = "c" }\nlabels = []',
            "safety_classifier.labels: Tuple should have at least 1 item",
        ),
        (
            '[safety_classifier]\nsource = { kind = "folder", path = "c" }\nlabels = ["x"]\nthreshold = 1.5',
            "safety_classifier.threshold: Input should be less than or equal to 1",
        ),
        (
            '[safety_classifier]\nsource = { kind = "builtin", name = "tiny" }\nlabels = ["x"]',
            "safety_classifier.source: Input tag 'builtin' found using 'kind' does not match",
        ),
    ],
    ids=["no-labels", "threshold-above-1", "builtin-source"],
)
def test_a_bad_classifier_is_named(tmp_path, extra, message):
    with pytest.raises(CatalogError, match=message):
        load_catalog(write(tmp_path, MODEL + extra))


def test_a_model_that_asks_for_the_classifier_needs_one(tmp_path):
    text = MODEL + 'safety_checker = "classifier"\n'
    with pytest.raises(CatalogError, match=r"needs a `\[safety_classifier\]` table; it is missing for m"):
        load_catalog(write(tmp_path, text))
    with pytest.raises(CatalogError, match=r"models\[0\].safety_checker \(model `m`\): Input should be"):
        load_catalog(write(tmp_path, MODEL + 'safety_checker = "none"\n'))


def test_the_example_catalog_shows_the_classifier():
    example = load_catalog(DEFAULT_CATALOG.with_name("catalog.example.toml"))
    assert example.safety_classifier is not None
    assert example.safety_classifier.labels == ("nsfw",)
    assert {entry.safety_checker for entry in example.models} == {"auto", "classifier"}
