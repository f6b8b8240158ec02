"""The modals a follow-up asks its prompt with (Remix, Custom Zoom, Vary (Region)), and reading
what the member typed. Like the buttons, a modal's custom_id holds all its submit needs: discord.py
never keeps the modal, and the submit is read from the interaction, so it works across restarts."""

import discord

from jobs import limits

PROMPT = "prompt"
FACTOR = "factor"
_TITLE_LIMIT = 45
"""Characters Discord shows in a modal's title."""


def prompt_form(custom_id: str, title: str, prompt: str, *, factor: bool = False) -> discord.ui.Modal:
    """A modal with the prompt filled in (and, for Custom Zoom, the zoom factor) under `custom_id`."""
    form = discord.ui.Modal(title=title[:_TITLE_LIMIT], custom_id=custom_id, timeout=None)
    if factor:
        form.add_item(
            discord.ui.TextInput(
                label=f"Zoom out by ({limits.ZOOM_MIN:g}-{limits.ZOOM_MAX:g})",
                custom_id=FACTOR,
                default="1.5",
                max_length=5,
            )
        )
    form.add_item(
        discord.ui.TextInput(
            label="Prompt",
            custom_id=PROMPT,
            style=discord.TextStyle.paragraph,
            default=prompt[: limits.MAX_PROMPT_CHARS],
            max_length=limits.MAX_PROMPT_CHARS,
        )
    )
    form.stop()  # never held by discord.py: `submitted` reads the answer
    return form


def submitted(interaction: discord.Interaction) -> dict[str, str]:
    """What the member typed into each text input of the modal they submitted, by custom_id."""
    values: dict[str, str] = {}
    pending = list((interaction.data or {}).get("components", []))
    while pending:
        component = pending.pop()
        pending += component.get("components", [])
        if "component" in component:  # a label around its input
            pending.append(component["component"])
        if "value" in component and "custom_id" in component:
            values[component["custom_id"]] = str(component["value"])
    return values
