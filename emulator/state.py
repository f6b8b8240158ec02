"""Everything the REST handlers share: the world, messages, commands, interactions and the gateway."""

from dataclasses import dataclass

from emulator.commands import CommandRegistry
from emulator.gateway import Gateway
from emulator.interactions import InteractionBook
from emulator.messages import MessageStore, StoredMessage
from emulator.snowflakes import Snowflakes
from emulator.world import World

GUILD_MESSAGES_INTENT = 1 << 9
DIRECT_MESSAGES_INTENT = 1 << 12


@dataclass
class State:
    token: str
    application_id: int
    interaction_timeout: float
    snowflakes: Snowflakes
    world: World
    messages: MessageStore
    commands: CommandRegistry
    interactions: InteractionBook
    gateway: Gateway

    def announce(self, event: str, message: StoredMessage) -> None:
        """MESSAGE_CREATE or MESSAGE_UPDATE for a message everyone (in a DM: its two ends) sees."""
        if message.ephemeral:
            return
        data = message.api()
        if message.channel_id in self.world.dms:
            self.gateway.publish(event, data, intent=DIRECT_MESSAGES_INTENT)
            return
        data["guild_id"] = str(self.world.guild_id)
        if event == "MESSAGE_CREATE":
            member = self.world.member_payload(message.author_id)
            del member["user"]
            data["member"] = member
        self.gateway.publish(event, data, intent=GUILD_MESSAGES_INTENT)

    def announce_delete(self, message: StoredMessage) -> None:
        if message.ephemeral:
            return
        data = {"id": str(message.id), "channel_id": str(message.channel_id)}
        if message.channel_id in self.world.dms:
            self.gateway.publish("MESSAGE_DELETE", data, intent=DIRECT_MESSAGES_INTENT)
            return
        data["guild_id"] = str(self.world.guild_id)
        self.gateway.publish("MESSAGE_DELETE", data, intent=GUILD_MESSAGES_INTENT)
