"""A server's LoRAs, in process: which ones it offers, how many a job may use, and how admins
find them (Discord's autocomplete, which the emulator does not send)."""

import asyncio
import time

import pytest
from PIL import Image
from redis import Redis

from bot.commands.admin import AdminCommands
from bot.delivery.deliveries import Delivery, DeliveryBook
from bot.delivery.presenter import Presenter
from bot.rules import summary
from bot.rules.guild import GuildConfig, Limits, Loras
from bot.rules.member import MemberPreferences
from bot.rules.policy import Asker, Policy, Refusal, Terms
from bot.rules.quotas import Quotas
from bot.rules.store import ConfigStore
from broker.artifacts import ArtifactStore
from jobs.events import Done
from jobs.prompt import parse_prompt
from jobs.resolve import imagine_specs
from jobs.specs import JobSpec, LoraUse
from models.catalog import Catalog, LoraEntry, load_catalog
from tests.helpers import catalog_defaulting_to


def _lora(name: str, description: str = "") -> LoraEntry:
    source = {"kind": "file", "path": f"/srv/loras/{name}.safetensors"}  # never loaded by the bot
    return LoraEntry(name=name, families=("sd15",), source=source, weight=0.6, description=description)


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    models = load_catalog(catalog_defaulting_to("tiny", tmp_path_factory.mktemp("catalog")))
    loras = (_lora("ink", "Ink wash, loose brush strokes " * 5), _lora("paper"), _lora("grain", "Film grain"))
    return Catalog.model_validate({**dict(models), "loras": loras})


@pytest.fixture
def policy(redis: Redis, catalog: Catalog) -> Policy:
    return Policy(ConfigStore(redis), Quotas(redis, DeliveryBook(redis, 60)), catalog)


def _terms(**parts: object) -> Terms:
    asker = Asker(member_id=5, guild_id=1, role_ids=frozenset(), channel_ids=(2,), age_restricted=False)
    config = GuildConfig.model_validate(parts)
    return Terms(asker=asker, guild_id=1, config=config, preferences=MemberPreferences())


def _spec(catalog: Catalog, prompt: str) -> JobSpec:
    [spec] = imagine_specs(parse_prompt(prompt), catalog, seed=1)
    return spec


def test_a_job_uses_the_loras_offered_up_to_the_servers_limit(policy: Policy, catalog: Catalog) -> None:
    two = _spec(catalog, "a heron <lora:ink> --lora paper:1")
    assert policy.shape(_terms(), two).generation.loras == two.generation.loras
    withdrawn = _terms(loras=Loras(offered=frozenset({"paper", "grain"})))
    with pytest.raises(
        Refusal, match=r"The LoRA `ink` isn't offered on this server\. Use one of: `paper`, `grain`"
    ):
        policy.shape(withdrawn, two)
    with pytest.raises(Refusal, match="It offers none"):
        policy.shape(_terms(loras=Loras(offered=frozenset())), two)
    with pytest.raises(Refusal, match="uses 2 LoRAs, and this server allows 1 a job"):
        policy.shape(_terms(limits=Limits(loras=1)), two)
    with pytest.raises(Refusal, match="LoRAs are off on this server: leave out `ink`"):
        policy.shape(_terms(limits=Limits(loras=0)), two)
    assert policy.shape(_terms(limits=Limits(loras=0)), _spec(catalog, "a heron")).generation.loras == ()
    assert policy.offered_loras(withdrawn.config) == ["paper", "grain"]


def test_autocomplete_offers_the_catalogs_loras_with_their_descriptions(
    redis: Redis, policy: Policy, catalog: Catalog
) -> None:
    admin = AdminCommands(ConfigStore(redis), policy, catalog)
    choices = asyncio.run(admin._lora_names(None, ""))
    assert [choice.value for choice in choices] == ["ink", "paper", "grain"]
    assert choices[0].name.startswith("ink · Ink wash") and len(choices[0].name) == 100
    assert [choice.name for choice in choices[1:]] == ["paper", "grain · Film grain"]
    assert [choice.value for choice in asyncio.run(admin._lora_names(None, "FILM"))] == ["grain"]


def test_admin_show_lists_the_loras_offered_and_the_limit_a_job() -> None:
    config = GuildConfig(limits=Limits(loras=2))
    text = summary.guild(config, ["tiny"], "tiny", ["ink", "paper"], 3)
    assert "**LoRAs offered:** `ink`, `paper` · at most 2 a job" in text
    assert "**LoRAs offered:** none · off (the limit is 0 a job)" in summary.guild(
        GuildConfig(limits=Limits(loras=0)), ["tiny"], "tiny", [], 3
    )
    assert "**LoRAs offered:** none in the catalog" in summary.guild(GuildConfig(), ["tiny"], "tiny", [], 0)


def test_a_grids_result_names_the_loras_its_job_used(redis: Redis) -> None:
    job_id = "0123456789abcdef0123456789abcdef"
    artifacts = ArtifactStore(redis, 60)
    grid = artifacts.put_image(job_id, "grid", Image.new("RGB", (64, 64)))
    delivery = Delivery(
        job_id=job_id,
        title="a heron",
        requester_id=42,
        channel_id=7,
        guild_id=1,
        application_id=9,
        interaction_token="token",
        interaction_at=time.time(),
        attachment_size_limit=8 << 20,
        loras=(LoraUse(name="ink", weight=0.6), LoraUse(name="paper", weight=1)),
    )
    presenter = Presenter(None, DeliveryBook(redis, 60), artifacts, interval=0)  # the result is not posted
    done = Done(job_id=job_id, images=(grid,) * 4, grid=grid, seeds=(1, 2, 3, 4), seconds=1)
    message = asyncio.run(presenter._result(delivery, done))
    assert message["content"] == "**a heron** - <@42>\n-# LoRA `ink` 0.6 · `paper` 1"
