"""`python -m bench api`: a real `imagine-api` against submitting straight to Redis, on a few jobs
(the figures are read by people; here only their shape and sanity)."""

import json
import subprocess
import sys

import pytest

from bench.api import _per_key, _share

PATHS = ("api", "direct", "direct+keys")


@pytest.mark.timeout(180)
def test_every_job_is_accepted_and_timed_on_every_path():
    result = _bench_api("--clients", "4", "--requests", "40", "--json", timeout=170)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert (report["clients"], report["keys"], report["requests"]) == (4, 4, 40)
    assert set(report["paths"]) == set(PATHS)
    for name in PATHS:
        path = report["paths"][name]
        assert (path["jobs"], path["requests"], path["clients"], path["errors"]) == (40, 40, 4, {}), name
        assert path["wall_s"] > 0 and path["accepted_per_s"] > 0, name
        ms = path["latency_ms"]
        assert 0 < ms["p50"] <= ms["p99"] <= ms["max"], (name, ms)
    api, direct = report["paths"]["api"]["latency_ms"], report["paths"]["direct"]["latency_ms"]
    for figure in ("p50", "p99"):
        assert report["added_ms"][figure] == pytest.approx(api[figure] - direct[figure])
        assert report["ratio_api_over_direct"][figure] == pytest.approx(api[figure] / direct[figure])
    assert report["ratio_api_over_direct"]["accepted_per_s"] > 0


def test_more_jobs_than_a_key_may_have_waiting_are_refused_before_anything_starts():
    result = _bench_api("--clients", "2", "--keys", "1", "--requests", "1001", timeout=60)
    assert result.returncode == 2
    assert "at most 1000 jobs waiting" in result.stderr


def test_jobs_are_dealt_to_clients_in_turn_and_counted_per_key():
    assert _share(range(7), 3) == [[0, 3, 6], [1, 4], [2, 5]]
    assert _per_key(7, 3, 3) == 3
    assert _per_key(7, 3, 2) == 5  # clients 0 and 2 share key 0
    assert _per_key(2000, 32, 32) == 63


def _bench_api(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench", "api", *args], capture_output=True, text=True, timeout=timeout
    )
