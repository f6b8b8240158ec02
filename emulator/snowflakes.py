"""Discord snowflakes: ids that encode their creation time, so discord.py's `created_at` is right."""

import datetime
import time

DISCORD_EPOCH_MS = 1420070400000


class Snowflakes:
    """Hands out unique, increasing snowflakes stamped with the current time."""

    def __init__(self) -> None:
        self._last = 0

    def next(self) -> int:
        stamped = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
        self._last = max(stamped, self._last + 1)
        return self._last


def iso_time(seconds: float) -> str:
    """A timestamp as Discord writes it: `2025-01-02T03:04:05.678000+00:00`."""
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).isoformat(timespec="microseconds")
