"""The processes start the same from any directory, as the console scripts of pyproject.toml.

`python -m bot` puts the current directory first on sys.path, so an operator's own `models.py`
there shadows our `models` package. The scripts (`imagine-bot`, `imagine-worker`, `imagine`,
`imagine-playground`) put their own folder there instead; everything that starts the processes
(docker, the Makefile, playground.stack) runs them.
"""

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from playground import stack

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SCRIPTS = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]


@pytest.fixture
def cluttered(tmp_path: Path) -> Path:
    """A directory an operator might start a process from: a `models.py` and an empty `bot/`."""
    (tmp_path / "models.py").write_text("# an operator's own script\n")
    (tmp_path / "bot").mkdir()
    return tmp_path


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    # Neither a PYTHONPATH nor PYTHONSAFEPATH (which would keep the current directory off sys.path).
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONSAFEPATH")}
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL
    )


def test_python_dash_m_imports_the_current_directory_first(cluttered: Path):
    # The hazard the scripts avoid: `models.py` here is found before our `models` package.
    result = _run([sys.executable, "-m", "bot", "--help"], cluttered)
    assert result.returncode != 0
    assert "'models' is not a package" in result.stderr, result.stderr[-3000:]


@pytest.mark.parametrize(
    "script", ["imagine-bot", "imagine-worker", "imagine", "imagine-playground", "imagine-api"]
)
def test_the_scripts_run_from_that_same_directory(cluttered: Path, script: str):
    result = _run([str(BIN / script), "--help"], cluttered)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.startswith("usage: "), result.stdout


def test_the_scripts_run_the_packages_main():
    assert SCRIPTS == {
        "imagine": "cli.main:main",
        "imagine-bot": "bot.__main__:main",
        "imagine-worker": "worker.__main__:main",
        "imagine-playground": "playground.__main__:main",
        "imagine-api": "api.__main__:main",
    }
    for script in SCRIPTS:
        assert (BIN / script).is_file(), f"{script} is not installed: run `pip install -e .`"


def test_a_missing_script_is_one_line_that_says_how_to_install_it(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    with pytest.raises(stack.StartupError) as raised:
        stack.script("imagine-bot")
    message = str(raised.value)
    assert message.startswith("imagine-bot is not installed: run `pip install -e .`"), message
    assert "\n" not in message


def test_the_stack_starts_the_script_beside_this_python():
    assert stack.script("imagine-worker") == str(BIN / "imagine-worker")
