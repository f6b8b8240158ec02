"""The REST API at the wire: Discord's error codes, headers and spec checks, without discord.py."""

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from emulator import DiscordEmulator
from tests.emulator.harness import emulated, png

Check = Callable[[DiscordEmulator, aiohttp.ClientSession], Awaitable[None]]
COMMANDS = [
    {"name": "echo", "description": "Says it", "options": [{"type": 3, "name": "text", "description": "t"}]}
]


def run(check: Check, **options: object) -> None:
    async def main() -> None:
        async with emulated(**options) as emulator, aiohttp.ClientSession() as session:
            await check(emulator, session)

    asyncio.run(main())


def bot(emulator: DiscordEmulator) -> dict[str, str]:
    return {"Authorization": f"Bot {emulator.token}"}


async def answer(response: aiohttp.ClientResponse) -> tuple[int, Any]:
    async with response:
        return response.status, await response.json() if response.content_type == "application/json" else None


async def register(emulator: DiscordEmulator, session: aiohttp.ClientSession) -> None:
    url = f"{emulator.api_base}/applications/{emulator.application_id}/guilds/{emulator.guild_id}/commands"
    status, _ = await answer(await session.put(url, json=COMMANDS, headers=bot(emulator)))
    assert status == 200


def test_a_body_that_breaks_the_spec_is_an_invalid_form_body():
    async def check(emulator: DiscordEmulator, session: aiohttp.ClientSession) -> None:
        url = f"{emulator.api_base}/channels/{emulator.channel_id('general')}/messages"
        status, body = await answer(await session.post(url, json={"content": 5}, headers=bot(emulator)))
        assert (status, body["code"], body["message"]) == (400, 50035, "Invalid Form Body")
        assert body["errors"]["content"]["_errors"][0]["code"] == "BASE_TYPE_INVALID"
        status, _ = await answer(
            await session.post(url + "?wait=1", json={"content": "x"}, headers=bot(emulator))
        )
        assert status == 400
        text = {**bot(emulator), "Content-Type": "text/plain"}
        status, _ = await answer(await session.post(url, data=json.dumps({"content": "x"}), headers=text))
        assert status == 400
        messages = [violation.message for violation in emulator.violations]
        assert messages[0] == "content: 5 is not of type 'string', 'null'"
        assert messages[1] == "unknown query parameter 'wait'"
        assert messages[2].startswith("Content-Type 'text/plain' is not accepted")
        assert emulator.messages(emulator.channel_id("general")) == []

    run(check)


def test_json_answers_say_exactly_application_json_and_come_through_google():
    async def check(emulator: DiscordEmulator, session: aiohttp.ClientSession) -> None:
        async with session.get(f"{emulator.api_base}/users/@me", headers=bot(emulator)) as response:
            assert response.headers["Content-Type"] == "application/json"
            assert response.headers["Via"] == "1.1 google"
            assert (await response.json())["id"] == str(emulator.bot_user_id)

    run(check)


def test_bot_endpoints_need_the_bot_token():
    async def check(emulator: DiscordEmulator, session: aiohttp.ClientSession) -> None:
        status, body = await answer(await session.get(f"{emulator.api_base}/users/@me"))
        assert (status, body["message"]) == (401, "401: Unauthorized")
        wrong = {"Authorization": "Bot nope"}
        status, _ = await answer(await session.get(f"{emulator.api_base}/users/@me", headers=wrong))
        assert status == 401

    run(check)


def test_unknown_messages_and_channels_have_their_codes():
    async def check(emulator: DiscordEmulator, session: aiohttp.ClientSession) -> None:
        general = emulator.channel_id("general")
        status, body = await answer(
            await session.get(f"{emulator.api_base}/channels/{general}/messages/123", headers=bot(emulator))
        )
        assert (status, body["code"]) == (404, 10008)
        status, body = await answer(
            await session.get(f"{emulator.api_base}/channels/999", headers=bot(emulator))
        )
        assert (status, body["code"]) == (404, 10003)

    run(check)


def test_a_rate_limit_is_shaped_like_discords():
    async def check(emulator: DiscordEmulator, session: aiohttp.ClientSession) -> None:
        emulator.fail_next("GET", "/users/@me", 429, retry_after=1.5, is_global=True)
        async with session.get(f"{emulator.api_base}/users/@me", headers=bot(emulator)) as response:
            assert response.status == 429
            assert response.headers["Via"] == "1.1 google"
            assert response.headers["Retry-After"] == "2"
            assert response.headers["X-RateLimit-Global"] == "true"
            body = await response.json()
        assert (body["message"], body["retry_after"], body["global"]) == (
            "You are being rate limited.",
            1.5,
            True,
        )
        status, _ = await answer(await session.get(f"{emulator.api_base}/users/@me", headers=bot(emulator)))
        assert status == 200

    run(check)


def test_a_callback_after_the_window_or_a_second_one_is_refused():
    async def check(emulator: DiscordEmulator, session: aiohttp.ClientSession) -> None:
        await register(emulator, session)
        member = emulator.add_member("ada")
        late = await emulator.slash("echo", {"text": "hi"}, user_id=member)
        await asyncio.sleep(0.2)
        on_time = await emulator.slash("echo", {"text": "hi"}, user_id=member)
        reply = {"type": 4, "data": {"content": "hi"}}
        status, body = await answer(await session.post(_callback(emulator, late), json=reply))
        assert (status, body["code"]) == (404, 10062)
        status, body = await answer(
            await session.post(_callback(emulator, on_time) + "?with_response=true", json=reply)
        )
        assert (status, body["interaction"]["response_message_id"]) == (200, str(on_time.original_message_id))
        status, body = await answer(await session.post(_callback(emulator, on_time), json=reply))
        assert (status, body["code"]) == (400, 40060)
        assert late.acknowledged_at is None and on_time.response_type == 4

    run(check, interaction_timeout=0.1)


def test_a_file_over_the_interactions_size_limit_is_too_large():
    async def check(emulator: DiscordEmulator, session: aiohttp.ClientSession) -> None:
        await register(emulator, session)
        interaction = await emulator.slash(
            "echo", user_id=emulator.add_member("ada"), attachment_size_limit=100
        )
        form = aiohttp.FormData(quote_fields=False)
        form.add_field(
            "payload_json", json.dumps({"type": 4, "data": {"attachments": [{"id": 0, "filename": "a.png"}]}})
        )
        form.add_field("files[0]", png(64, 64), filename="a.png", content_type="application/octet-stream")
        status, body = await answer(await session.post(_callback(emulator, interaction), data=form))
        assert (status, body["code"]) == (413, 40005)
        assert interaction.acknowledged_at is None

    run(check)


def test_an_expired_token_stops_the_webhook():
    async def check(emulator: DiscordEmulator, session: aiohttp.ClientSession) -> None:
        await register(emulator, session)
        interaction = await emulator.slash("echo", {"text": "hi"}, user_id=emulator.add_member("ada"))
        status, _ = await answer(await session.post(_callback(emulator, interaction), json={"type": 5}))
        assert status == 204
        original = (
            f"{emulator.api_base}/webhooks/{emulator.application_id}/{interaction.token}/messages/@original"
        )
        status, body = await answer(await session.get(original))
        assert (status, body["flags"] & 128) == (200, 128)  # still thinking
        emulator.expire_token(interaction.token)
        status, body = await answer(await session.patch(original, json={"content": "late"}))
        assert (status, body["code"], body["message"]) == (401, 50027, "Invalid Webhook Token")

    run(check)


def _callback(emulator: DiscordEmulator, interaction: Any) -> str:
    return f"{emulator.api_base}/interactions/{interaction.id}/{interaction.token}/callback"


def test_a_dm_channel_is_opened_once_and_a_closed_dm_refuses_messages_with_50007():
    async def check(emulator: DiscordEmulator, session: aiohttp.ClientSession) -> None:
        grace = emulator.add_member("grace", accepts_dms=False)
        url = f"{emulator.api_base}/users/@me/channels"
        status, channel = await answer(
            await session.post(url, json={"recipient_id": grace}, headers=bot(emulator))
        )
        assert (status, channel["type"], channel["recipients"][0]["id"]) == (200, 1, str(grace))
        _, again = await answer(
            await session.post(url, json={"recipient_id": str(grace)}, headers=bot(emulator))
        )
        assert again["id"] == channel["id"] == str(emulator.dm_channel_id(grace))
        status, body = await answer(await session.post(url, json={"recipient_id": 1}, headers=bot(emulator)))
        assert (status, body["code"]) == (404, 10013)
        messages = f"{emulator.api_base}/channels/{channel['id']}/messages"
        status, body = await answer(
            await session.post(messages, json={"content": "hi"}, headers=bot(emulator))
        )
        assert (status, body) == (403, {"message": "Cannot send messages to this user", "code": 50007})
        assert emulator.violations == []

    run(check)
