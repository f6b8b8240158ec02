"""A small real discord.py bot with modals and string selects, for the emulator's and the playground's
tests: /job posts a persistent Edit button (it opens a modal of action rows) and a select of grid
cells; /note opens a modal built of labels."""

import re

import discord
from discord import app_commands


class PromptModal(discord.ui.Modal, title="Edit the prompt"):
    """Two text inputs in action rows, as discord.py lays out a bare `TextInput`."""

    prompt = discord.ui.TextInput(
        label="Prompt", custom_id="prompt", style=discord.TextStyle.paragraph, max_length=20
    )
    seed = discord.ui.TextInput(label="Seed", custom_id="seed", required=False, placeholder="random")

    def __init__(self, job: int, prompt: str) -> None:
        super().__init__(custom_id=f"prompt:{job}")
        self.prompt.default = prompt

    async def on_submit(self, interaction: discord.Interaction) -> None:
        content = f"prompt={self.prompt.value} seed={self.seed.value or '-'}"
        await interaction.response.edit_message(content=content, view=None)


class EditButton(discord.ui.DynamicItem[discord.ui.Button], template=r"edit:(?P<job>\d+)"):
    def __init__(self, job: int) -> None:
        super().__init__(discord.ui.Button(label="Edit", custom_id=f"edit:{job}"))
        self.job = job

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> "EditButton":
        return cls(int(match["job"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(PromptModal(self.job, "a cat"))


class RegionSelect(discord.ui.DynamicItem[discord.ui.Select], template=r"region:(?P<job>\d+)"):
    """The nine cells of a 3×3 grid, any of them."""

    def __init__(self, job: int) -> None:
        options = [discord.SelectOption(label=f"cell {n}", value=str(n)) for n in range(1, 10)]
        select = discord.ui.Select(
            custom_id=f"region:{job}",
            placeholder="Cells to vary",
            min_values=1,
            max_values=9,
            options=options,
        )
        super().__init__(select)
        self.job = job

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Select, match: re.Match[str], /
    ) -> "RegionSelect":
        return cls(int(match["job"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"job {self.job}: vary {','.join(self.item.values)}")


class NoteModal(discord.ui.Modal, title="A note"):
    """The newer layout: a label around each input."""

    note = discord.ui.Label(text="Note", component=discord.ui.TextInput(custom_id="note", min_length=2))

    async def on_submit(self, interaction: discord.Interaction) -> None:
        bot = interaction.client
        assert isinstance(bot, FormBot)
        try:
            await interaction.response.send_modal(NoteModal(custom_id="again"))
        except discord.HTTPException as error:
            bot.errors.append(error)
        assert isinstance(self.note.component, discord.ui.TextInput)
        await interaction.response.send_message(f"noted: {self.note.component.value}")


@app_commands.command(description="Posts a job's buttons")
async def job(interaction: discord.Interaction) -> None:
    view = discord.ui.View(timeout=None)
    view.add_item(EditButton(7))
    view.add_item(RegionSelect(7))
    await interaction.response.send_message("job 7", view=view)


@app_commands.command(description="Asks for a note")
async def note(interaction: discord.Interaction) -> None:
    await interaction.response.send_modal(NoteModal(custom_id="note-modal"))


class FormBot(discord.Client):
    def __init__(self, guild_id: int) -> None:
        super().__init__(intents=discord.Intents.default(), guild_ready_timeout=0.05)
        self.tree = app_commands.CommandTree(self)
        self.errors: list[discord.HTTPException] = []
        for command in (job, note):
            self.tree.add_command(command, guild=discord.Object(guild_id))
        self.guild_id = guild_id

    async def setup_hook(self) -> None:
        self.add_dynamic_items(EditButton, RegionSelect)
        await self.tree.sync(guild=discord.Object(self.guild_id))
