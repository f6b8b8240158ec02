"""Discord's rules for components that its OpenAPI spec cannot express: a select menu fills its action
row, custom_ids are unique, min/max counts agree with each other, a modal has at most five rows.

The spec check runs first (lengths, types, 1-25 options); these run on what it let through, and
refuse the way Discord does: 400, code 50035, with the offending field's path."""

from collections.abc import Iterator
from typing import Any

from emulator.responses import field_error, invalid_form

ACTION_ROW, BUTTON, STRING_SELECT, TEXT_INPUT, TEXT_DISPLAY, LABEL = 1, 2, 3, 4, 10, 18
SELECTS = {STRING_SELECT, 5, 6, 7, 8}  # string, user, role, mentionable, channel
MAX_MODAL_COMPONENTS = 5
Path = tuple[str | int, ...]


def walk(components: list[dict[str, Any]], path: Path = ()) -> Iterator[tuple[Path, dict[str, Any]]]:
    """Every component with its path: inside action rows, sections (accessories), containers and
    labels, depth first, in the order Discord's client shows them."""
    for n, component in enumerate(components):
        here = (*path, n)
        yield here, component
        yield from walk(component.get("components") or [], (*here, "components"))
        for key in ("accessory", "component"):
            if isinstance(component.get(key), dict):
                yield (*here, key), component[key]
                yield from walk(component[key].get("components") or [], (*here, key, "components"))


def check_message_components(components: list[dict[str, Any]]) -> None:
    """Raises Invalid Form Body (50035) for what Discord refuses in a message's components."""
    _check_unique_ids(components, ("components",))
    for path, component in walk(components, ("components",)):
        if component.get("type") == ACTION_ROW:
            inner = component.get("components") or []
            if len(inner) > 1 and any(c.get("type") in SELECTS for c in inner):
                _refuse(
                    (*path, "components"),
                    "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                    "a select menu must be alone in its action row",
                )
        if component.get("type") in SELECTS:
            _check_select(path, component)


def check_modal(data: dict[str, Any]) -> None:
    """Raises Invalid Form Body (50035) for what Discord refuses in a modal (callback type 9's data)."""
    top = data.get("components") or []
    if len(top) > MAX_MODAL_COMPONENTS:
        message = f"Must be {MAX_MODAL_COMPONENTS} or fewer in length."
        _refuse(("data", "components"), "BASE_TYPE_MAX_LENGTH", message)
    _check_unique_ids(top, ("data", "components"))
    for n, component in enumerate(top):
        path = ("data", "components", n)
        if component.get("type") == ACTION_ROW:
            inner = component.get("components") or []
            if len(inner) != 1:
                _refuse(
                    (*path, "components"), "BASE_TYPE_BAD_LENGTH", "a modal's action row holds one text input"
                )
            if not inner[0].get("label"):
                _refuse(
                    (*path, "components", 0, "label"),
                    "BASE_TYPE_REQUIRED",
                    "a text input in a row needs a label",
                )
    for path, component in walk(top, ("data", "components")):
        if component.get("type") == TEXT_INPUT:
            _check_text_input(path, component)
        elif component.get("type") in SELECTS:
            _check_select(path, component)


def fields(components: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """A modal's inputs by custom_id: its text inputs and selects, wherever they sit."""
    return {
        component["custom_id"]: component
        for _, component in walk(components)
        if component.get("type") in (TEXT_INPUT, *SELECTS)
    }


def _check_select(path: Path, select: dict[str, Any]) -> None:
    low, high = select.get("min_values"), select.get("max_values")
    low, high = 1 if low is None else low, 1 if high is None else high
    if low > high:
        _refuse((*path, "min_values"), "BASE_TYPE_BAD_INT", f"min_values {low} is over max_values {high}")
    options = select.get("options")
    if select.get("type") != STRING_SELECT or options is None:
        return
    if high > len(options):
        message = f"max_values {high} is over the number of options ({len(options)})"
        _refuse((*path, "max_values"), "BASE_TYPE_BAD_INT", message)
    values = [option.get("value") for option in options]
    if len(set(values)) != len(values):
        _refuse(
            (*path, "options"), "SELECT_COMPONENT_OPTION_VALUE_DUPLICATED", "option values must be unique"
        )
    defaults = sum(1 for option in options if option.get("default"))
    if defaults > high:
        message = f"{defaults} options are default, more than max_values {high}"
        _refuse((*path, "options"), "SELECT_COMPONENT_TOO_MANY_DEFAULT_VALUES", message)


def _check_text_input(path: Path, text_input: dict[str, Any]) -> None:
    low, high = text_input.get("min_length"), text_input.get("max_length")
    if low is not None and high is not None and low > high:
        _refuse((*path, "min_length"), "BASE_TYPE_BAD_INT", f"min_length {low} is over max_length {high}")
    value = text_input.get("value") or ""
    if high is not None and len(value) > high:
        message = f"the prefilled value has {len(value)} characters, over max_length {high}"
        _refuse((*path, "value"), "BASE_TYPE_BAD_LENGTH", message)


def _check_unique_ids(components: list[dict[str, Any]], path: Path) -> None:
    seen: set[str] = set()
    for where, component in walk(components, path):
        custom_id = component.get("custom_id")
        if custom_id is None:
            continue
        if custom_id in seen:
            message = f"custom_id {custom_id!r} is used twice: custom_ids must be unique"
            _refuse((*where, "custom_id"), "COMPONENT_CUSTOM_ID_DUPLICATED", message)
        seen.add(custom_id)


def _refuse(path: Path, code: str, message: str) -> None:
    where = ".".join(str(key) for key in path)
    raise invalid_form(field_error(path, code, message), f"{where}: {message}")
