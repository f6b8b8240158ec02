"""Discord's permission bits the emulator hands out: what @everyone, the bot and a bot DM allow."""

ADMINISTRATOR = 1 << 3
ALL_PERMISSIONS = (1 << 51) - 1
# What @everyone may do in a new Discord server: talk, read, react, attach, use commands; not manage.
_MEMBER_BITS = (0, 6, 9, 10, 11, 14, 15, 16, 17, 18, 20, 21, 25, 26, 31, 32, 35, 36, 37, 38, 39, 42, 45, 46)
MEMBER_PERMISSIONS = sum(1 << bit for bit in (*_MEMBER_BITS, 49, 50))
# What a bot is typically invited with: see channels, send, embed, attach, read history, react.
BOT_PERMISSIONS = sum(1 << bit for bit in (6, 10, 11, 14, 15, 16, 18, 31, 38))
# What applies in a DM (`app_permissions` of a bot-DM interaction): the text permissions, nothing to manage.
DM_PERMISSIONS = sum(1 << bit for bit in (6, 10, 11, 14, 15, 16, 18, 31, 37, 38, 46, 49, 50))
