"""Discord's rules the emulator applies: mentions, route matching, snowflake times."""

import time

import discord
import pytest

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
