"""Every Redis key name comes from `jobs.keys`: no other runtime module spells one out."""

import ast
import re
from pathlib import Path

from jobs import keys

ROOT = Path(__file__).parents[2]
RUNTIME = ("bot", "worker", "broker", "jobs", "models", "cli", "playground")
OWNER = ROOT / "jobs" / "keys.py"
NOT_KEYS = {ROOT / "jobs" / "custom_ids.py"}
"""Discord custom ids start with `imagine:` too, but they live on buttons, not in Redis."""


def _spelled_keys(path: Path, root: Path = ROOT) -> list[str]:
    """Where `path` builds a key of ours itself: a string starting `imagine:`/`imagine.`, or a use
    of `keys.PREFIX`."""
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        text = None
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        elif isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
            text = str(node.values[0].value)
        where = f"{path.relative_to(root)}:{getattr(node, 'lineno', 0)}"
        if text and re.match(rf"{keys.PREFIX}[:.](?!\s)", text):  # not "imagine: no such job"
            found.append(f"{where}: {text!r}")
        prefix = isinstance(node, ast.Attribute) and node.attr == "PREFIX"
        if prefix and getattr(node.value, "id", "") == "keys":
            found.append(f"{where}: keys.PREFIX")
    return sorted(set(found))  # an f-string's first part is also a constant of its own


def test_no_runtime_module_but_jobs_keys_builds_a_redis_key():
    modules = [path for package in RUNTIME for path in (ROOT / package).rglob("*.py")]
    assert len(modules) > 50  # the packages are where this test thinks they are
    checked = [path for path in modules if path != OWNER and path not in NOT_KEYS]
    spelled = [hit for path in checked for hit in _spelled_keys(path)]
    assert spelled == []


def test_the_check_finds_a_key_spelled_out(tmp_path: Path):
    (tmp_path / "elsewhere.py").write_text(
        'KEY = f"imagine:click:{1}"\nfrom jobs import keys\nOTHER = keys.PREFIX + ":x"\n', encoding="utf-8"
    )
    assert _spelled_keys(tmp_path / "elsewhere.py", tmp_path) == [
        "elsewhere.py:1: 'imagine:click:'",
        "elsewhere.py:3: keys.PREFIX",
    ]
