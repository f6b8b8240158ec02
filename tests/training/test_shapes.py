"""The scene generator (repeatable, captioned, split into training and evaluation prompts) and the
pixel reader the evaluation relies on."""

import itertools
import random

import numpy as np
import pytest
from PIL import Image, ImageFilter

from training.shapes.measure import accuracy, read
from training.shapes.scenes import COLOURS, Scene, render, scenes


@pytest.mark.parametrize(
    ("scene", "caption"),
    [
        (Scene("circle", "red", 1, "small", "blue"), "a small red circle on a blue background"),
        (Scene("triangle", "green", 2, "large", "white"), "two large green triangles on a white background"),
        (
            Scene("square", "yellow", 1, "large", "orange", "top left"),
            "a large yellow square at the top left on an orange background",
        ),
        (
            Scene("circle", "black", 1, "small", "purple", "center"),
            "a small black circle in the center on a purple background",
        ),
    ],
)
def test_captions_say_what_the_scene_holds(scene: Scene, caption: str) -> None:
    assert scene.caption == caption


def test_the_same_seed_gives_the_same_scenes_and_pixels() -> None:
    first = list(itertools.islice(scenes(7), 50))
    assert first == list(itertools.islice(scenes(7), 50))
    assert first != list(itertools.islice(scenes(8), 50))
    assert np.array_equal(np.asarray(render(first[0], seed=3)), np.asarray(render(first[0], seed=3)))


def test_evaluation_prompts_never_appear_in_training() -> None:
    training = {scene.caption for scene in itertools.islice(scenes(1), 3000)}
    held_out = {scene.caption for scene in itertools.islice(scenes(1, held_out=True), 300)}
    assert held_out and not training & held_out
    assert all(scene.colour != scene.background for scene in itertools.islice(scenes(2), 500))


def test_the_reader_gets_every_generated_scene_right() -> None:
    pairs = [(s, render(s, seed=i)) for i, s in enumerate(itertools.islice(scenes(3, held_out=True), 300))]
    result = accuracy(pairs)
    assert (result.colour, result.shape, result.count, result.position, result.scenes) == (1, 1, 1, 1, 300)
    assert all(read(image).size == scene.size for scene, image in pairs)
    assert all(read(image).background == scene.background for scene, image in pairs)


def test_the_reader_tolerates_noise_and_reports_an_empty_picture() -> None:
    rng = np.random.default_rng(0)
    pairs = []
    for i, scene in enumerate(itertools.islice(scenes(4), 200)):
        pixels = np.asarray(render(scene, seed=i), dtype=float) + rng.normal(0, 12, (64, 64, 3))
        pairs.append((scene, Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))))
    result = accuracy(pairs)
    assert min(result.colour, result.shape, result.count, result.position) >= 0.95
    blank = read(Image.new("RGB", (64, 64), COLOURS["blue"]))
    assert (blank.background, blank.count, blank.colour) == ("blue", 0, None)


def test_a_wrong_picture_scores_zero() -> None:
    scene = Scene("circle", "red", 1, "small", "blue", "top left")
    wrong = render(Scene("square", "green", 2, "small", "blue"))
    result = accuracy([(scene, wrong)])
    assert (result.colour, result.shape, result.count, result.position) == (0, 0, 0, 0)


def test_training_captions_sometimes_leave_out_the_size_or_the_background() -> None:
    scene = Scene("triangle", "green", 2, "small", "white")
    rng = random.Random(0)
    loose = [scene.loose_caption(rng) for _ in range(400)]
    assert set(loose) == {
        "two small green triangles on a white background",
        "two green triangles on a white background",
        "two small green triangles",
        "two green triangles",
    }
    assert loose.count(scene.caption) > len(loose) / 2  # most captions still say everything
    assert loose == [scene.loose_caption(random.Random(0)) for _ in range(1)] + loose[1:]


def test_the_reader_still_knows_the_shapes_behind_soft_edges() -> None:
    """A decoder draws softer edges than the renderer: blurred, a triangle is still a triangle."""
    pairs = [
        (scene, render(scene, seed=i).filter(ImageFilter.GaussianBlur(1.5)))
        for i, scene in enumerate(itertools.islice(scenes(6, held_out=True), 200))
    ]
    result = accuracy(pairs)
    assert result.colour >= 0.95 and result.shape >= 0.9, result
