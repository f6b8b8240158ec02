"""What a member does with a modal the bot opened: submit it (MODAL_SUBMIT, shaped as Discord sends it,
mirroring the modal's layout) or cancel it (Discord tells the bot nothing)."""

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from emulator.actions import check_choice, new_interaction
from emulator.components import ACTION_ROW, LABEL, STRING_SELECT, TEXT_DISPLAY, TEXT_INPUT, fields, walk
from emulator.interactions import MODAL_SUBMIT, Interaction, interaction_payload
from emulator.responses import DiscordError
from emulator.state import State

Value = str | Sequence[str]
"""What a member enters: text for a text input, option values for a string select."""


def submit_modal(
    state: State,
    opener: Interaction,
    values: Mapping[str, Value],
    *,
    user_id: int,
    attachment_size_limit: int,
) -> Interaction:
    """The member submits the modal the bot opened in answer to `opener`, with `values` by input
    custom_id; inputs left out keep what the modal prefilled (a text input's `value`, a select's
    default options). Returns the new MODAL_SUBMIT interaction.

    LookupError when `opener` opened no modal or a value names no input of it; PermissionError when
    the modal was opened for another member; ValueError when it was already submitted or cancelled, a
    required input is empty, or a value breaks its input's min/max."""
    modal = _open_modal(opener, user_id)
    inputs = fields(modal["components"])
    unknown = [key for key in values if key not in inputs]
    if unknown:
        raise LookupError(
            f"modal {modal['custom_id']!r} has no input {unknown[0]!r}; its inputs: {list(inputs)}"
        )
    entered = {key: _entry(inputs[key], values.get(key)) for key in inputs}
    interaction = new_interaction(state, "modal", user_id, opener.channel_id, attachment_size_limit)
    interaction.opened_from = opener
    interaction.clicked_message_id = opener.clicked_message_id
    opener.modal_closed = True
    data = {"custom_id": modal["custom_id"], "components": _submitted(modal["components"], entered)}
    payload = interaction_payload(
        state.world,
        interaction,
        application_id=state.application_id,
        type=MODAL_SUBMIT,
        data=data,
        message=_message(state, opener.clicked_message_id),
    )
    state.gateway.publish("INTERACTION_CREATE", payload)
    return interaction


def cancel_modal(opener: Interaction, *, user_id: int) -> None:
    """The member closes the modal without submitting it; the same errors as `submit_modal`'s."""
    _open_modal(opener, user_id)
    opener.modal_closed = True


def _open_modal(opener: Interaction, user_id: int) -> dict[str, Any]:
    if opener.modal is None:
        raise LookupError(
            f"interaction {opener.id} opened no modal (its answer was type {opener.response_type})"
        )
    if opener.user_id != user_id:
        raise PermissionError(f"the modal was opened for user {opener.user_id}, not for user {user_id}")
    if opener.modal_closed:
        raise ValueError(f"modal {opener.modal['custom_id']!r} was already submitted or cancelled")
    return opener.modal


def _entry(component: dict[str, Any], value: Value | None) -> Value:
    """What the input holds when submitted, checked as Discord's client checks it."""
    name, kind = component["custom_id"], component["type"]
    if kind == STRING_SELECT:
        if value is None:
            value = [option["value"] for option in component["options"] if option.get("default")]
        if not value and component.get("required", True) is False:
            return []
        check_choice(component, value)
        return list(value)
    if kind != TEXT_INPUT:
        raise ValueError(
            f"input {name!r} is of type {kind}: the emulator fills text inputs and string selects"
        )
    if value is None:
        value = component.get("value") or ""
    if not isinstance(value, str):
        raise TypeError(f"text input {name!r} takes a str, not {value!r}")
    if not value:
        if component.get("required", True):
            raise ValueError(f"text input {name!r} is required")
        return value
    low, high = component.get("min_length") or 0, component.get("max_length") or 4000
    if not low <= len(value) <= high:
        raise ValueError(f"text input {name!r} takes {low} to {high} characters, not {len(value)}")
    return value


def _submitted(components: list[dict[str, Any]], entered: Mapping[str, Value]) -> list[dict[str, Any]]:
    """The modal's layout as MODAL_SUBMIT carries it: rows and labels around each input's `value` (or
    a select's `values`), text displays by id; ids numbered as Discord numbers components the bot
    left without one."""
    numbered = copy.deepcopy(components)
    for n, (_, component) in enumerate(walk(numbered), start=1):
        component.setdefault("id", n)
    return [_part(component, entered) for component in numbered]


def _part(component: dict[str, Any], entered: Mapping[str, Value]) -> dict[str, Any]:
    kind = component["type"]
    part: dict[str, Any] = {"type": kind, "id": component["id"]}
    if kind == ACTION_ROW:
        part["components"] = [_part(inner, entered) for inner in component["components"]]
    elif kind == LABEL:
        part["component"] = _part(component["component"], entered)
    elif kind == TEXT_INPUT:
        part.update(custom_id=component["custom_id"], value=entered[component["custom_id"]])
    elif kind != TEXT_DISPLAY:
        part.update(custom_id=component["custom_id"], values=entered[component["custom_id"]])
    return part


def _message(state: State, message_id: int | None) -> dict[str, Any] | None:
    """The message whose component opened the modal, as Discord includes it (if it still exists)."""
    if message_id is None:
        return None
    try:
        return state.messages.get(message_id, ephemeral=True).api()
    except DiscordError:
        return None
