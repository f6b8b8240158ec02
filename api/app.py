"""The ASGI application: its routes, its error shape, and the services they share."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from redis import Redis
from redis.asyncio import Redis as AsyncRedis

from api import errors
from api.body import BodyCap
from api.events import EventHub
from api.keys import KeyStore
from api.metrics import ApiMetrics, MetricsMiddleware
from api.routes import artifacts, jobs, openai_images
from api.services import Services
from api.settings import ApiSettings
from api.submissions import Submissions
from api.webhooks import WebhookSender
from broker.artifacts import ArtifactStore
from broker.events import EventLog
from broker.queues import JobSubmitter
from models.catalog import Catalog

TITLE = "imagine API"
VERSION = "1"


def create_app(
    settings: ApiSettings, catalog: Catalog, redis: Redis, registry: CollectorRegistry | None = None
) -> FastAPI:
    """The API on `redis`; its event reader runs while the app does."""
    events = EventLog.for_settings(redis, settings)
    hub = EventHub(AsyncRedis.from_url(settings.redis_url))

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        sender = WebhookSender(AsyncRedis.from_url(settings.redis_url), app.state.services)
        tasks = [
            asyncio.create_task(hub.run(), name="event reader"),
            asyncio.create_task(sender.run(), name="webhooks"),
        ]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    app = FastAPI(
        title=TITLE,
        version=VERSION,
        description="OpenAI-compatible image endpoints and native jobs with live events, on imagine's queue.",
        lifespan=lifespan,
    )
    app.state.services = Services(
        settings=settings,
        catalog=catalog,
        keys=KeyStore(redis),
        submissions=Submissions(
            redis,
            events,
            catalog,
            JobSubmitter(redis, settings, events),
            safety=settings.api_nsfw,
            ttl=settings.artifact_ttl,
        ),
        artifacts=ArtifactStore(redis, settings.artifact_ttl),
        hub=hub,
    )
    errors.install(app)
    for router in (openai_images.router, jobs.router, artifacts.router):
        app.include_router(router)
    app.add_middleware(BodyCap, limit=settings.api_max_body_bytes)
    app.add_middleware(MetricsMiddleware, metrics=ApiMetrics(registry or CollectorRegistry()))
    generated = app.openapi
    app.openapi = lambda: _as_answered(generated())  # type: ignore[method-assign]
    return app


def _as_answered(document: dict[str, Any]) -> dict[str, Any]:
    """The framework's document made true to what the API answers: a request it cannot validate is
    a 400 in OpenAI's shape (`api.errors`), never the framework's 422; and a form that carries files
    (edits, variations) is `multipart/form-data`, which the framework leaves as URL-encoded when the
    form is a model."""
    for path in document["paths"].values():
        for operation in path.values():
            operation["responses"].pop("422", None)
            content = operation.get("requestBody", {}).get("content", {})
            if "application/x-www-form-urlencoded" in content:
                content["multipart/form-data"] = content.pop("application/x-www-form-urlencoded")
    for unused in ("HTTPValidationError", "ValidationError"):
        document.get("components", {}).get("schemas", {}).pop(unused, None)
    return document
