"""Points the real discord.py at the emulator, and puts it back after each test."""

from collections.abc import Callable

import discord
import pytest
import yarl

from emulator import DiscordEmulator


@pytest.fixture
def point_discord_py(monkeypatch: pytest.MonkeyPatch) -> Callable[[DiscordEmulator], None]:
    def point(emulator: DiscordEmulator) -> None:
        monkeypatch.setattr(discord.http.Route, "BASE", emulator.api_base)
        monkeypatch.setattr(
            discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(emulator.gateway_url)
        )

    return point
