"""REST endpoints about the bot itself: login, application info, gateway discovery, command sync, its
DMs, and reading the guild and its channels."""

from aiohttp import web

from emulator.responses import DiscordError, field_error, invalid_form, json_response
from emulator.routing import Call, Endpoint
from emulator.state import State


async def get_me(state: State, call: Call) -> web.Response:
    user = state.world.user_payload(state.world.bot_user_id)
    return json_response({**user, "verified": True, "mfa_enabled": False, "email": None, "locale": "en-US"})


async def get_application(state: State, call: Call) -> web.Response:
    return json_response(
        {
            "id": str(state.application_id),
            "name": state.world.bot_name,
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "flags": 0,
            "hook": True,
            "is_monetized": False,
            "owner": state.world.user_payload(state.world.owner_id),
            "team": None,
            "bot": state.world.user_payload(state.world.bot_user_id),
            "tags": [],
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "role_connections_verification_url": None,
            "approximate_guild_count": 1,
            "integration_types_config": {"0": {}},
        }
    )


async def get_gateway(state: State, call: Call) -> web.Response:
    return json_response({"url": state.gateway.url})


async def get_gateway_bot(state: State, call: Call) -> web.Response:
    limit = {"total": 1000, "remaining": 999, "reset_after": 14_400_000, "max_concurrency": 1}
    return json_response({"url": state.gateway.url, "shards": 1, "session_start_limit": limit})


def _application(state: State, call: Call) -> None:
    if call.snowflake("application_id") != state.application_id:
        raise DiscordError(403, 50001, "Missing Access")


def _guild(state: State, call: Call) -> int:
    guild_id = call.snowflake("guild_id")
    if guild_id != state.world.guild_id:
        raise DiscordError(404, 10004, "Unknown Guild")
    return guild_id


async def get_global_commands(state: State, call: Call) -> web.Response:
    _application(state, call)
    return json_response(state.commands.list(None))


async def put_global_commands(state: State, call: Call) -> web.Response:
    _application(state, call)
    return json_response(state.commands.overwrite(None, call.body.json or []))


async def get_guild_commands(state: State, call: Call) -> web.Response:
    _application(state, call)
    return json_response(state.commands.list(_guild(state, call)))


async def put_guild_commands(state: State, call: Call) -> web.Response:
    _application(state, call)
    return json_response(state.commands.overwrite(_guild(state, call), call.body.json or []))


async def get_channel(state: State, call: Call) -> web.Response:
    return json_response(state.world.channel_payload(call.snowflake("channel_id")))


async def create_dm(state: State, call: Call) -> web.Response:
    """The bot's DM with a user: the same channel each time. It opens even when the user takes no DMs;
    sending to it then fails (50007)."""
    recipient = call.body.payload().get("recipient_id")
    if recipient is None:
        raise invalid_form(field_error(("recipient_id",), "BASE_TYPE_REQUIRED", "This field is required"))
    channel = state.world.open_dm(int(recipient))
    return json_response(state.world.channel_payload(channel.id))


async def get_guild(state: State, call: Call) -> web.Response:
    _guild(state, call)
    return json_response(state.world.guild_payload())


ENDPOINTS = [
    Endpoint("GET", "/users/@me", get_me),
    Endpoint("POST", "/users/@me/channels", create_dm),
    Endpoint("GET", "/oauth2/applications/@me", get_application),
    Endpoint("GET", "/gateway", get_gateway, bot_token=False),
    Endpoint("GET", "/gateway/bot", get_gateway_bot),
    Endpoint("GET", "/applications/{application_id}/commands", get_global_commands),
    Endpoint("PUT", "/applications/{application_id}/commands", put_global_commands),
    Endpoint("GET", "/applications/{application_id}/guilds/{guild_id}/commands", get_guild_commands),
    Endpoint("PUT", "/applications/{application_id}/guilds/{guild_id}/commands", put_guild_commands),
    Endpoint("GET", "/channels/{channel_id}", get_channel),
    Endpoint("GET", "/guilds/{guild_id}", get_guild),
]
