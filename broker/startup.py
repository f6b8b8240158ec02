"""Checks every process makes before anything slow starts, each mistake told in one line.

An operator who sets `IMAGINE_DTYPE=fp17` reads `IMAGINE_DTYPE=fp17 is not allowed: use auto,
fp16, bf16 or fp32`, not pydantic's trace; the same for a missing catalog and a Redis that does not
answer. Passwords in Redis URLs and secret settings' values are never written out.
"""

import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, SecretStr, ValidationError
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, SettingsError
from redis.exceptions import AuthenticationError, RedisError, ResponseError

from broker.local_redis import probe
from models.catalog import Catalog, CatalogError, load_catalog

PREFIX = "IMAGINE_"

S = TypeVar("S", bound=BaseSettings)


class StartupError(Exception):
    """Mistakes in how a process is configured, one line each; `status` is the exit status."""

    status = 2

    def __init__(self, *lines: str) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


class RedisUnreachableError(StartupError):
    status = 1


@contextmanager
def reported() -> Iterator[None]:
    """Turns a StartupError into its lines on stderr and the process's exit."""
    try:
        yield
    except StartupError as error:
        for line in error.lines:
            print(line, file=sys.stderr)
        raise SystemExit(error.status) from None


def settings(cls: type[S], **values: object) -> S:
    """`cls(**values)`, or a StartupError with one line per bad variable."""
    try:
        return cls(**values)
    except ValidationError as error:
        raise StartupError(*describe(error, cls)) from None
    except SettingsError as error:  # a complex value that is not JSON; the message names the field
        field = re.search(r'field "(\w+)"', str(error))
        name = _variable(field.group(1)) if field else PREFIX + "*"
        raise StartupError(f"{name}={_given(cls, name, None)} is not allowed: it is not valid JSON") from None


def catalog(path: Path | None) -> Catalog:
    """The catalog at `path` (the embedded one when None), or a StartupError naming IMAGINE_CATALOG."""
    try:
        return load_catalog(path)
    except FileNotFoundError:
        raise StartupError(f"{PREFIX}CATALOG={path}: no such file") from None
    except OSError as error:
        raise StartupError(f"{PREFIX}CATALOG={path}: cannot read it ({error.strerror})") from None
    except CatalogError as error:
        # The message starts with the file's path already.
        raise StartupError(f"{PREFIX}CATALOG={error}" if path else str(error)) from None


def redis_answers(url: str, timeout: float = 2.0) -> None:
    """A StartupError unless the Redis at `url` answers a PING with the URL's credentials."""
    try:
        client = probe(url, timeout)
    except ValueError as error:  # not a redis:// URL
        raise StartupError(f"{PREFIX}REDIS_URL={mask_url(url)} is not allowed: {error}") from None
    try:
        client.ping()
    except (AuthenticationError, ResponseError) as error:
        raise RedisUnreachableError(
            f"{PREFIX}REDIS_URL={mask_url(url)}: Redis refused the password or user ({_reason(error)})"
        ) from None
    except (RedisError, OSError) as error:
        raise RedisUnreachableError(
            f"{PREFIX}REDIS_URL={mask_url(url)}: cannot connect ({_reason(error)})"
        ) from None
    finally:
        client.close()


def console_script(name: str) -> Path:
    """Where the console script `name` (`imagine-worker`, `imagine-bot`) is installed: beside this
    Python. Our processes start from these, so the directory they start in cannot shadow our
    packages as it can with `python -m`."""
    return Path(sys.executable).parent / name


def mask_url(url: str) -> str:
    """`url` with its password (if any) as `***`."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return url
    if not password:
        return url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def _reason(error: Exception) -> str:
    # redis-py says "Error 111 connecting to 127.0.0.1:1. Connection refused."
    text = str(error).strip()
    found = re.match(r"Error -?\d+ connecting to \S+?\. (.+?)\.?$", text)
    return found.group(1) if found else text.rstrip(".")


def describe(error: ValidationError, cls: type[BaseModel]) -> list[str]:
    """One line per variable the errors are about, in the order pydantic found them."""
    reasons: dict[str, list[str]] = {}
    for detail in error.errors():
        field = str(detail["loc"][0]) if detail["loc"] else ""
        reasons.setdefault(field, [])
        reason = _why(detail)
        if reason not in reasons[field]:
            reasons[field].append(reason)
    return [_line(cls, field, "; ".join(why), error) for field, why in reasons.items()]


def _line(cls: type[BaseModel], field: str, why: str, error: ValidationError) -> str:
    if not field:
        return f"{cls.__name__}: {why}"
    name = _variable(field)
    info = cls.model_fields.get(field)
    detail = next(d for d in error.errors() if d["loc"] and d["loc"][0] == field)
    if detail["type"] == "missing":
        described = f" ({info.description})" if info and info.description else ""
        return f"{name} is not set: it is required{described}"
    given = _given(cls, name, detail["input"] if len(detail["loc"]) == 1 else None)
    if given == "":
        described = f" ({info.description})" if info and info.description else ""
        return f"{name} is empty: set it{described}"
    return f"{name}={given} is not allowed: {why}"


def _variable(field: str) -> str:
    return PREFIX + field.upper()


def _given(cls: type[BaseModel], name: str, value: object) -> str:
    """What was set: the environment's text (case-insensitive, as pydantic-settings reads it), else
    `value`; a secret's value shown as ***, a URL's password masked."""
    for key, text in os.environ.items():
        if key.upper() == name:
            value = text
    field = cls.model_fields.get(name.removeprefix(PREFIX).lower())
    if field is not None and field.annotation is SecretStr and value not in ("", None):
        return "***"
    if isinstance(value, SecretStr):
        return "***"
    text = "" if value is None else str(value)
    return mask_url(text) if "://" in text else text


def _why(detail: ErrorDetails) -> str:
    """pydantic's constraint in words: what to use instead."""
    allowed = _allowed(detail)
    if len(detail["loc"]) > 1 and isinstance(detail["loc"][1], int):
        return f"each item must be {allowed.removeprefix('use ')} (`{detail['input']}` is not)"
    return allowed


def _allowed(detail: ErrorDetails) -> str:
    kind, ctx = detail["type"], detail.get("ctx", {})
    match kind:
        case "int_parsing" | "int_type" | "int_from_float":
            return "use a whole number"
        case "float_parsing" | "float_type":
            return "use a number"
        case "bool_parsing" | "bool_type":
            return "use true or false"
        case "greater_than_equal":
            return f"use a number of at least {ctx['ge']}"
        case "greater_than":
            return f"use a number above {ctx['gt']}"
        case "less_than_equal":
            return f"use a number of at most {ctx['le']}"
        case "less_than":
            return f"use a number below {ctx['lt']}"
        case "literal_error" | "enum":
            return f"use {str(ctx['expected']).replace(chr(39), '')}"
        case "string_pattern_mismatch":
            return _pattern(str(ctx["pattern"]))
        case "string_too_short" | "too_short":
            return f"use at least {ctx['min_length']} characters"
        case "string_too_long" | "too_long":
            return f"use at most {ctx['max_length']} characters"
        case "value_error" if "error" in ctx:
            return str(ctx["error"])  # our own validators' words, without "Value error, "
    return detail["msg"][0].lower() + detail["msg"][1:]


def _pattern(pattern: str) -> str:
    # "^(auto|fp16|bf16)$" reads as a list of words; any other pattern is shown as it is.
    choices = re.fullmatch(r"\^\(?([\w.-]+(?:\|[\w.-]+)+)\)?\$", pattern)
    if not choices:
        return f"use text that matches {pattern}"
    words = choices.group(1).split("|")
    return f"use {', '.join(words[:-1])} or {words[-1]}"
