"""NSFW checkers: a model's own safety checker and the catalog's classifier, saved tiny and loaded back
through the production code."""

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from models.catalog import (
    BuiltinSource,
    CatalogEntry,
    FolderSource,
    HubSource,
    SafetyClassifier,
    load_catalog,
)
from models.families import Family
from models.loader import load_model
from models.safety import ComponentSource, load_classifier, load_own_checker, own_checker_source
from models.tiny.checkers import (
    build_tiny_classifier,
    build_tiny_safety_checker,
    save_tiny,
    save_tiny_catalog,
    save_tiny_classifier,
)

CPU = torch.device("cpu")
TINY = {"native_width": 64, "native_height": 64, "size_multiple": 8, "max_pixels": 16384, "steps": 4}


def entry(source: object, **fields: object) -> CatalogEntry:
    return CatalogEntry.model_validate(
        {"name": "t", "family": Family.SD15, "source": source, **TINY, **fields}
    )


def pictures() -> list[Image.Image]:
    """Four different images, of two sizes and modes."""
    noise = np.random.default_rng(0).integers(0, 256, size=(64, 96, 3), dtype=np.uint8)
    return [
        Image.fromarray(noise),
        Image.new("RGB", (64, 64), (255, 255, 255)),
        Image.new("RGB", (64, 64), (0, 0, 0)),
        Image.fromarray(noise[:, :, 0]).convert("L"),
    ]


@pytest.fixture(scope="module")
def with_checker(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The tiny model saved with a checker that flags every image, and with one that flags none."""
    root = tmp_path_factory.mktemp("with-checker")
    return {verdict: save_tiny(root / verdict, safety=verdict) for verdict in ("flag-all", "pass-all")}


@pytest.fixture(scope="module")
def classifiers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("classifiers")
    return {verdict: save_tiny_classifier(root / verdict, verdict) for verdict in ("flag-all", "pass-all")}


def test_a_shipped_checker_is_found_and_kept_out_of_the_pipeline(with_checker, tiny_folder):
    folder = with_checker["flag-all"]
    assert (folder / "safety_checker" / "config.json").is_file()
    assert (folder / "feature_extractor" / "preprocessor_config.json").is_file()
    model = load_model(entry(FolderSource(path=folder)), cache_dir=folder.parent, device=CPU)
    assert model.safety_checker == ComponentSource(str(folder), local_files_only=True)
    assert model.text2img.safety_checker is None and model.img2img.safety_checker is None
    # Generation is unchanged: the same images as the same tiny model saved without a checker.
    plain = load_model(entry(FolderSource(path=tiny_folder)), cache_dir=tiny_folder.parent, device=CPU)
    call = {"prompt": ["a fox"] * 2, "num_inference_steps": 2, "width": 32, "height": 32}
    ours = model.text2img(**call, generator=[torch.Generator().manual_seed(s) for s in (1, 2)]).images
    theirs = plain.text2img(**call, generator=[torch.Generator().manual_seed(s) for s in (1, 2)]).images
    assert [a.tobytes() for a in ours] == [b.tobytes() for b in theirs]


def test_models_without_one_have_none(tiny_folder, model_cache):
    assert own_checker_source(entry(FolderSource(path=tiny_folder)), tiny_folder.parent) is None
    assert own_checker_source(entry(BuiltinSource(name="tiny")), model_cache) is None


@pytest.mark.parametrize(("verdict", "expected"), [("flag-all", True), ("pass-all", False)])
def test_the_real_checker_decides(with_checker, verdict, expected):
    checker = load_own_checker(
        ComponentSource(str(with_checker[verdict]), local_files_only=True), device=CPU, dtype=torch.float32
    )
    assert checker.checker.concept_embeds_weights.min().item() == (-2.0 if expected else 2.0)
    assert checker.flags(pictures()) == [expected] * 4
    assert checker.flags(pictures()[:1]) == [expected]


def test_the_flag_comes_from_the_image_embedding():
    # Thresholds at each image's own similarity to concept 0 flag exactly the images above them.
    checker, processor = build_tiny_safety_checker("pass-all")
    images = pictures()[:3]
    clip_input = processor(images=images, return_tensors="pt").pixel_values
    with torch.no_grad():
        embeds = checker.visual_projection(checker.vision_model(clip_input)[1])
        similarity = (
            torch.nn.functional.normalize(embeds)
            @ torch.nn.functional.normalize(checker.concept_embeds[:1]).T
        )
    order = similarity[:, 0].argsort()
    assert similarity[order[1], 0] - similarity[order[0], 0] > 0.01  # apart enough for the rounding
    with torch.no_grad():
        checker.concept_embeds_weights[0] = (similarity[order[0], 0] + similarity[order[1], 0]) / 2
    _, flagged = checker(clip_input=clip_input, images=torch.zeros(3, 1))
    assert flagged[order[0]] is False and flagged[order[1]] is True


def test_a_shipped_checker_loads_from_the_hub_cache(with_checker, tmp_path, monkeypatch):
    revision = "0123456789abcdef0123456789abcdef01234567"
    snapshot = tmp_path / "hub" / "models--imagine--tiny-checked" / "snapshots" / revision
    snapshot.parent.mkdir(parents=True)
    snapshot.symlink_to(with_checker["flag-all"], target_is_directory=True)
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path / "hub"))
    model = load_model(entry(HubSource(repo="imagine/tiny-checked", revision=revision)), cache_dir=tmp_path,
                       device=CPU)  # fmt: skip
    assert model.safety_checker == ComponentSource("imagine/tiny-checked", revision)
    checker = load_own_checker(model.safety_checker, device=CPU, dtype=torch.float32)
    assert checker.flags(pictures()) == [True] * 4


def test_a_lower_precision_checker_decides_the_same(with_checker):
    where = ComponentSource(str(with_checker["flag-all"]), local_files_only=True)
    checker = load_own_checker(where, device=CPU, dtype=torch.bfloat16)
    assert checker.checker.dtype is torch.bfloat16
    assert checker.flags(pictures()) == [True] * 4


@pytest.mark.parametrize(
    ("verdict", "labels", "threshold", "expected"),
    [
        ("flag-all", ["nsfw"], 0.5, True),
        ("pass-all", ["nsfw"], 0.5, False),
        ("pass-all", ["nsfw"], 0.0001, True),  # P(nsfw) = 0.00034: the threshold is what decides
        ("flag-all", ["normal"], 0.5, False),
        ("flag-all", ["normal", "nsfw"], 0.99, True),  # the labels' probabilities add up
    ],
)
def test_the_classifier_decides(classifiers, verdict, labels, threshold, expected):
    config = SafetyClassifier(
        source=FolderSource(path=classifiers[verdict]), labels=labels, threshold=threshold
    )
    classifier = load_classifier(config, device=CPU, dtype=torch.float32)
    assert classifier.flags(pictures()) == [expected] * 4


def test_a_multi_label_classifier_scores_each_label_alone(tmp_path):
    folder = save_tiny_classifier(tmp_path / "multi", "flag-all")
    config_file = folder / "config.json"
    config_file.write_text(
        config_file.read_text().replace("{", '{"problem_type": "multi_label_classification", ', 1)
    )
    # Sigmoid, not softmax: "normal" (logit 0) scores 0.5 on its own, not 0.0003.
    config = SafetyClassifier(source=FolderSource(path=folder), labels=["normal"], threshold=0.4)
    assert load_classifier(config, device=CPU, dtype=torch.float32).flags(pictures()) == [True] * 4


def test_a_classifier_without_the_configured_label_is_refused(classifiers):
    config = SafetyClassifier(source=FolderSource(path=classifiers["flag-all"]), labels=["porn", "nsfw"])
    with pytest.raises(ValueError, match="has no label 'porn'; its labels are 'normal', 'nsfw'"):
        load_classifier(config, device=CPU, dtype=torch.float32)


def test_a_test_catalog_with_a_flag_everything_model(tmp_path):
    path = save_tiny_catalog(tmp_path / "catalog", safety="flag-all", classifier="pass-all")
    catalog = load_catalog(path)
    assert catalog.names == ("tiny",)
    assert catalog.get().source == FolderSource(path=tmp_path / "catalog" / "tiny")
    assert catalog.safety_classifier == SafetyClassifier(
        source=FolderSource(path=tmp_path / "catalog" / "classifier"), labels=["nsfw"]
    )
    assert catalog.get().profile() == load_catalog().get("tiny").profile()
    model = load_model(catalog.get(), cache_dir=tmp_path, device=CPU)
    assert model.safety_checker is not None
    assert (
        load_own_checker(model.safety_checker, device=CPU, dtype=torch.float32).flags(pictures())
        == [True] * 4
    )
    assert load_catalog(save_tiny_catalog(tmp_path / "plain")).safety_classifier is None


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_checkers_on_a_gpu_in_half_precision(with_checker, classifiers):
    cuda = torch.device("cuda")
    where = ComponentSource(str(with_checker["flag-all"]), local_files_only=True)
    own = load_own_checker(where, device=cuda, dtype=torch.float16)
    assert own.checker.device.type == "cuda" and own.checker.dtype is torch.float16
    assert own.flags(pictures()) == [True] * 4
    config = SafetyClassifier(source=FolderSource(path=classifiers["flag-all"]), labels=["nsfw"])
    assert load_classifier(config, device=cuda, dtype=torch.float16).flags(pictures()) == [True] * 4


def test_the_tiny_checkers_are_small_and_built_the_same_every_time():
    for build in (build_tiny_safety_checker, build_tiny_classifier):
        first, again = build("flag-all")[0].state_dict(), build("flag-all")[0].state_dict()
        assert all(torch.equal(first[key], again[key]) for key in first)
        assert sum(tensor.numel() for tensor in first.values()) < 20_000
