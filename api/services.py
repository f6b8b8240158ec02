"""What the routes share, built once per process, and the API key every request must carry."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.errors import ApiError
from api.events import EventHub
from api.keys import ApiKey, KeyStore
from api.settings import ApiSettings
from api.submissions import Submissions
from broker.artifacts import ArtifactStore
from models.catalog import Catalog


@dataclass(frozen=True)
class Services:
    settings: ApiSettings
    catalog: Catalog
    keys: KeyStore
    submissions: Submissions
    artifacts: ArtifactStore
    hub: EventHub


def services(request: Request) -> Services:
    return request.app.state.services


_bearer = HTTPBearer(auto_error=False, description="an API key: `imagine keys create NAME` makes one")


def current_key(
    found: Annotated[Services, Depends(services)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> ApiKey:
    """The request's live API key (`Authorization: Bearer imk_…`), or 401."""
    key = found.keys.authenticate(credentials.credentials) if credentials else None
    if key is None:
        said = "missing" if credentials is None else "unknown or revoked"
        raise ApiError(
            401,
            f"the API key is {said}: send `Authorization: Bearer imk_…`",
            type="authentication_error",
            code="invalid_api_key",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return key


Key = Annotated[ApiKey, Depends(current_key)]
Found = Annotated[Services, Depends(services)]


def public_base(found: Services, request: Request) -> str:
    """The API's address as its clients reach it: `IMAGINE_API_PUBLIC_URL`, or the request's own."""
    return (found.settings.api_public_url or str(request.base_url)).rstrip("/")


def artifact_url(base: str, key: str, output_format: str | None = None) -> str:
    """The public link to an artifact (by its Redis key): `<base>/v1/artifacts/<job>/<name>`."""
    _, _, job_id, name = key.split(":", 3)
    suffix = f"?format={output_format}" if output_format and output_format != "png" else ""
    return f"{base}/v1/artifacts/{job_id}/{name}{suffix}"
