"""`python -m bench latency`: the whole stack against the emulator, timed as members see it (the
figures are read by people, not asserted here)."""

import re
import subprocess
import sys

import pytest

from bench.latency import _report

FIGURE = r"^(.+): median \d+ ms · p95 \d+ ms · max \d+ ms \(n={n}\)$"


@pytest.mark.slow
def test_latency_runs_the_whole_stack_and_reports():
    result = _bench_latency("--prompts", "2", timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]
    figures = re.findall(FIGURE.format(n=2), result.stdout, re.MULTILINE)
    assert figures == ["interaction → first answer", "done → result posted"]
    assert re.search(r"^slowest first answer uses [\d.]+% of Discord's 3 s budget$", result.stdout, re.M)


def test_latency_refuses_no_prompts():
    result = _bench_latency("--prompts", "0", timeout=60)
    assert result.returncode == 2
    assert "at least 1" in result.stderr


def test_the_report_gives_the_median_p95_and_max_in_ms(capsys):
    _report("done → result posted", [n / 1000 for n in range(1, 22)])  # 1 … 21 ms
    assert capsys.readouterr().out == "done → result posted: median 11 ms · p95 20 ms · max 21 ms (n=21)\n"


def _bench_latency(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench", "latency", *args], capture_output=True, text=True, timeout=timeout
    )
