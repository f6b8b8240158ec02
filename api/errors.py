"""Every error the API answers, in OpenAI's shape: `{"error": {"message", "type", "param", "code"}}`."""

from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Match

from jobs.errors import MemberError


class ErrorBody(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody


class ApiError(Exception):
    """An answer other than success; `param` names the request field that is wrong."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.param, self.code = status, message, type, param, code
        self.headers = dict(headers or {})

    def response(self) -> JSONResponse:
        body = ErrorResponse(
            error=ErrorBody(message=self.message, type=self.type, param=self.param, code=self.code)
        )
        return JSONResponse(body.model_dump(), status_code=self.status, headers=self.headers)


def bad_request(error: MemberError, param: str | None = "prompt") -> ApiError:
    """A prompt or request our parser or resolver refused: its own sentence, which names the flag."""
    return ApiError(400, error.reply, param=param, code="invalid_value")


ERRORS = {
    code: {"model": ErrorResponse, "description": text}
    for code, text in {
        400: "the request is wrong; the message says what to change",
        401: "no API key, or one that is unknown or revoked",
        404: "no such job or image (or it has expired)",
        409: "the request conflicts with the job's state, or with an earlier request's Idempotency-Key",
        413: "the request body is over the size cap",
        429: "over one of the key's limits; Retry-After says when to try again",
    }.items()
}
"""The error answers every endpoint documents."""

_STATUS_TYPES = {401: "authentication_error", 404: "not_found_error", 413: "invalid_request_error"}


def install(app: FastAPI) -> None:
    """Answers validation errors, HTTP errors and ours in OpenAI's shape."""

    @app.exception_handler(ApiError)
    async def _ours(request: Request, error: ApiError) -> JSONResponse:
        return error.response()

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0]
        parts = () if first.get("type") == "json_invalid" else first.get("loc", ())  # not a field there
        where = [str(part) for part in parts if part not in ("body", "query", "path", "header")]
        if where and isinstance(error.body, dict) and where[0] == error.body.get("op"):
            where = where[1:]  # the tag of `POST /v1/jobs`'s union, not a field
        param = ".".join(where) or None
        message = first.get("msg", "invalid request")
        if param:
            message = f"`{param}`: {message}"
        return ApiError(400, message, param=param, code="invalid_value").response()

    @app.exception_handler(HTTPException)
    async def _http(request: Request, error: HTTPException) -> JSONResponse:
        kind = _STATUS_TYPES.get(
            error.status_code, "invalid_request_error" if error.status_code < 500 else "server_error"
        )
        headers = dict(error.headers or {})
        if error.status_code == 405:  # each method is its own route: name every one on this path
            headers["Allow"] = ", ".join(_methods(request))
        return ApiError(error.status_code, str(error.detail), type=kind, headers=headers).response()


def _methods(request: Request) -> list[str]:
    """The methods the routes matching the request's path take."""
    methods = set()
    for route in request.app.routes:
        if isinstance(route, BaseRoute) and route.matches(request.scope)[0] is not Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    return sorted(methods)


def json_errors(*codes: int) -> dict[int | str, dict]:
    """`ERRORS`' entries for `codes` with their JSON content spelt out, for a route whose own
    answer is of another type (which the framework would otherwise give them too)."""
    reference = {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}
    return {
        code: {"description": ERRORS[code]["description"], "content": {"application/json": reference}}
        for code in codes
    }
