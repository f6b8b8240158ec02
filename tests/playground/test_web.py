"""The playground's endpoints without a browser: a small real discord.py bot (not ours, which has no
modal yet) opens a modal and posts a select; the page's view shows the modal until the visitor
submits it, and what they choose reaches the bot."""

import asyncio
from typing import Any

import discord
import pytest
import yarl
from aiohttp.test_utils import TestClient, TestServer

from emulator import BackgroundEmulator
from playground.web import Playground
from tests.emulator.forms import FormBot
from tests.emulator.harness import running


def test_the_view_shows_the_modal_the_bot_opened_until_it_is_submitted_and_a_choice_is_answered(
    monkeypatch: pytest.MonkeyPatch,
):
    with BackgroundEmulator() as emulator:
        monkeypatch.setattr(discord.http.Route, "BASE", emulator.api_base)
        monkeypatch.setattr(
            discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(emulator.gateway_url)
        )
        asyncio.run(_scenario(emulator))
        assert emulator.violations == []


async def _scenario(emulator: BackgroundEmulator) -> None:
    bot = FormBot(emulator.emulator.guild_id)
    async with running(emulator.emulator, bot), TestClient(TestServer(Playground(emulator).app())) as page:
        assert await _post(page, "/api/command", channel=0, text="job") == {"ok": True}
        job = await _until(page, lambda view: view["messages"][-1])
        assert await _post(page, "/api/click", message=job["id"], custom_id="edit:7") == {"ok": True}
        modal = await _until(page, lambda view: view["modal"])
        assert (modal["title"], modal["components"][0]["components"][0]["value"]) == (
            "Edit the prompt",
            "a cat",
        )

        empty = await _post(page, "/api/submit", interaction=modal["interaction"], values={"prompt": ""})
        assert empty == {"error": "text input 'prompt' is required"}
        typed = {"prompt": "a dog", "seed": "42"}
        assert await _post(page, "/api/submit", interaction=modal["interaction"], values=typed) == {
            "ok": True
        }
        assert (await _until(page, lambda view: {"modal": view["modal"]}))["modal"] is None
        edited = await _until(
            page, lambda view: view["messages"][0]["content"] != "job 7" and view["messages"][0]
        )
        assert (edited["content"], edited["components"]) == ("prompt=a dog seed=42", [])

        assert await _post(page, "/api/command", channel=0, text="job") == {"ok": True}
        second = await _until(page, lambda view: len(view["messages"]) == 2 and view["messages"][1])
        picked = await _post(
            page, "/api/choose", message=second["id"], custom_id="region:7", values=["1", "5"]
        )
        assert picked == {"ok": True}
        answer = await _until(
            page, lambda view: len(view["messages"]) == 3 and view["messages"][2]["content"]
        )
        assert answer == "job 7: vary 1,5"
        refused = await _post(page, "/api/choose", message=second["id"], custom_id="region:7", values=["0"])
        assert "no option '0'" in refused["error"]


async def _until(page: TestClient, read: Any) -> Any:
    """What `read(view)` gives once it is truthy (an IndexError or KeyError counts as not yet)."""
    found: list[Any] = []

    async def ready() -> bool:
        async with page.get("/api/view") as response:
            view = await response.json()
        try:
            found[:] = [read(view)]
        except LookupError:
            return False
        return bool(found[0])

    for _ in range(300):
        if await ready():
            return found[0]
        await asyncio.sleep(0.01)
    raise TimeoutError(f"the view never showed {read}")


async def _post(page: TestClient, path: str, **body: object) -> dict[str, Any]:
    async with page.post(path, json=body) as response:
        return await response.json()
