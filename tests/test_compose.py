"""docker-compose.yml, the Dockerfiles and .env.example, checked for structure.

No Docker engine runs where the tests run, so nothing here builds or starts a container: these
tests read the files as compose would and hold them to the processes the rest of the suite runs.
"""

import json
import re
import tomllib
from pathlib import Path

import pytest

from tests.compose_files import (
    ROOT,
    compose,
    compose_text,
    dockerfile,
    env_example,
    env_example_lines,
    environment,
    is_named,
    seconds,
    services,
    settings,
    split_volume,
    workers,
)

COMPOSE_ONLY = {"IMAGINE_REDIS_PASSWORD", "IMAGINE_MODELS_DIR"}
"""`IMAGINE_*` variables docker-compose.yml reads for itself; no process reads them."""

REDIS_PASSWORD = "${IMAGINE_REDIS_PASSWORD"
PROCESSES = {"bot": "bot", "api": "api", **dict.fromkeys(workers(), "worker")}
"""Each service that runs one of our processes, and the package whose `imagine-<package>` script it runs."""
SCRIPTS = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]


def test_the_services():
    assert {"redis", "bot", "worker"} <= set(services())
    assert set(services()) == {"redis", *PROCESSES}
    # The volumes' names start with the project's: a fixed one survives moving the checkout.
    assert compose()["name"] == "imagine"


def test_redis_is_the_official_image_pinned_to_7x():
    assert re.fullmatch(r"redis:7\.\d+\.\d+(-[\w.]+)?", services()["redis"]["image"])


def test_redis_keeps_an_append_only_file_on_a_named_volume():
    redis = services()["redis"]
    command = " ".join(redis["command"])
    assert "--appendonly yes" in command
    assert "--appendfsync everysec" in command
    mounts = [split_volume(spec) for spec in redis["volumes"]]
    assert any(is_named(source) and target == "/data" for source, target, _ in mounts)


def test_redis_requires_a_password_and_every_client_uses_it():
    redis = services()["redis"]
    command = redis["command"]
    assert command[command.index("--requirepass") + 1].startswith(REDIS_PASSWORD + ":?")
    # redis-cli in the healthcheck authenticates through REDISCLI_AUTH.
    assert environment(redis)["REDISCLI_AUTH"].startswith(REDIS_PASSWORD)
    for name in PROCESSES:
        url = environment(services()[name])["IMAGINE_REDIS_URL"]
        assert f"redis://:{REDIS_PASSWORD}}}@redis:6379/" in url, name


def test_redis_has_a_ping_healthcheck():
    test = services()["redis"]["healthcheck"]["test"]
    assert test[0] in ("CMD", "CMD-SHELL")
    assert "redis-cli ping" in " ".join(test[1:])


def test_no_port_is_published_beyond_the_hosts_loopback():
    redis = services()["redis"]
    assert "ports" not in redis, "Redis must not be published: workers elsewhere reach it privately"
    assert redis.get("network_mode") != "host"
    for name, service in services().items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), (name, port)


def _scripts_the_stack_starts() -> set[str]:
    """The console scripts playground/stack.py starts: the end-to-end tests, the playground and the
    benchmarks start the processes through it."""
    return set(re.findall(r'script\("([\w-]+)"\)', (ROOT / "playground" / "stack.py").read_text()))


def test_the_commands_are_the_scripts_the_tests_start():
    started = _scripts_the_stack_starts()
    for name, module in PROCESSES.items():
        script = f"imagine-{module}"
        assert services()[name]["command"] == [script], name
        assert SCRIPTS[script] == f"{module}.__main__:main", name
        assert script in started, f"playground/stack.py does not start `{script}`"
        assert (ROOT / module / "__main__.py").is_file()


def test_each_image_installs_the_extra_its_command_needs():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    also = {"worker": {"superres"}}  # the upscalers' spandrel, beside the CUDA torch's torchvision
    for name, module in PROCESSES.items():
        image = dockerfile(services()[name])
        assert image.installed_extras() == [{module, *also.get(module, ())}], name
        assert module in extras
        assert [json.loads(cmd) for cmd in image.all("CMD")] == [[f"imagine-{module}"]], name


def test_the_bot_image_has_no_torch():
    bot = dockerfile(services()["bot"])
    assert not any("torch" in rest for _, rest in bot.instructions)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = project["dependencies"] + project["optional-dependencies"]["bot"]
    heavy = {"torch", "diffusers", "transformers"}
    assert not [req for req in requirements if re.match(r"[\w.-]+", req)[0].lower() in heavy]


def test_the_worker_image_installs_the_cuda_torch_before_the_worker_extra():
    worker = dockerfile(services()["worker"])
    runs = worker.all("RUN")
    torch = next(index for index, rest in enumerate(runs) if re.search(r'"torch==\$TORCH_VERSION"', rest))
    extra = next(index for index, rest in enumerate(runs) if "[worker," in rest)
    assert torch < extra
    assert '--index-url "$TORCH_INDEX/$TORCH_CUDA"' in runs[torch]
    assert '"torchvision==$TORCHVISION_VERSION"' in runs[torch]  # from the same index, for spandrel
    args = worker.args()
    assert re.fullmatch(r"cu\d+", args["TORCH_CUDA"])
    # No registry host is written in the repository: the index comes from the operator.
    assert args["TORCH_INDEX"] == ""
    assert set(services()["worker"]["build"]["args"]) <= set(args)


@pytest.mark.parametrize("name", ["bot", "api", "worker"])
def test_images_run_as_a_user_other_than_root(name):
    users = dockerfile(services()[name]).all("USER")
    assert users
    assert users[-1] not in ("root", "0")
    assert dockerfile(services()[name]).all("FROM")[0].startswith("python:3.11-slim")


def test_each_worker_reserves_its_own_nvidia_gpu():
    gpus = []
    for name, service in workers().items():
        (device,) = service["deploy"]["resources"]["reservations"]["devices"]
        assert device["driver"] == "nvidia", name
        assert "gpu" in device["capabilities"], name
        if name == "worker":
            assert device["count"] == 1 and "device_ids" not in device
            gpus.append("0")  # `count: 1` is the host's first GPU
        else:
            assert "count" not in device
            assert device["device_ids"] == [name.removeprefix("worker-gpu")]
            assert service["profiles"] == [name.removeprefix("worker-")], name
            gpus.extend(device["device_ids"])
        # Inside the container, its one GPU is the first: fail rather than fall back to the CPU.
        assert environment(service)["IMAGINE_DEVICE"] == "cuda"
    assert len(set(gpus)) == len(gpus)


def test_workers_are_the_same_but_for_their_gpu():
    def without_gpu(service):
        return {key: value for key, value in service.items() if key not in ("deploy", "profiles")}

    first = without_gpu(services()["worker"])
    for name, service in workers().items():
        assert without_gpu(service) == first, name


def test_workers_cache_weights_on_a_volume_and_read_the_catalog_from_a_read_only_mount():
    image_env = dockerfile(services()["worker"]).env()
    for name, service in workers().items():
        mounts = {target: (source, mode) for source, target, mode in map(split_volume, service["volumes"])}
        env = {**image_env, **environment(service)}
        cache = next(target for target, (source, _) in mounts.items() if is_named(source))
        assert mounts[cache][1] == "rw"
        for variable in ("HF_HOME", "IMAGINE_MODEL_CACHE"):
            assert Path(env[variable]).is_relative_to(cache), (name, variable)
        _assert_catalog_mounted(name, service, mounts)


def test_the_bot_reads_the_workers_catalog():
    bot = services()["bot"]
    mounts = {target: (source, mode) for source, target, mode in map(split_volume, bot["volumes"])}
    _assert_catalog_mounted("bot", bot, mounts)
    assert bot["volumes"] == [
        spec for spec in services()["worker"]["volumes"] if split_volume(spec)[1] in mounts
    ]


def _assert_catalog_mounted(name, service, mounts):
    catalog = Path(environment(service)["IMAGINE_CATALOG"])
    folder = next(target for target in mounts if catalog.is_relative_to(target))
    source, mode = mounts[folder]
    assert mode == "ro" and not is_named(source), name


def test_every_named_volume_is_declared_and_used():
    used = {
        source
        for service in services().values()
        for source, _, _ in map(split_volume, service.get("volumes", []))
        if is_named(source)
    }
    assert used == set(compose()["volumes"])


def test_the_processes_start_once_redis_is_healthy():
    assert "healthcheck" in services()["redis"]
    for name in PROCESSES:
        assert services()[name]["depends_on"] == {"redis": {"condition": "service_healthy"}}, name
        assert services()[name]["restart"] in ("unless-stopped", "always")


def test_a_stopping_worker_has_time_to_finish_its_job():
    job_timeout = settings()["IMAGINE_JOB_TIMEOUT"].field.default
    for name, service in workers().items():
        assert seconds(service["stop_grace_period"]) > job_timeout, name
        assert service["init"] is True
    assert "healthcheck" in services()["worker"]


def test_workers_never_get_the_discord_token():
    # .env holds the token and is every process's env_file; the workers' environment blanks it.
    for name, service in workers().items():
        assert environment(service)["IMAGINE_DISCORD_TOKEN"] == "", name


def test_compose_names_only_real_settings():
    named = set(re.findall(r"IMAGINE_[A-Z0-9_]+", compose_text()))
    assert named - set(settings()) - COMPOSE_ONLY == set()


def test_compose_sets_valid_values():
    for name in PROCESSES:
        for variable, value in environment(services()[name]).items():
            blanked = variable == "IMAGINE_DISCORD_TOKEN" and name != "bot"  # read by the bot alone
            if variable in settings() and "$" not in value and not blanked:
                settings()[variable].parse(value)


def test_env_example_lists_every_setting_once():
    listed = set(env_example_lines())
    assert {name for name in listed if name.startswith("IMAGINE_")} == set(settings()) | COMPOSE_ONLY
    assert set(re.findall(r"IMAGINE_[A-Z0-9_]+", env_example())) <= set(settings()) | COMPOSE_ONLY
    for name, (_, _, comment) in env_example_lines().items():
        assert comment, f"{name} has no comment in .env.example"


def test_env_example_marks_what_is_required():
    required = {env for env, setting in settings().items() if setting.field.is_required()}
    required |= {"IMAGINE_REDIS_PASSWORD"}
    for name, (is_set, _, comment) in env_example_lines().items():
        if name in required:
            assert is_set and "REQUIRED" in comment, name
        else:
            assert not is_set and "REQUIRED" not in comment, name


def test_env_example_shows_the_defaults():
    for name, (is_set, value, _) in env_example_lines().items():
        setting = settings().get(name)
        if setting is None or is_set:
            continue
        field = setting.field
        if field.default_factory is not None or field.default is None:
            assert value == "", f"{name}: leave it empty, its default is computed"
        elif isinstance(field.default, Path):
            assert Path(value).expanduser() == field.default, name
        else:
            assert setting.parse(value) == field.default, name


def test_dockerignore_keeps_the_environment_and_secrets_out():
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    for entry in (".git", ".venv", ".pytest_cache", ".env", "*.egg-info", "local-models"):
        assert entry in ignored, entry
