"""The bot's and the worker's settings are composed alike and read comma lists through one validator."""

import os

import pytest
from pydantic import BeforeValidator, ValidationError
from pydantic_settings import NoDecode

from bot.settings import BotSettings
from broker import startup
from broker.settings import BrokerSettings, _split_commas
from models.settings import CatalogSettings
from worker.settings import WorkerSettings
from worker.speedups import Speedup

TOKEN = "a-token"

COMMA_LISTS = [
    (BotSettings, "dev_guild_ids"),
    (BotSettings, "cdn_origins"),
    (WorkerSettings, "models"),
    (WorkerSettings, "speedups"),
    (WorkerSettings, "warm_up_sizes"),
]


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.upper().startswith("IMAGINE_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("IMAGINE_DISCORD_TOKEN", TOKEN)


def _comma_fields(cls: type) -> set[str]:
    return {name for name, field in cls.model_fields.items() if NoDecode in field.metadata}


def test_the_bot_and_the_worker_are_composed_alike():
    assert BotSettings.__bases__ == WorkerSettings.__bases__
    for cls in (BotSettings, WorkerSettings):
        assert issubclass(cls, BrokerSettings)
        assert issubclass(cls, CatalogSettings)


def test_the_worker_reads_the_broker_settings_itself(monkeypatch):
    monkeypatch.setenv("IMAGINE_REDIS_URL", "redis://redis:6379/1")
    monkeypatch.setenv("IMAGINE_ARTIFACT_TTL", "60")
    settings = WorkerSettings()
    assert (settings.redis_url, settings.artifact_ttl) == ("redis://redis:6379/1", 60)


def test_every_comma_list_uses_the_one_validator():
    assert {(cls, name) for cls in (BotSettings, WorkerSettings) for name in _comma_fields(cls)} == set(
        COMMA_LISTS
    )
    for cls, name in COMMA_LISTS:
        validators = [m for m in cls.model_fields[name].metadata if isinstance(m, BeforeValidator)]
        assert [v.func for v in validators] == [_split_commas], name


@pytest.mark.parametrize(
    ("cls", "field", "text", "expected"),
    [
        (BotSettings, "dev_guild_ids", "1,2", [1, 2]),
        (BotSettings, "dev_guild_ids", " 1 , ,2, ", [1, 2]),
        (WorkerSettings, "models", "a, b", ["a", "b"]),
        (WorkerSettings, "models", " , tiny ,, shapes ", ["tiny", "shapes"]),
        (WorkerSettings, "speedups", "compile ,, fused_qkv ", [Speedup.COMPILE, Speedup.FUSED_QKV]),
        (WorkerSettings, "warm_up_sizes", " 768x512 , ,512X768,", [(768, 512), (512, 768)]),
    ]
    + [(cls, field, text, []) for cls, field in COMMA_LISTS for text in ("", " ", ",", " , ,")],
)
def test_a_comma_list_is_split_stripped_and_its_empty_items_dropped(cls, field, text, expected, monkeypatch):
    monkeypatch.setenv(f"IMAGINE_{field.upper()}", text)
    assert getattr(cls(), field) == expected
    assert getattr(cls(**{field: text}), field) == expected  # the same from a keyword
    assert getattr(cls(**{field: expected}), field) == expected  # a list is taken as it is


@pytest.mark.parametrize(
    ("cls", "field", "text", "line"),
    [
        (BotSettings, "dev_guild_ids", "1, x", "each item must be a whole number (`x` is not)"),
        (WorkerSettings, "speedups", "compile,warp", "each item must be channels_last, fused_qkv or compile"),
        (WorkerSettings, "warm_up_sizes", "768x512, 512", "each item must be a size written WIDTHxHEIGHT"),
    ],
)
def test_a_wrong_item_is_named_by_pydantic_and_in_one_line(cls, field, text, line, monkeypatch):
    name = f"IMAGINE_{field.upper()}"
    monkeypatch.setenv(name, text)
    with pytest.raises(ValidationError) as raised:
        cls()
    assert [error["loc"] for error in raised.value.errors()] == [(field, 1)]
    with pytest.raises(startup.StartupError) as told:
        startup.settings(cls)
    assert told.value.lines == (told.value.lines[0],)
    assert told.value.lines[0].startswith(f"{name}={text} is not allowed: {line}"), told.value.lines
