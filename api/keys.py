"""API keys: made once and shown once, kept as a SHA-256 of their secret, each with its own limits.

A key reads `imk_<id>_<secret>`: the id finds the record (`imagine:api:key:<id>`), the secret (256
random bits) is checked against its hash in constant time."""

import hashlib
import hmac
import secrets
import time

from pydantic import BaseModel, ConfigDict, Field
from redis import Redis

from jobs import keys

PREFIX = "imk"


class KeyLimits(BaseModel):
    """What one key may ask of the GPUs; the model's and the catalog's own limits still apply."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    running: int = Field(default=2, ge=1, le=100, description="jobs running at once")
    waiting: int = Field(default=10, ge=1, le=1000, description="jobs queued, not yet started")
    hourly: int = Field(default=100, ge=1, le=100_000, description="jobs started in any hour")
    max_side: int | None = Field(default=None, ge=64, description="largest image side in pixels")
    max_steps: int | None = Field(default=None, ge=1, description="most sampling steps")
    models: tuple[str, ...] = Field(default=(), description="the models it may use (none listed: all)")


class ApiKey(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    digest: str = Field(description="SHA-256 of the secret, hex")
    limits: KeyLimits
    created: float
    revoked: float | None = None
    webhook_secret: str | None = Field(
        default=None, description="signs its jobs' webhooks (kept as it is: the API signs with it)"
    )

    @property
    def requester(self) -> str:
        """Who its jobs are requested by, in the fair queue (Discord members are their user ids)."""
        return f"key:{self.id}"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class KeyStore:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    def create(self, name: str, limits: KeyLimits) -> tuple[ApiKey, str]:
        """A new key and its text, which is shown this once and never stored."""
        key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32).replace("_", "-")
        key = ApiKey(
            id=key_id,
            name=name,
            digest=_digest(secret),
            limits=limits,
            created=time.time(),
            webhook_secret=f"whsec_{secrets.token_urlsafe(24)}",
        )
        self._redis.set(keys.api_key_key(key_id), key.model_dump_json())
        self._redis.sadd(keys.API_KEYS, key_id)
        return key, f"{PREFIX}_{key_id}_{secret}"

    def all(self) -> list[ApiKey]:
        """Every key, revoked ones too, oldest first."""
        ids = sorted(member.decode() for member in self._redis.smembers(keys.API_KEYS))
        found = [self.get(key_id) for key_id in ids]
        return sorted((key for key in found if key is not None), key=lambda key: key.created)

    def get(self, key_id: str) -> ApiKey | None:
        raw = self._redis.get(keys.api_key_key(key_id))
        return None if raw is None else ApiKey.model_validate_json(raw)

    def revoke(self, key_id: str) -> ApiKey | None:
        """Revokes the key (it is kept, marked, for the record); None when there is no such key."""
        key = self.get(key_id)
        if key is None:
            return None
        if key.revoked is None:
            key = key.model_copy(update={"revoked": time.time()})
            self._redis.set(keys.api_key_key(key_id), key.model_dump_json())
        return key

    def authenticate(self, text: str) -> ApiKey | None:
        """The live key `text` is, or None (malformed, unknown, wrong secret, revoked)."""
        prefix, _, rest = text.partition("_")
        key_id, _, secret = rest.partition("_")
        if prefix != PREFIX or not key_id.isalnum() or not secret:
            return None
        key = self.get(key_id)
        if key is None or key.revoked is not None:
            return None
        return key if hmac.compare_digest(key.digest, _digest(secret)) else None
