"""Checking requests against Discord's published OpenAPI spec: the operation must exist, its path and
query parameters must be declared and valid, and its body must match the operation's schema."""

import copy
import functools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from emulator.bodies import Body
from emulator.paths import TemplateIndex
from emulator.responses import field_error

SPEC_PATH = Path(__file__).parent / "discord-api-spec" / "openapi.json"
_BASE_URI = "urn:discord-api-spec"
_ERROR_CODES = {
    "required": "BASE_TYPE_REQUIRED",
    "maxLength": "BASE_TYPE_MAX_LENGTH",
    "minLength": "BASE_TYPE_MIN_LENGTH",
    "maxItems": "BASE_TYPE_MAX_LENGTH",
    "minItems": "BASE_TYPE_MIN_LENGTH",
    "enum": "BASE_TYPE_CHOICES",
}
_BOOLEANS = {"true": True, "false": False, "1": True, "0": False}


@dataclass(frozen=True)
class SpecViolation:
    """A request Discord would refuse as an invalid form body."""

    method: str
    path: str
    message: str
    errors: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __str__(self) -> str:
        return f"{self.method} {self.path}: {self.message}"


class ApiSpec:
    def __init__(self, path: Path = SPEC_PATH) -> None:
        self._document = _load(path)
        self._registry = Registry().with_resource(_BASE_URI, DRAFT202012.create_resource(self._document))
        self._paths = TemplateIndex(self._document["paths"])
        self._validators: dict[str, Draft202012Validator] = {}

    def check(self, method: str, path: str, query: Mapping[str, str], body: Body) -> SpecViolation | None:
        """The first way this request breaks the spec, or None when it conforms."""
        found = self._paths.match(path)
        if found is None:
            return SpecViolation(method, path, "no such path in Discord's API")
        template, path_params = found
        item = self._document["paths"][template]
        if method.lower() not in item:
            return SpecViolation(method, path, f"{template} has no {method} operation")
        problem = self._check_parameters(template, method.lower(), path_params, query) or self._check_body(
            template, method.lower(), body
        )
        return SpecViolation(method, path, problem[0], problem[1]) if problem else None

    def _check_parameters(
        self, template: str, method: str, path_params: Mapping[str, str], query: Mapping[str, str]
    ) -> tuple[str, dict[str, Any]] | None:
        base = f"/paths/{_escape(template)}"
        declared: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}
        for pointer in (f"{base}/parameters", f"{base}/{method}/parameters"):
            for n, parameter in enumerate(self._pointer(pointer) or []):
                declared[parameter["name"], parameter["in"]] = (f"{pointer}/{n}/schema", parameter)
        for name in query:
            if (name, "query") not in declared:
                return f"unknown query parameter {name!r}", field_error(
                    (name,), "UNKNOWN_FIELD", "Unknown field"
                )
        for (name, where), (pointer, parameter) in declared.items():
            values = path_params if where == "path" else query if where == "query" else None
            if values is None:
                continue
            if name not in values:
                if parameter.get("required"):
                    return f"missing {where} parameter {name!r}", field_error(
                        (name,), "BASE_TYPE_REQUIRED", ""
                    )
                continue
            error = best_match(self._validator(pointer).iter_errors(self._coerce(values[name], pointer)))
            if error is not None:
                return f"{where} parameter {name}: {error.message}", _error_tree(error, (name,))
        return None

    def _check_body(self, template: str, method: str, body: Body) -> tuple[str, dict[str, Any]] | None:
        request_body = self._document["paths"][template][method].get("requestBody")
        if body.empty:
            if request_body and request_body.get("required"):
                return "a request body is required", field_error((), "BASE_TYPE_REQUIRED", "Body required")
            return None
        if request_body is None:
            return "this operation takes no request body", field_error(
                (), "UNKNOWN_FIELD", "No body expected"
            )
        if body.content_type not in request_body["content"]:
            accepted = ", ".join(request_body["content"])
            message = f"Content-Type {body.content_type!r} is not accepted here (use one of: {accepted})"
            return message, field_error((), "CONTENT_TYPE_INVALID", message)
        pointer = (
            f"/paths/{_escape(template)}/{method}/requestBody/content/{_escape(body.content_type)}/schema"
        )
        error = _deepest(self._validator(pointer).iter_errors(body.json))
        if error is None:
            return None
        where = ".".join(str(key) for key in error.absolute_path) or "body"
        return f"{where}: {_shorten(error.message)}", _error_tree(error, ())

    def _coerce(self, value: str, pointer: str) -> Any:
        """Query and path values are strings on the wire; read them as the schema's type."""
        schema = self._pointer(pointer)
        if "$ref" in schema:
            schema = self._registry.resolver(_BASE_URI).lookup(schema["$ref"]).contents
        types = schema.get("type", [])
        if "integer" in types and re.fullmatch(r"-?\d+", value):
            return int(value)
        if "boolean" in types:
            return _BOOLEANS.get(value.lower(), value)
        return value

    def _validator(self, pointer: str) -> Draft202012Validator:
        validator = self._validators.get(pointer)
        if validator is None:
            schema = {"$ref": f"{_BASE_URI}#{quote(pointer, safe='/~')}"}
            validator = self._validators[pointer] = Draft202012Validator(schema, registry=self._registry)
        return validator

    def _pointer(self, pointer: str) -> Any:
        node: Any = self._document
        for part in pointer.strip("/").split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            node = node[int(part)] if isinstance(node, list) else node.get(part)
            if node is None:
                return None
        return node


@functools.cache
def _load(path: Path) -> dict[str, Any]:
    document = json.loads(path.read_text())
    # Discord documents snowflakes as strings but accepts them as JSON integers too, and discord.py
    # sends integers (attachment ids, allowed_mentions users): accept both, as Discord does.
    schemas = document["components"]["schemas"]
    snowflake = copy.deepcopy(schemas["SnowflakeType"])
    schemas["SnowflakeType"] = {"anyOf": [snowflake, {"type": "integer", "minimum": 0}]}
    return document


def _escape(segment: str) -> str:
    return segment.replace("~", "~0").replace("/", "~1")


def _shorten(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _deepest(errors: Iterable[ValidationError]) -> ValidationError | None:
    """The most telling error: in a union (`anyOf`, `oneOf`), the branch whose `type` tag fits, and
    among those the one that got furthest into the document."""
    # best_match alone descends into unions by its own relevance, and may stop at a wrong `type` tag.
    error = max(errors, key=_depth, default=None)
    while error is not None and error.context:
        error = max(_plausible(error), key=_depth)
    return error


def _depth(error: ValidationError) -> int:
    return max([len(error.absolute_path), *(_depth(branch) for branch in error.context)])


def _plausible(union: ValidationError) -> list[ValidationError]:
    """The union's errors but those of branches whose own `type` tag does not match (all, if none
    match): components and callbacks are unions told apart by `type`."""
    tag = [*union.absolute_path, "type"]
    wrong = {
        branch.relative_schema_path[0]
        for branch in union.context
        if branch.validator in ("enum", "const") and list(branch.absolute_path) == tag
    }
    kept = [branch for branch in union.context if branch.relative_schema_path[0] not in wrong]
    return kept or list(union.context)


def _error_tree(error: ValidationError, prefix: tuple[str, ...]) -> dict[str, Any]:
    code = _ERROR_CODES.get(str(error.validator), "BASE_TYPE_INVALID")
    return field_error((*prefix, *error.absolute_path), code, _shorten(error.message))
