"""The gateway at the wire: HELLO, IDENTIFY, heartbeats, RESUME and its failures, zlib-stream."""

import asyncio
import json
import zlib
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from emulator import DiscordEmulator
from tests.emulator.harness import emulated

Check = Callable[[DiscordEmulator, aiohttp.ClientSession], Awaitable[None]]


def run(check: Check) -> None:
    async def main() -> None:
        async with emulated() as emulator, aiohttp.ClientSession() as session:
            await check(emulator, session)

    asyncio.run(main())


async def receive(socket: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    return json.loads(await socket.receive_str(timeout=2))


def identify(emulator: DiscordEmulator, token: str | None = None) -> dict[str, Any]:
    return {"op": 2, "d": {"token": token or emulator.token, "intents": 513, "properties": {}}}


def test_identify_gets_ready_then_the_guild_and_heartbeats_are_acknowledged():
    async def check(emulator: DiscordEmulator, session: aiohttp.ClientSession) -> None:
        async with session.ws_connect(emulator.gateway_url + "?v=10&encoding=json") as socket:
            hello = await receive(socket)
            assert hello["op"] == 10 and hello["d"]["heartbeat_interval"] > 0
            await socket.send_json({"op": 1, "d": None})
            assert (await receive(socket))["op"] == 11
            await socket.send_json(identify(emulator))
            ready, guild = await receive(socket), await receive(socket)
        assert (ready["t"], ready["s"], guild["t"], guild["s"]) == ("READY", 1, "GUILD_CREATE", 2)
        assert ready["d"]["resume_gateway_url"] == emulator.gateway_url
        assert ready["d"]["application"]["id"] == str(emulator.application_id)
        assert [c["name"] for c in guild["d"]["channels"]] == ["general", "art"]
        assert emulator.identify_count == 1

    run(check)


def test_a_wrong_token_closes_the_connection_with_4004():
    async def check(emulator: DiscordEmulator, session: aiohttp.ClientSession) -> None:
        async with session.ws_connect(emulator.gateway_url) as socket:
            await receive(socket)
            await socket.send_json(identify(emulator, "wrong"))
            message = await socket.receive(timeout=2)
        assert (message.type, socket.close_code) == (aiohttp.WSMsgType.CLOSE, 4004)

    run(check)


def test_resume_replays_what_was_missed_and_an_unknown_session_is_invalid():
    async def check(emulator: DiscordEmulator, session: aiohttp.ClientSession) -> None:
        async with session.ws_connect(emulator.gateway_url) as socket:
            await receive(socket)
            await socket.send_json(identify(emulator))
            ready = await receive(socket)
            await socket.close(code=4000)  # not 1000, which would end the session
        session_id = ready["d"]["session_id"]
        async with session.ws_connect(emulator.gateway_url) as socket:
            await receive(socket)
            await socket.send_json(
                {"op": 6, "d": {"token": emulator.token, "session_id": session_id, "seq": 1}}
            )
            missed, resumed = await receive(socket), await receive(socket)
        assert (missed["t"], missed["s"], resumed["t"], resumed["s"]) == ("GUILD_CREATE", 2, "RESUMED", 3)
        assert emulator.resume_count == 1
        async with session.ws_connect(emulator.gateway_url) as socket:
            await receive(socket)
            await socket.send_json({"op": 6, "d": {"token": emulator.token, "session_id": "nope", "seq": 1}})
            assert await receive(socket) == {"op": 9, "d": False, "s": None, "t": None}

    run(check)


def test_zlib_stream_frames_decompress_with_one_shared_context():
    async def check(emulator: DiscordEmulator, session: aiohttp.ClientSession) -> None:
        inflate = zlib.decompressobj()
        async with session.ws_connect(emulator.gateway_url + "?compress=zlib-stream") as socket:
            hello = json.loads(inflate.decompress(await socket.receive_bytes(timeout=2)))
            await socket.send_json(identify(emulator))
            ready = json.loads(inflate.decompress(await socket.receive_bytes(timeout=2)))
        assert (hello["op"], ready["t"]) == (10, "READY")

    run(check)


def test_a_session_invalidated_for_good_or_closed_with_1000_cannot_resume():
    async def check(emulator: DiscordEmulator, session: aiohttp.ClientSession) -> None:
        async def session_ending_with(
            end: Callable[[aiohttp.ClientWebSocketResponse], Awaitable[object]],
        ) -> None:
            async with session.ws_connect(emulator.gateway_url) as socket:
                await receive(socket)
                await socket.send_json(identify(emulator))
                ready, _ = await receive(socket), await receive(socket)
                await end(socket)
            resume = {"token": emulator.token, "session_id": ready["d"]["session_id"], "seq": 2}
            async with session.ws_connect(emulator.gateway_url) as socket:
                await receive(socket)
                await socket.send_json({"op": 6, "d": resume})
                assert (await receive(socket))["op"] == 9

        async def invalidated(socket: aiohttp.ClientWebSocketResponse) -> None:
            await emulator.invalidate_session(resumable=False)
            assert await receive(socket) == {"op": 9, "d": False, "s": None, "t": None}

        await session_ending_with(invalidated)
        await session_ending_with(lambda socket: socket.close(code=1000))

    run(check)
