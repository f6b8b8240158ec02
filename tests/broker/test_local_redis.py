"""The private redis-server: only a client that knows its secret gets in, and the secret stays put."""

import stat
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from redis import Redis
from redis.backoff import NoBackoff
from redis.exceptions import AuthenticationError, ResponseError
from redis.retry import Retry

from broker.local_redis import LocalRedis


def _secret(url: str) -> str:
    password = urlsplit(url).password
    assert password, f"{url} holds no password"
    return password


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_client_without_the_password_is_refused(make_redis):
    server = make_redis()
    # Refused at HELLO (AuthenticationError) or at the command (NOAUTH), as the client's protocol goes.
    stranger = Redis(host="127.0.0.1", port=server.port, retry=Retry(NoBackoff(), 0))
    with pytest.raises((AuthenticationError, ResponseError), match=r"(?i)auth"):
        stranger.set("key", "value")
    with pytest.raises((AuthenticationError, ResponseError), match=r"(?i)auth"):
        stranger.config_get("requirepass")
    assert Redis.from_url(server.url).ping()


def test_the_secret_is_in_private_files_and_not_on_any_command_line(make_redis):
    server = make_redis()
    files = [path for path in server.directory.iterdir() if path.is_file() and path.name != "redis.log"]
    secret = _secret(server.url)
    assert len(secret) >= 32
    holding = [path for path in files if secret in path.read_text(errors="replace")]
    assert len(holding) >= 2, "the secret file and the config file"  # the config names it
    assert all(_mode(path) == 0o600 for path in holding), {path.name: oct(_mode(path)) for path in holding}
    assert server.pid is not None
    cmdline = Path(f"/proc/{server.pid}/cmdline").read_bytes().decode()
    assert secret not in cmdline
    assert str(server.port) in Redis.from_url(server.url).config_get("port")["port"]


def test_a_second_start_in_the_same_directory_reuses_the_secret(tmp_path):
    with LocalRedis(tmp_path / "redis") as first:
        Redis.from_url(first.url).set("kept", "yes")
    with LocalRedis(tmp_path / "redis") as second:
        assert _secret(second.url) == _secret(first.url)
        assert Redis.from_url(second.url).get("kept") == b"yes"
    with LocalRedis(tmp_path / "other") as elsewhere:
        assert _secret(elsewhere.url) != _secret(first.url)
