"""The tiny model, built and saved once per session for the model tests."""

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`build_tiny_pipeline()` saved in the diffusers layout, as a `folder` source would name it."""
    from models.tiny.sd import build_tiny_pipeline  # torch only for the tests that ask for it

    folder = tmp_path_factory.mktemp("tiny-folder") / "tiny"
    build_tiny_pipeline().save_pretrained(folder)
    return folder
