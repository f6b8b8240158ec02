"""The benchmark scripts keep working (their figures are read by people, not asserted here)."""

import re
import subprocess
import sys

import pytest


@pytest.mark.slow
def test_discord_latency_benchmark_runs_the_whole_stack_and_reports():
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.discord_latency", "--prompts", "2"],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    figures = re.findall(
        r"^(.+): median \d+ ms · p95 \d+ ms · max \d+ ms \(n=2\)$", result.stdout, re.MULTILINE
    )
    assert figures == ["interaction → first answer", "done → result posted"]
