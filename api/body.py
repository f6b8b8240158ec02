"""The cap on request bodies: over it, 413 in OpenAI's error shape, before the body is read (by its
Content-Length) or as soon as a streamed one passes it."""

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import ApiError


class BodyCap:
    def __init__(self, app: ASGIApp, limit: int) -> None:
        self._app = app
        self._limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self._limit:
            await self._too_large().response()(scope, receive, send)
            return
        seen = 0

        async def counting() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self._limit:  # answered by the app's handler, in our shape
                    raise HTTPException(413, self._too_large().message)
            return message

        await self._app(scope, counting, send)

    def _too_large(self) -> ApiError:
        return ApiError(413, f"the request body is over {self._limit:,} bytes", code="body_too_large")
