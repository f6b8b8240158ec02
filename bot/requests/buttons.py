"""The buttons under results, and the views that lay them out. Each is a `DynamicItem`: its
custom_id holds all it needs, so a click on a message from before any restart is understood."""

import re
from typing import TYPE_CHECKING, Any, cast

import discord

from bot.replies import answering, tell
from bot.requests import forms
from jobs import custom_ids, limits
from jobs.specs import Direction, Strength

Values = dict[str, str] | None
"""What the member typed into a follow-up's modal; None for a plain click."""

if TYPE_CHECKING:
    from bot.requests.actions import Actions


def _actions(interaction: discord.Interaction) -> "Actions":
    return cast(Any, interaction.client).actions


def _typed(values: Values, name: str) -> str | None:
    """What the member typed into the form's input `name`; None for a plain click, and "" when a
    submitted form lacks it (a hand-made one), which the action then refuses rather than asks again."""
    return None if values is None else values.get(name, "")


class UpscaleButton(discord.ui.DynamicItem[discord.ui.Button], template=custom_ids.UPSCALE):
    """U1–U4 under a grid (the server's kind of upscale), or Upscale (Subtle/Creative) under an image."""

    def __init__(self, job_id: str, index: int, mode: str | None = None) -> None:
        label = f"U{index}" if mode is None else f"Upscale ({mode.title()})"
        super().__init__(
            discord.ui.Button(
                label=label, row=0 if mode is None else 3, custom_id=custom_ids.upscale(job_id, index, mode)
            )
        )
        self.job_id = job_id
        self.index = index
        self.mode = mode

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> "UpscaleButton":
        return cls(match["job"], int(match["index"]), match["mode"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await answering(
            interaction, _actions(interaction).upscale(interaction, self.job_id, self.index, self.mode)
        )


class VaryButton(discord.ui.DynamicItem[discord.ui.Button], template=custom_ids.VARY):
    """V1–V4 under a grid (the member's default strength), or Vary (Subtle/Strong) under an image."""

    def __init__(self, job_id: str, index: int, strength: Strength | None = None) -> None:
        label = f"V{index}" if strength is None else f"Vary ({strength.value.title()})"
        super().__init__(
            discord.ui.Button(
                label=label,
                row=1 if strength is None else 0,
                custom_id=custom_ids.vary(job_id, index, strength),
            )
        )
        self.job_id = job_id
        self.index = index
        self.strength = strength

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> "VaryButton":
        strength = Strength(match["strength"]) if match["strength"] else None
        return cls(match["job"], int(match["index"]), strength)

    async def callback(self, interaction: discord.Interaction) -> None:
        await self.submitted(interaction, None)

    async def submitted(self, interaction: discord.Interaction, values: Values) -> None:
        prompt = _typed(values, forms.PROMPT)
        vary = _actions(interaction).vary(interaction, self.job_id, self.index, self.strength, prompt=prompt)
        await answering(interaction, vary)


class RerollButton(discord.ui.DynamicItem[discord.ui.Button], template=custom_ids.REROLL):
    def __init__(self, job_id: str) -> None:
        super().__init__(discord.ui.Button(emoji="🔄", row=1, custom_id=custom_ids.reroll(job_id)))
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> "RerollButton":
        return cls(match["job"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await self.submitted(interaction, None)

    async def submitted(self, interaction: discord.Interaction, values: Values) -> None:
        prompt = _typed(values, forms.PROMPT)
        await answering(interaction, _actions(interaction).reroll(interaction, self.job_id, prompt=prompt))


_ZOOM_LABELS = {"2": "Zoom Out 2×", "1.5": "Zoom Out 1.5×", "custom": "Custom Zoom"}


class ZoomButton(discord.ui.DynamicItem[discord.ui.Button], template=custom_ids.ZOOM):
    """Zoom Out 2× or 1.5×, or Custom Zoom (which always asks for the factor and prompt)."""

    def __init__(self, job_id: str, index: int, factor: str) -> None:
        super().__init__(
            discord.ui.Button(
                label=_ZOOM_LABELS[factor],
                emoji="🔍",
                row=1,
                custom_id=custom_ids.zoom(job_id, index, factor),
            )
        )
        self.job_id = job_id
        self.index = index
        self.factor = factor

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> "ZoomButton":
        return cls(match["job"], int(match["index"]), match["factor"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await self.submitted(interaction, None)

    async def submitted(self, interaction: discord.Interaction, values: Values) -> None:
        factor = _typed(values, forms.FACTOR) if self.factor == "custom" else self.factor
        prompt = _typed(values, forms.PROMPT)
        zoom = _actions(interaction).zoom(interaction, self.job_id, self.index, factor, prompt=prompt)
        await answering(interaction, zoom)


_ARROWS = {Direction.LEFT: "⬅️", Direction.RIGHT: "➡️", Direction.UP: "⬆️", Direction.DOWN: "⬇️"}


class PanButton(discord.ui.DynamicItem[discord.ui.Button], template=custom_ids.PAN):
    def __init__(self, job_id: str, index: int, direction: Direction) -> None:
        super().__init__(
            discord.ui.Button(
                emoji=_ARROWS[direction], row=2, custom_id=custom_ids.pan(job_id, index, direction)
            )
        )
        self.job_id = job_id
        self.index = index
        self.direction = direction

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> "PanButton":
        return cls(match["job"], int(match["index"]), Direction(match["direction"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await self.submitted(interaction, None)

    async def submitted(self, interaction: discord.Interaction, values: Values) -> None:
        prompt = _typed(values, forms.PROMPT)
        pan = _actions(interaction).pan(interaction, self.job_id, self.index, self.direction, prompt=prompt)
        await answering(interaction, pan)


class SquareButton(discord.ui.DynamicItem[discord.ui.Button], template=custom_ids.SQUARE):
    def __init__(self, job_id: str, index: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Make Square", emoji="↔️", row=1, custom_id=custom_ids.square(job_id, index)
            )
        )
        self.job_id = job_id
        self.index = index

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> "SquareButton":
        return cls(match["job"], int(match["index"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await answering(interaction, _actions(interaction).square(interaction, self.job_id, self.index))


class RegionButton(discord.ui.DynamicItem[discord.ui.Button], template=custom_ids.REGION):
    """Vary (Region): offers the parts of the image to repaint (`CellsSelect`)."""

    def __init__(self, job_id: str, index: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Vary (Region)", emoji="🖌️", row=0, custom_id=custom_ids.region(job_id, index)
            )
        )
        self.job_id = job_id
        self.index = index

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> "RegionButton":
        return cls(match["job"], int(match["index"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        parts = discord.ui.View(timeout=None)
        parts.add_item(CellsSelect(self.job_id, self.index))
        menu = _actions(interaction).region_menu(interaction, self.job_id, self.index, parts)
        await answering(interaction, menu)


class CellsSelect(discord.ui.DynamicItem[discord.ui.Select], template=custom_ids.CELLS):
    """The parts of an image Vary (Region) may repaint: the nine cells of a 3 × 3 grid and the sides."""

    def __init__(self, job_id: str, index: int) -> None:
        options = [discord.SelectOption(label=label, value=value) for value, label in PARTS.items()]
        super().__init__(
            discord.ui.Select(
                custom_id=custom_ids.cells(job_id, index),
                placeholder="Pick the parts to repaint (several at once)",
                min_values=1,
                max_values=len(options),
                options=options,
            )
        )
        self.job_id = job_id
        self.index = index

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Select, match: re.Match[str], /
    ) -> "CellsSelect":
        return cls(match["job"], int(match["index"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        cells = cells_of(self.item.values)
        await answering(
            interaction, _actions(interaction).region_form(interaction, self.job_id, self.index, cells)
        )


class RetryButton(discord.ui.DynamicItem[discord.ui.Button], template=custom_ids.RETRY):
    def __init__(self, job_id: str) -> None:
        super().__init__(discord.ui.Button(label="Retry", emoji="🔁", custom_id=custom_ids.retry(job_id)))
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> "RetryButton":
        return cls(match["job"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await answering(interaction, _actions(interaction).retry(interaction, self.job_id))


class PromptButton(discord.ui.DynamicItem[discord.ui.Button], template=custom_ids.PROMPT):
    """1–4 under a `/describe` result: `/imagine` that prompt (with Remix on, edited first)."""

    def __init__(self, job_id: str, index: int) -> None:
        super().__init__(
            discord.ui.Button(label=str(index), row=0, custom_id=custom_ids.prompt(job_id, index))
        )
        self.job_id = job_id
        self.index = index

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> "PromptButton":
        return cls(match["job"], int(match["index"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await self.submitted(interaction, None)

    async def submitted(self, interaction: discord.Interaction, values: Values) -> None:
        prompt = _typed(values, forms.PROMPT)
        start = _actions(interaction).imagine_described(interaction, self.job_id, self.index, prompt=prompt)
        await answering(interaction, start)


class DescribeButton(discord.ui.DynamicItem[discord.ui.Button], template=custom_ids.DESCRIBE):
    """🔄 under a `/describe` result: other prompts for the same image."""

    def __init__(self, job_id: str) -> None:
        super().__init__(discord.ui.Button(emoji="🔄", row=0, custom_id=custom_ids.describe(job_id)))
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> "DescribeButton":
        return cls(match["job"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await answering(interaction, _actions(interaction).describe_again(interaction, self.job_id))


BUTTONS = (
    UpscaleButton,
    VaryButton,
    RerollButton,
    RetryButton,
    ZoomButton,
    PanButton,
    SquareButton,
    RegionButton,
    CellsSelect,
    PromptButton,
    DescribeButton,
)
"""What the client registers with `add_dynamic_items`."""
REMIXABLE = (VaryButton, RerollButton, ZoomButton, PanButton, PromptButton)
"""The items whose follow-up may start from a modal (`submitted`): Remix, or Custom Zoom."""
PARTS = {
    **{
        str(cell): name
        for cell, name in enumerate(
            (
                "Top left",
                "Top",
                "Top right",
                "Left",
                "Centre",
                "Right",
                "Bottom left",
                "Bottom",
                "Bottom right",
            ),
            1,
        )
    },
    "left": "Left side (1, 4, 7)",
    "right": "Right side (3, 6, 9)",
    "top": "Top side (1, 2, 3)",
    "bottom": "Bottom side (7, 8, 9)",
}
"""Vary (Region)'s choices: a cell 1-9 (row by row from the top left) or a side of three."""
_SIDES = {"left": {1, 4, 7}, "right": {3, 6, 9}, "top": {1, 2, 3}, "bottom": {7, 8, 9}}


def cells_of(values: list[str]) -> frozenset[int]:
    """The cells the chosen parts cover; a value that is none of `PARTS` (a forged choice) adds none."""
    return frozenset(
        cell for value in values for cell in _SIDES.get(value, {int(value)} if value.isdigit() else ())
    )


UNKNOWN_BUTTON = (
    "That button isn't one I can use (it may be from an older version of me): run /imagine again."
)


async def submit(interaction: discord.Interaction) -> None:
    """A follow-up's modal submitted: the follow-up starts with what the member typed."""
    custom_id = (interaction.data or {}).get("custom_id", "")
    values = forms.submitted(interaction)
    if not (match := re.fullmatch(custom_ids.REMIX, custom_id)):
        await tell(interaction, UNKNOWN_BUTTON)
        return
    if region := re.fullmatch(custom_ids.REGION_PROMPT, match["action"]):
        cells = frozenset(map(int, region["cells"]))
        start = _actions(interaction).region(
            interaction, region["job"], int(region["index"]), cells, prompt=values.get(forms.PROMPT, "")
        )
        await answering(interaction, start)
        return
    clicked = custom_ids.remixed_action(match["action"])
    for kind in REMIXABLE:
        if found := kind.__discord_ui_compiled_template__.fullmatch(clicked):
            item = await kind.from_custom_id(interaction, cast(Any, None), found)
            await item.submitted(interaction, values)
            return
    await tell(interaction, UNKNOWN_BUTTON)


def serves(interaction: discord.Interaction) -> bool:
    """Whether one of `BUTTONS` takes this click: discord.py runs a dynamic item only when the
    custom_id matches its template and the clicked message carries a component with that id."""
    custom_id = (interaction.data or {}).get("custom_id", "")
    if not any(button.__discord_ui_compiled_template__.fullmatch(custom_id) for button in BUTTONS):
        return False
    message = interaction.message
    rows = message.components if message else []
    return any(
        getattr(component, "custom_id", None) == custom_id
        for row in rows
        for component in getattr(row, "children", [row])
    )


def grid_buttons(job_id: str, blocked: tuple[int, ...] = ()) -> discord.ui.View:
    """U1–U4 on the first row; V1–V4 and 🔄 on the second. A blocked image's buttons are disabled."""
    view = discord.ui.View(timeout=None)
    for index in range(1, limits.GRID_IMAGES + 1):
        view.add_item(_disabled_if(UpscaleButton(job_id, index), index in blocked))
    for index in range(1, limits.GRID_IMAGES + 1):
        view.add_item(_disabled_if(VaryButton(job_id, index), index in blocked))
    view.add_item(RerollButton(job_id))
    return view


def upscale_buttons(
    job_id: str, grid_url: str | None, *, blocked: bool = False, square: bool = True
) -> discord.ui.View:
    """Midjourney's tools under an upscaled image: Vary (Subtle, Strong, Region); Zoom Out 2×, 1.5×,
    Custom Zoom and, unless it is `square`, Make Square; the four pans; Upscale (Subtle, Creative);
    and a link back to the grid the image came from. All are disabled for a `blocked` image."""
    items: list[discord.ui.Item] = [VaryButton(job_id, 1, strength) for strength in Strength]
    items.append(RegionButton(job_id, 1))
    items += [ZoomButton(job_id, 1, factor) for factor in _ZOOM_LABELS]
    items += [] if square else [SquareButton(job_id, 1)]
    items += [PanButton(job_id, 1, direction) for direction in Direction]
    items += [UpscaleButton(job_id, 1, mode) for mode in ("subtle", "creative")]
    view = discord.ui.View(timeout=None)
    for item in items:
        view.add_item(_disabled_if(item, blocked))
    if grid_url:
        view.add_item(discord.ui.Button(label="Grid", emoji="↖️", url=grid_url, row=4))
    return view


def describe_buttons(job_id: str, count: int) -> discord.ui.View:
    """1–`count` (each prompt of a `/describe` result) and 🔄."""
    view = discord.ui.View(timeout=None)
    for index in range(1, count + 1):
        view.add_item(PromptButton(job_id, index))
    view.add_item(DescribeButton(job_id))
    return view


def retry_buttons(job_id: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(RetryButton(job_id))
    return view


def _disabled_if(button: discord.ui.DynamicItem, disabled: bool) -> discord.ui.DynamicItem:
    button.item.disabled = disabled
    return button
