"""`python -m bench` runs on a machine without a GPU and reports every figure (values are not asserted)."""

import json
import subprocess
import sys

import pytest

import bench.__main__ as bench_main

_QUEUE = ("--queue-jobs", "5", "--json")


@pytest.mark.slow
@pytest.mark.timeout(1200)  # a hang guard only: how long it takes depends on the machine's load
def test_tiny_preset_ablation_and_queue_overhead_report_every_figure():
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            *("--preset", "tiny", "--warmup", "1", "--runs", "2"),
            "--ablate",
            # The compiled variants take a minute or more each on a CPU, and what compiling does
            # is tested in tests/worker/test_acceleration.py: the eager rows cover the report.
            *("--rows", "1,2,3,4"),
            *_QUEUE,
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    tiny = report["presets"]["tiny"]
    assert tiny["unet_tflop_per_call"] > 0
    for path in ("baseline", "ours"):
        figures = tiny[path]
        assert len(figures["runs"]) == 2
        assert figures["seconds_per_grid"] > 0
        assert figures["images_per_second"] == pytest.approx(4 / figures["seconds_per_grid"])
        assert figures["unet_calls"] == tiny["steps"]
        assert 0 < figures["unet_seconds"] < figures["seconds_per_grid"]
        assert figures["unet_tflops"] > 0
        if "no CUDA" in report["device"]:
            assert figures["peak_memory_gib"] is None
    ratio = tiny["ours"]["seconds_per_grid"] / tiny["baseline"]["seconds_per_grid"]
    assert tiny["ratio_ours_over_baseline"] == pytest.approx(ratio)
    rows = tiny["ablation"]
    assert [row["variant"] for row in rows] == [
        "fp32, classic attention",
        "fp32, SDPA",
        "fp32, SDPA + channels_last",
        "fp32, SDPA + channels_last + fused_qkv",
    ]
    assert rows[0]["pixel_difference_max"] == 0 and rows[0]["speedup_over_previous"] is None
    for row in rows:
        assert row["images_per_second"] == pytest.approx(4 / row["seconds_per_grid"])
        assert row["pixel_difference_max"] <= 2  # fp32 throughout: rounding, not a different picture
    queue = report["queue"]
    assert queue["jobs"] == 5
    for key in ("enqueue_to_started_ms", "done_to_readable_ms"):
        assert 0 < queue[key]["p50"] <= queue[key]["p99"] <= queue[key]["max"]


def test_the_shipped_shapes_model_is_a_preset(capsys):
    args = [
        "--preset",
        "shapes",
        "--steps",
        "2",
        "--runs",
        "1",
        "--warmup",
        "1",
        "--queue-jobs",
        "0",
        "--json",
    ]
    assert bench_main.main(args) == 0
    shapes = json.loads(capsys.readouterr().out)["presets"]["shapes"]
    assert (shapes["size"], shapes["steps"]) == (64, 2)
    for path in ("baseline", "ours"):
        assert shapes[path]["unet_calls"] == 2
        assert shapes[path]["images_per_second"] == pytest.approx(4 / shapes[path]["seconds_per_grid"])


def test_rows_pick_ablation_variants_by_their_place(capsys):
    quick = ["--preset", "tiny", "--steps", "1", "--runs", "1", "--warmup", "1", "--queue-jobs", "0"]
    assert bench_main.main([*quick, "--ablate", "--rows", "2,1", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["presets"]["tiny"]["ablation"]
    assert [row["variant"] for row in rows] == ["fp32, classic attention", "fp32, SDPA"]
    assert bench_main.main([*quick, "--ablate", "--rows", "99"]) == 2
    assert "--rows: this device has" in capsys.readouterr().err


def test_the_table_shows_na_where_a_figure_is_unknown(capsys):
    path = {
        "seconds_per_grid": 2.0,
        "images_per_second": 2.0,
        "peak_memory_gib": None,
        "unet_tflops": 0.5,
        "unet_fraction_of_peak": None,
    }
    report = {
        "device": "CPU",
        "presets": {
            "tiny": {
                "size": 64,
                "steps": 4,
                "unet_tflop_per_call": 0.0016,
                "device_peak_tflops": None,
                "baseline": path,
                "ours": path | {"seconds_per_grid": 1.0},
                "ratio_ours_over_baseline": 0.5,
            }
        },
    }
    table = bench_main._table(report)
    assert "device peak n/a" in table
    assert "ours / baseline: 0.500" in table
    assert table.count(" n/a") >= 5


def test_sd15_and_sdxl_are_refused_without_a_gpu(monkeypatch, capsys):
    monkeypatch.setattr(bench_main.torch.cuda, "is_available", lambda: False)
    for preset in ("sd15", "sdxl"):
        assert bench_main.main(["--preset", preset, "--queue-jobs", "0"]) == 2
        assert "needs a CUDA GPU" in capsys.readouterr().err


def test_peak_table_knows_the_datacenter_gpus(monkeypatch):
    from bench.grid import peak_tflops

    names = {
        "NVIDIA H100 80GB HBM3": 989.0,
        "NVIDIA H100 PCIe": 756.0,
        "NVIDIA H200": 989.0,
        "NVIDIA A100-SXM4-80GB": 312.0,
        "Some Other GPU": None,
    }
    for name, peak in names.items():
        monkeypatch.setattr(bench_main.torch.cuda, "get_device_name", lambda device, name=name: name)
        assert peak_tflops(bench_main.torch.device("cuda")) == peak
    assert peak_tflops(bench_main.torch.device("cpu")) is None


def test_the_ablation_table_shows_each_step_and_its_gain():
    from bench import ablation

    row = {"seconds_per_grid": 2.0, "images_per_second": 2.0, "pixel_difference_mean": 0.0}
    rows = [
        row | {"variant": "fp32", "speedup_over_previous": None, "pixel_difference_max": 0},
        row
        | {"variant": "fp16, SDPA", "seconds_per_grid": 0.5, "speedup_over_previous": 4.0}
        | {"pixel_difference_mean": 0.31, "pixel_difference_max": 3},
    ]
    lines = ablation.table("sd15", 512, 25, rows)
    assert "ablation, sd15: 512² · 25 steps" in lines[1]
    assert lines[3].split() == ["fp32", "2.000", "2.00", "0.00", "0"]
    assert lines[4].split() == ["fp16,", "SDPA", "0.500", "2.00", "4.00", "0.31", "3"]


def test_pixel_difference_is_the_mean_and_largest_channel_gap():
    from PIL import Image

    from bench.ablation import pixel_difference

    black, grey = Image.new("RGB", (2, 2)), Image.new("RGB", (2, 2), (0, 0, 8))
    assert pixel_difference([black, black], [black, grey]) == (pytest.approx(4 / 3), 8)  # 4 of 24 values


@pytest.mark.parametrize(
    ("command", "option"), [("soak", "--faults"), ("latency", "--prompts"), ("api", "--clients")]
)
def test_the_benchmarks_of_separate_processes_never_import_torch(command: str, option: str):
    # As `python -m bench <command> --help` runs it; --help exits before anything starts.
    code = (
        "import runpy, sys\n"
        f"sys.argv = ['bench', '{command}', '--help']\n"
        "try:\n"
        "    runpy.run_module('bench', run_name='__main__', alter_sys=True)\n"
        "except SystemExit as stop:\n"
        "    assert stop.code == 0, stop.code\n"
        "print('torch' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"python -m bench {command}" in result.stdout and option in result.stdout
    assert result.stdout.splitlines()[-1] == "False"
