"""Discord's rules the emulator applies: mentions, route matching, snowflake times."""

import time

import discord
import pytest

from emulator.access import check_command
from emulator.interactions import Interaction, interaction_payload, resolved
from emulator.mentions import parse_mentions
from emulator.paths import TemplateIndex
from emulator.snowflakes import Snowflakes
from emulator.world import ADMINISTRATOR, World

ADA, GRACE, ROLE = 11, 12, 21
CONTENT = f"@everyone <@{ADA}> <@!{GRACE}> <@&{ROLE}> <@99>"


@pytest.mark.parametrize(
    ("allowed", "users", "roles", "everyone"),
    [
        (None, [ADA, GRACE], [ROLE], True),
        ({"parse": []}, [], [], False),
        ({"parse": ["users"]}, [ADA, GRACE], [], False),
        ({"parse": [], "users": [str(ADA)]}, [ADA], [], False),
        ({"parse": ["everyone"], "roles": [ROLE]}, [], [ROLE], True),
    ],
)
def test_allowed_mentions_choose_who_is_pinged(
    allowed: dict | None, users: list[int], roles: list[int], everyone: bool
):
    found = parse_mentions(CONTENT, allowed, users={ADA, GRACE}, roles={ROLE})
    assert (found.users, found.roles, found.everyone) == (users, roles, everyone)


def test_here_counts_as_everyone_and_parse_users_excludes_a_user_list():
    assert parse_mentions("hey @here", None, users=set(), roles=set()).everyone
    with pytest.raises(ValueError, match="mutually exclusive"):
        parse_mentions("", {"parse": ["users"], "users": [ADA]}, users=set(), roles=set())


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("/users/@me", "/users/@me"),
        ("/users/5", "/users/{user_id}"),
        ("/webhooks/1/tok/messages/@original", "/webhooks/{webhook_id}/{webhook_token}/messages/@original"),
        ("/webhooks/1/tok/messages/7", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"),
    ],
)
def test_a_literal_segment_wins_over_a_parameter(path: str, template: str):
    index = TemplateIndex(
        [
            "/users/{user_id}",
            "/users/@me",
            "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
            "/webhooks/{webhook_id}/{webhook_token}/messages/@original",
        ]
    )
    found = index.match(path)
    assert found is not None and found[0] == template


def test_snowflakes_increase_and_carry_their_creation_time_for_discord_py():
    snowflakes = Snowflakes()
    first, second = snowflakes.next(), snowflakes.next()
    assert second > first
    assert abs(discord.utils.snowflake_time(second).timestamp() - time.time()) < 1


def test_member_permissions_come_from_roles_unless_overridden():
    world = World(Snowflakes())
    member = world.add_member("ada")
    admin = world.add_member("grace", roles=[world.add_role("admins", ADMINISTRATOR)])
    fixed = world.add_member("linus", permissions=1 << 11)
    assert not discord.Permissions(world.permissions(member)).manage_guild
    assert discord.Permissions(world.permissions(member)).send_messages
    assert discord.Permissions(world.permissions(admin)).manage_guild
    assert world.permissions(fixed) == 1 << 11
    assert discord.Permissions(world.permissions(world.owner_id)).administrator


@pytest.mark.parametrize(
    ("command", "who", "offered"),
    [
        ({"default_member_permissions": None}, "member", True),
        ({"default_member_permissions": "32"}, "member", False),
        ({"default_member_permissions": "32"}, "manager", True),
        ({"default_member_permissions": "48"}, "manager", False),  # all the bits, not any of them
        ({"default_member_permissions": "0"}, "manager", False),  # "0": administrators only
        ({"default_member_permissions": "0"}, "admin", True),
        ({"default_member_permissions": "0"}, "owner", True),
        ({"contexts": [1]}, "owner", False),
        ({"nsfw": True}, "owner", False),  # #general is not age-restricted
    ],
)
def test_a_command_is_offered_by_discords_rules(command: dict, who: str, offered: bool):
    world = World(Snowflakes())
    users = {
        "member": world.add_member("ada"),
        "manager": world.add_member("grace", roles=[world.add_role("managers", 1 << 5)]),
        "admin": world.add_member("linus", permissions=ADMINISTRATOR),
        "owner": world.owner_id,
    }
    channel = world.channel(world.channel_id("general"))
    try:
        check_command(world, {"name": "x", **command}, user_id=users[who], channel=channel)
    except PermissionError:
        assert not offered
    else:
        assert offered


def test_in_a_dm_only_global_commands_allowed_there_are_offered_whatever_the_permissions():
    world = World(Snowflakes())
    ada = world.add_member("ada")
    dm = world.open_dm(ada)
    assert world.open_dm(ada) is dm and world.dm_channel_id(ada) == dm.id
    check_command(world, {"name": "x", "default_member_permissions": "0"}, user_id=ada, channel=dm)
    for command in ({"guild_id": "1"}, {"contexts": [0]}, {"dm_permission": False}, {"nsfw": True}):
        with pytest.raises(PermissionError):
            check_command(world, {"name": "x", **command}, user_id=ada, channel=dm)


def test_an_interaction_in_the_bots_dm_has_a_user_and_no_guild():
    world = World(Snowflakes())
    ada = world.add_member("ada")
    dm = world.open_dm(ada)
    interaction = Interaction(1, "token", "component", ada, dm.id, time.time())
    payload = interaction_payload(world, interaction, application_id=5, type=3, data={})
    assert not {"guild", "guild_id", "member", "guild_locale"} & payload.keys()
    assert payload["user"]["id"] == str(ada)
    assert payload["channel"] == {
        "id": str(dm.id),
        "type": 1,
        "last_message_id": None,
        "flags": 0,
        "recipients": [world.user_payload(ada)],
    }
    assert (payload["context"], payload["authorizing_integration_owners"]) == (1, {"0": "0"})
    guild = Interaction(2, "token", "command", ada, world.channel_id("general"), time.time())
    payload = interaction_payload(world, guild, application_id=5, type=2, data={})
    assert (payload["context"], payload["authorizing_integration_owners"]) == (0, {"0": str(world.guild_id)})
    assert payload["member"]["permissions"] == str(world.permissions(ada))


def test_an_age_restricted_channel_says_so_in_the_guild_a_channel_option_and_the_api():
    world = World(Snowflakes())
    lounge = world.add_channel("lounge", nsfw=True)
    assert [channel["nsfw"] for channel in world.guild_create(1)["channels"]] == [False, False, True]
    option = {"name": "where", "type": 7, "value": str(lounge)}
    assert resolved(world, [option], world.owner_id)["channels"][str(lounge)]["nsfw"] is True
    assert world.channel_payload(lounge)["nsfw"] is True
