"""A Discord API emulator on loopback: REST (v10) and gateway for the real discord.py, checked
against Discord's OpenAPI spec, with a member's actions and injectable faults."""

from emulator.background import BackgroundEmulator
from emulator.interactions import Interaction
from emulator.server import DiscordEmulator
from emulator.spec import SpecViolation
from emulator.uploads import Upload

__all__ = ["BackgroundEmulator", "DiscordEmulator", "Interaction", "SpecViolation", "Upload"]
