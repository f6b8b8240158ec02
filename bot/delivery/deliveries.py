"""Where each job's messages go: the record the event consumer needs to reach the member.

A delivery is written before the job is queued and outlives any bot process, so a restarted bot
still edits the waiting message and posts the result.
"""

import time

from pydantic import BaseModel, ConfigDict
from redis import Redis

from jobs import keys
from jobs.specs import LoraUse, Safety

INTERACTION_TOKEN_LIFETIME = 15 * 60
"""Seconds an interaction token works; after that only the bot's own channel messages do."""
_TOKEN_MARGIN = 30


class Delivery(BaseModel):
    """One job's audience: the channel, the requester and the interaction that asked for it."""

    model_config = ConfigDict(frozen=True)

    job_id: str
    title: str
    """The line in bold: the prompt as the member typed it, or the source's for a follow-up."""
    label: str = ""
    """What a follow-up made, e.g. "Image #2" or "Variations (Subtle) by"."""
    requester_id: int
    channel_id: int
    guild_id: int | None
    """The channel's server; None for a DM."""
    home_guild_id: int | None = None
    """The server whose rules apply: the channel's, or for a click in a DM the job's origin's."""
    application_id: int
    interaction_token: str
    interaction_at: float
    attachment_size_limit: int
    position: int | None = None
    """The queue position the waiting message shows."""
    message_id: int | None = None
    """The waiting message, once Discord has created it."""
    followup: bool = False
    """The waiting message is a follow-up message of the interaction (a later job of a `--repeat` or
    `{…}` prompt), not its `@original`."""
    parent_url: str | None = None
    """The message a follow-up was clicked on, linked from the result."""
    direct: bool = False
    """The result goes to the requester's DMs, and the waiting message is ephemeral."""
    safety: Safety = Safety.OFF
    """What the job does with images the NSFW check flags."""
    loras: tuple[LoraUse, ...] = ()
    """The LoRAs the job applies, which its result names."""

    def token_usable(self) -> bool:
        """Whether the interaction webhook still works (with a margin for slow requests)."""
        return time.time() - self.interaction_at < INTERACTION_TOKEN_LIFETIME - _TOKEN_MARGIN


class DeliveryBook:
    """Deliveries, result markers and each member's unfinished jobs, in Redis."""

    def __init__(self, redis: Redis, ttl: int) -> None:
        self._redis = redis
        self._ttl = ttl

    def save(self, delivery: Delivery) -> None:
        pipe = self._redis.pipeline()
        pipe.set(keys.delivery_key(delivery.job_id), delivery.model_dump_json(), ex=self._ttl)
        pipe.zadd(keys.unfinished_key(delivery.requester_id), {delivery.job_id: delivery.interaction_at})
        pipe.expire(keys.unfinished_key(delivery.requester_id), self._ttl)
        pipe.execute()

    def get(self, job_id: str) -> Delivery | None:
        raw = self._redis.get(keys.delivery_key(job_id))
        return None if raw is None else Delivery.model_validate_json(raw)

    def result_message(self, job_id: str) -> int | None:
        """The message that carries the job's result or failure, once posted."""
        raw = self._redis.get(keys.posted_key(job_id))
        return None if raw is None else int(raw)

    def finish(self, delivery: Delivery, message_id: int) -> None:
        """Records the posted result, so a redelivered event never posts it again."""
        pipe = self._redis.pipeline()
        pipe.set(keys.posted_key(delivery.job_id), message_id, ex=self._ttl)
        pipe.zrem(keys.unfinished_key(delivery.requester_id), delivery.job_id)
        pipe.execute()

    def unfinished(self, member_id: int) -> list[str]:
        """The member's jobs without a posted result, oldest first."""
        return [_text(job) for job in self._redis.zrange(keys.unfinished_key(member_id), 0, -1)]


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
