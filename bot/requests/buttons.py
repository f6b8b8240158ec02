"""The buttons under results, and the views that lay them out. Each is a `DynamicItem`: its
custom_id holds all it needs, so a click on a message from before any restart is understood."""

import re
from typing import TYPE_CHECKING, Any, cast

import discord

from bot.replies import answering
from jobs import custom_ids, limits
from jobs.specs import Strength

if TYPE_CHECKING:
    from bot.requests.actions import Actions


def _actions(interaction: discord.Interaction) -> "Actions":
    return cast(Any, interaction.client).actions


class UpscaleButton(discord.ui.DynamicItem[discord.ui.Button], template=custom_ids.UPSCALE):
    def __init__(self, job_id: str, index: int) -> None:
        super().__init__(
            discord.ui.Button(label=f"U{index}", row=0, custom_id=custom_ids.upscale(job_id, index))
        )
        self.job_id = job_id
        self.index = index

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> "UpscaleButton":
        return cls(match["job"], int(match["index"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await answering(interaction, _actions(interaction).upscale(interaction, self.job_id, self.index))


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
        await answering(
            interaction, _actions(interaction).vary(interaction, self.job_id, self.index, self.strength)
        )


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
        await answering(interaction, _actions(interaction).reroll(interaction, self.job_id))


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


BUTTONS = (UpscaleButton, VaryButton, RerollButton, RetryButton)
"""What the client registers with `add_dynamic_items`."""
UNKNOWN_BUTTON = (
    "That button isn't one I can use (it may be from an older version of me): run /imagine again."
)


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


def upscale_buttons(job_id: str, grid_url: str | None, *, blocked: bool = False) -> discord.ui.View:
    """Vary (Subtle), Vary (Strong) and a link back to the grid the image came from."""
    view = discord.ui.View(timeout=None)
    for strength in Strength:
        view.add_item(_disabled_if(VaryButton(job_id, 1, strength), blocked))
    if grid_url:
        view.add_item(discord.ui.Button(label="Grid", emoji="↖️", url=grid_url))
    return view


def retry_buttons(job_id: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(RetryButton(job_id))
    return view


def _disabled_if(button: discord.ui.DynamicItem, disabled: bool) -> discord.ui.DynamicItem:
    button.item.disabled = disabled
    return button
