# The HTTP API: `imagine-api`. FastAPI, uvicorn, redis and rq only: no torch, no GPU libraries.
# Built by docker-compose.yml (`docker compose build api`), from the repository root as context.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

# The source is mounted for the install only, so the image holds the installed package, not the tree;
# the install puts the `imagine-api` script on PATH (/usr/local/bin).
RUN --mount=type=bind,target=/src,rw \
    pip install "/src[api]"

RUN useradd --uid 10001 --create-home --shell /usr/sbin/nologin imagine
USER imagine
WORKDIR /home/imagine

CMD ["imagine-api"]
