"""Every Redis key and stream name imagine uses, so every process agrees on them.

RQ's own keys (`rq:job:…`, its registries and rate limits) are RQ's; all of ours start with `PREFIX`.
"""

from typing import Final

PREFIX: Final = "imagine"
EVENTS_STREAM: Final = f"{PREFIX}:events"
EVENTS_GROUP: Final = f"{PREFIX}-bot"
"""The bot's consumer group on `EVENTS_STREAM`."""


def queue_name(model: str) -> str:
    """The RQ queue that the workers serving `model` listen on."""
    return f"{PREFIX}.{model}"


def artifact_key(job_id: str, name: str) -> str:
    """Where a job's stored image `name` lives ("image-1".."image-4", "grid"), or an image a member
    gave ("upload-1".., under the id the bot stored them with)."""
    return f"{PREFIX}:artifact:{job_id}:{name}"


def spec_key(job_id: str) -> str:
    """Where the resolved spec of a submitted job is kept, so follow-ups can reuse its prompt."""
    return f"{PREFIX}:spec:{job_id}"


def done_key(job_id: str) -> str:
    """Marker set together with a job's `done` event, so a retried job never announces twice."""
    return f"{PREFIX}:done:{job_id}"


def member_limit_key(requester: str) -> str:
    """The RQ rate-limit key that counts one requester's running jobs."""
    return f"{PREFIX}:member:{requester}"


def delivery_key(job_id: str) -> str:
    """Where the bot keeps a job's delivery: its channel, requester and interaction."""
    return f"{PREFIX}:delivery:{job_id}"


def posted_key(job_id: str) -> str:
    """The id of the message that carries a job's result or failure, once posted."""
    return f"{PREFIX}:posted:{job_id}"


def unfinished_key(member_id: int) -> str:
    """A member's jobs without a posted result (a sorted set, by when they were asked for)."""
    return f"{PREFIX}:unfinished:{member_id}"


def hourly_key(guild_id: int, member_id: int) -> str:
    """The jobs a member started in a server within the hour (a sorted set, by start time)."""
    return f"{PREFIX}:hourly:{guild_id}:{member_id}"


def click_key(member_id: int, custom_id: str) -> str:
    """Set for a few seconds by a member's click on a button, so a repeated click starts nothing."""
    return f"{PREFIX}:click:{member_id}:{custom_id}"


def guild_config_key(guild_id: int) -> str:
    """A server's configuration, as its admins set it."""
    return f"{PREFIX}:guild:{guild_id}:config"


def guild_audit_key(guild_id: int) -> str:
    """The log of a server's configuration changes."""
    return f"{PREFIX}:guild:{guild_id}:audit"


def preferences_key(member_id: int) -> str:
    """A member's `/prefer` choices."""
    return f"{PREFIX}:preferences:{member_id}"


API_KEYS: Final = f"{PREFIX}:api:keys"
"""The set of every API key's id."""


def api_key_key(key_id: str) -> str:
    """An API key's record: its name, the hash of its secret, its limits."""
    return f"{PREFIX}:api:key:{key_id}"


def api_job_key(job_id: str) -> str:
    """Which API key submitted a job, and where in the event stream to read its events from."""
    return f"{PREFIX}:api:job:{job_id}"


def api_open_key(key_id: str) -> str:
    """The jobs of an API key that may not have started yet, for its waiting limit."""
    return f"{PREFIX}:api:key:{key_id}:open"


def api_hourly_key(key_id: str) -> str:
    """The jobs an API key started in the last hour."""
    return f"{PREFIX}:api:key:{key_id}:hourly"


def api_idempotency_key(key_id: str, idempotency_key: str) -> str:
    """The job a request with that `Idempotency-Key` made (the client's text, hashed)."""
    return f"{PREFIX}:api:key:{key_id}:idempotency:{idempotency_key}"


def api_webhook_key(job_id: str) -> str:
    """A job's webhook: its URL, and how its delivery stands."""
    return f"{PREFIX}:api:webhook:{job_id}"


API_WEBHOOKS_DUE: Final = f"{PREFIX}:api:webhooks:due"
"""Jobs whose webhook is to be delivered, scored by when (a claimed one: when its lease ends)."""


def turbo_key(guild_id: int, member_id: int) -> str:
    """The `--turbo` jobs a member started in a server within the hour (a sorted set, by start time)."""
    return f"{PREFIX}:turbo:{guild_id}:{member_id}"
