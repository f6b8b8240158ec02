"""Pictures of simple scenes and their captions, deterministic from a seed.

"a red circle on a blue background", "two small green triangles on a white background", "a large
yellow square at the top left on a black background": one to three shapes of one colour and size,
placed by position when there is one, on a plain background of another colour.
"""

import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass

from PIL import Image, ImageDraw

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 40, 40),
    "green": (40, 170, 60),
    "blue": (40, 80, 220),
    "yellow": (240, 210, 40),
    "orange": (245, 130, 30),
    "purple": (140, 60, 190),
    "white": (245, 245, 245),
    "black": (20, 20, 20),
}
SHAPES = ("circle", "square", "triangle")
SIZES = {"small": 0.12, "large": 0.2}
"""Half the shape's width, as a fraction of the image's side."""
POSITIONS = {
    "top left": (0.28, 0.28),
    "top right": (0.72, 0.28),
    "bottom left": (0.28, 0.72),
    "bottom right": (0.72, 0.72),
    "center": (0.5, 0.5),
}
"""Where a single shape sits, as fractions of the image's width and height."""
_COUNT_WORDS = {1: "a", 2: "two", 3: "three"}
_SLOTS = {2: ((0.25, 0.5), (0.75, 0.5)), 3: ((0.28, 0.28), (0.72, 0.28), (0.5, 0.72))}
_SUPERSAMPLE = 4
_UNSAID_SIZE, _UNSAID_BACKGROUND = 0.3, 0.2
"""How often a training caption leaves out the size, and the background."""
HELD_OUT_SHARE = 10
"""One caption in this many is kept out of training, for the evaluation."""


@dataclass(frozen=True)
class Scene:
    shape: str
    colour: str
    count: int
    size: str
    background: str
    position: str | None = None
    """Where a single shape is; None places it anywhere, and the caption does not say."""

    @property
    def caption(self) -> str:
        """The whole description: count, size, colour, shape, position when set, background."""
        return self.describe()

    def describe(self, *, size: bool = True, background: bool = True) -> str:
        """The caption, leaving out the size or the background when asked."""
        words = [_COUNT_WORDS[self.count]]
        if size:
            words.append(self.size)
        words += [self.colour, self.shape + ("s" if self.count > 1 else "")]
        if self.position:
            words.append("in the center" if self.position == "center" else f"at the {self.position}")
        if background:
            article = "an" if self.background[0] in "aeiou" else "a"
            words.append(f"on {article} {self.background} background")
        return " ".join(words)

    def loose_caption(self, rng: random.Random) -> str:
        """A training caption that sometimes leaves out the size or the background, as people do
        ("a red circle on a blue background", "two small green triangles")."""
        return self.describe(size=rng.random() >= _UNSAID_SIZE, background=rng.random() >= _UNSAID_BACKGROUND)

    @property
    def held_out(self) -> bool:
        """Whether this caption belongs to the evaluation's prompts rather than to training."""
        digest = hashlib.sha256(self.caption.encode()).digest()
        return digest[0] % HELD_OUT_SHARE == 0


def random_scene(rng: random.Random) -> Scene:
    colour, background = rng.sample(sorted(COLOURS), 2)
    count = rng.choice((1, 1, 2, 3))
    size = "small" if count == 3 else rng.choice(sorted(SIZES))
    position = rng.choice([None, *POSITIONS]) if count == 1 else None
    return Scene(rng.choice(SHAPES), colour, count, size, background, position)


def scenes(seed: int, *, held_out: bool = False) -> Iterator[Scene]:
    """An endless, repeatable stream of training scenes (or, with `held_out`, evaluation scenes)."""
    rng = random.Random(seed)
    while True:
        scene = random_scene(rng)
        if scene.held_out == held_out:
            yield scene


def render(scene: Scene, side: int = 64, *, seed: int = 0) -> Image.Image:
    """The scene as an RGB image; `seed` picks where a shape without a stated position goes."""
    big = side * _SUPERSAMPLE
    image = Image.new("RGB", (big, big), COLOURS[scene.background])
    draw = ImageDraw.Draw(image)
    radius = SIZES[scene.size] * big
    for x, y in _centres(scene, random.Random(seed)):
        _draw(draw, scene.shape, (x * big, y * big), radius, COLOURS[scene.colour])
    return image.resize((side, side), Image.Resampling.LANCZOS)


def _centres(scene: Scene, rng: random.Random) -> tuple[tuple[float, float], ...]:
    if scene.count > 1:
        return _SLOTS[scene.count]
    if scene.position:
        return (POSITIONS[scene.position],)
    return (POSITIONS[rng.choice(sorted(POSITIONS))],)


def _draw(draw: ImageDraw.ImageDraw, shape: str, centre: tuple[float, float], r: float, fill: tuple) -> None:
    x, y = centre
    if shape == "circle":
        draw.ellipse((x - r, y - r, x + r, y + r), fill=fill)
    elif shape == "square":
        side = r * 0.9  # the same area as the circle, near enough to read as the same size
        draw.rectangle((x - side, y - side, x + side, y + side), fill=fill)
    else:
        draw.polygon(((x, y - r), (x + r, y + r * 0.8), (x - r, y + r * 0.8)), fill=fill)
