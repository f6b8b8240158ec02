"""`python -m api.openapi`: the API's OpenAPI document, as the running API serves it, on stdout.
The repository keeps a copy in `api/openapi.json`; a test fails when the two differ."""

import json

from redis import Redis

from api.app import create_app
from api.settings import ApiSettings
from broker import startup


def document() -> dict:
    """The document the app generates (no Redis is contacted to build it)."""
    settings = startup.settings(ApiSettings)
    return create_app(
        settings, startup.catalog(settings.catalog), Redis.from_url(settings.redis_url)
    ).openapi()


if __name__ == "__main__":
    print(json.dumps(document(), indent=2, ensure_ascii=False))
