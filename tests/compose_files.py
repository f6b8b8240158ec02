"""Reading what docker compose would read, without Docker: the compose file, the Dockerfiles,
.env.example, and the `IMAGINE_*` settings the processes take (found by introspecting every
pydantic-settings class in the project's packages)."""

import importlib
import re
import shlex
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import AliasChoices
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings

ROOT = Path(__file__).resolve().parent.parent

_SETTINGS_CLASS = re.compile(r"^class \w+\((?:[\w.]+, )*[\w.]*Settings[,)]", re.MULTILINE)


@dataclass(frozen=True)
class Setting:
    env: str
    owner: type[BaseSettings]
    name: str

    @property
    def field(self) -> FieldInfo:
        return self.owner.model_fields[self.name]

    def parse(self, text: str) -> Any:
        """`text` as the settings class reads it from the environment (validators included)."""
        instance = self.owner.model_construct()
        self.owner.__pydantic_validator__.validate_assignment(instance, self.name, text)
        return getattr(instance, self.name)


def project_packages() -> list[Path]:
    return sorted(
        path for path in ROOT.iterdir() if (path / "__init__.py").is_file() and path.name != "tests"
    )


@cache
def settings() -> dict[str, Setting]:
    """Every environment variable a settings class of the project reads, by name."""
    packages = project_packages()
    for package in packages:
        for path in package.rglob("*.py"):
            if _SETTINGS_CLASS.search(path.read_text()):
                importlib.import_module(".".join(path.relative_to(ROOT).with_suffix("").parts))
    names = {package.name for package in packages}
    found: dict[str, Setting] = {}
    pending = list(BaseSettings.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.split(".")[0] not in names:
            continue
        prefix = cls.model_config.get("env_prefix", "")
        for name, field in cls.model_fields.items():
            for env in _env_names(prefix, name, field):
                found.setdefault(env, Setting(env, cls, name))
    return found


def _env_names(prefix: str, name: str, field: FieldInfo) -> list[str]:
    alias = field.validation_alias
    if isinstance(alias, str):
        return [alias.upper()]
    if isinstance(alias, AliasChoices):
        return [choice.upper() for choice in alias.choices if isinstance(choice, str)]
    return [f"{prefix}{name}".upper()]


@cache
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def compose_text() -> str:
    return (ROOT / "docker-compose.yml").read_text()


def services() -> dict[str, dict[str, Any]]:
    return compose()["services"]


def workers() -> dict[str, dict[str, Any]]:
    return {name: service for name, service in services().items() if re.fullmatch(r"worker(-gpu\d+)?", name)}


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def split_volume(spec: str) -> tuple[str, str, str]:
    """`source:target[:mode]`, where the source may be a `${VAR:-default}` interpolation."""
    source = ""
    if spec.startswith("${"):
        end = spec.index("}") + 1
        source, spec = spec[:end], spec[end:].lstrip(":")
    parts = spec.split(":")
    if not source:
        source = parts.pop(0)
    return source, parts[0], parts[1] if len(parts) > 1 else "rw"


def is_named(source: str) -> bool:
    return not source.startswith((".", "/", "$", "~"))


def seconds(duration: str) -> float:
    """A compose duration (`16m`, `1m30s`, `90s`) in seconds."""
    units = {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|us|h|m|s)", duration)
    assert "".join(number + unit for number, unit in parts) == duration, duration
    return sum(float(number) * units[unit] for number, unit in parts)


@dataclass(frozen=True)
class Dockerfile:
    instructions: list[tuple[str, str]]

    @classmethod
    def read(cls, path: Path) -> "Dockerfile":
        text = re.sub(r"\\\n", " ", path.read_text())
        instructions = []
        for line in text.splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                keyword, _, rest = line.partition(" ")
                instructions.append((keyword.upper(), rest.strip()))
        return cls(instructions)

    def all(self, keyword: str) -> list[str]:
        return [rest for key, rest in self.instructions if key == keyword]

    def env(self) -> dict[str, str]:
        return dict(pair.split("=", 1) for rest in self.all("ENV") for pair in shlex.split(rest))

    def args(self) -> dict[str, str]:
        return {name: default for name, _, default in (rest.partition("=") for rest in self.all("ARG"))}

    def installed_extras(self) -> list[set[str]]:
        """The extras of this project that each `pip install` of it names, in order."""
        return [
            set(match.split(","))
            for rest in self.all("RUN")
            for match in re.findall(r"pip install [^;&]*?[\w./]*\[([\w,-]+)\]", rest)
        ]


def dockerfile(service: dict[str, Any]) -> Dockerfile:
    build = service["build"]
    return Dockerfile.read(ROOT / build.get("context", ".") / build["dockerfile"])


def env_example() -> str:
    return (ROOT / ".env.example").read_text()


def env_example_lines() -> dict[str, tuple[bool, str, str]]:
    """Each `NAME=value` line of .env.example: whether it is set (not commented out), its value,
    and the comment lines just above it."""
    lines = env_example().splitlines()
    found: dict[str, tuple[bool, str, str]] = {}
    for index, line in enumerate(lines):
        match = re.fullmatch(r"(# )?([A-Z][A-Z0-9_]*)=(.*)", line)
        if not match:
            continue
        above = []
        for previous in reversed(lines[:index]):
            if not previous.startswith("# ") or re.fullmatch(r"# [A-Z][A-Z0-9_]*=.*", previous):
                break
            above.append(previous)
        assert match[2] not in found, f"{match[2]} is listed twice in .env.example"
        found[match[2]] = (match[1] is None, match[3], "\n".join(reversed(above)))
    return found
