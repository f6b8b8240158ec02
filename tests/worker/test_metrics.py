"""The worker's metrics move as real jobs run in-process on the tiny model, are served over HTTP,
and every line logged while a job runs names it."""

import logging
import urllib.request
from collections.abc import Callable, Iterator

import pytest
import torch
from prometheus_client import CollectorRegistry
from rq import Queue, Retry
from rq.serializers import JSONSerializer

import worker.tasks
from broker.local_redis import free_port
from broker.logs import JobIdFilter
from broker.metrics import QueueDepthCollector, new_registry, serve
from broker.queues import JobSubmitter
from broker.settings import MetricsSettings
from jobs import keys
from jobs.prompt import parse_prompt
from jobs.resolve import imagine_spec
from models.catalog import load_catalog
from worker.boot import prepare
from worker.metrics import GpuMemoryCollector, worker_metrics

PROFILE = load_catalog().get("tiny").profile()


def _submit(submitter: JobSubmitter, prompt: str = "a red circle --steps 2") -> str:
    spec = imagine_spec(parse_prompt(prompt), PROFILE)
    submitter.submit(spec)
    return spec.job_id


def _jobs(registry: CollectorRegistry, outcome: str, operation: str = "imagine") -> float:
    labels = {"operation": operation, "model": "tiny", "outcome": outcome}
    return registry.get_sample_value("imagine_worker_jobs_total", labels) or 0.0


@pytest.fixture
def served(
    redis, broker_settings, worker_settings, engines
) -> Iterator[tuple[CollectorRegistry, str, Callable[[], None]]]:
    """The registry `python -m worker` builds, served on a free port: (registry, URL, run the worker)."""
    registry = new_registry()
    metrics = worker_metrics(registry, engines)
    registry.register(QueueDepthCollector(redis, list(engines)))
    server = serve(registry, MetricsSettings(metrics_port=free_port()))
    assert server is not None

    def run() -> None:
        prepare(redis, broker_settings, worker_settings, engines, metrics=metrics).work(burst=True)

    yield registry, f"http://127.0.0.1:{server.server_port}/metrics", run
    server.shutdown()
    server.server_close()


def _scrape(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode()


def test_jobs_are_counted_by_outcome_and_timed(served, redis, submitter):
    registry, url, run = served
    _submit(submitter)
    _submit(submitter, "a blue square --steps 2")
    Queue(keys.queue_name("tiny"), connection=redis, serializer=JSONSerializer).enqueue(
        "worker.tasks.imagine", kwargs={"spec": {"op": "imagine"}}, retry=Retry(max=2)
    )
    before = _scrape(url)
    assert 'imagine_queue_jobs{model="tiny",state="waiting"} 3.0' in before
    assert 'imagine_worker_model_loaded{device="cpu",dtype="float32",model="tiny"} 1.0' in before

    run()

    assert _jobs(registry, "done") == 2
    assert _jobs(registry, "failed") == 1  # a hopeless job fails at once, without retries
    assert _jobs(registry, "retried") == 0
    labels = {"operation": "imagine", "model": "tiny"}
    assert registry.get_sample_value("imagine_worker_job_duration_seconds_count", labels) == 2
    assert registry.get_sample_value("imagine_worker_job_duration_seconds_sum", labels) > 0
    after = _scrape(url)
    assert 'imagine_worker_jobs_total{model="tiny",operation="imagine",outcome="done"} 2.0' in after
    assert 'imagine_queue_jobs{model="tiny",state="waiting"} 0.0' in after
    assert 'imagine_queue_jobs{model="tiny",state="failed"} 1.0' in after


def test_a_crash_that_is_retried_counts_as_retried_then_done(
    redis, submitter, run_worker, monkeypatch: pytest.MonkeyPatch
):
    render = worker.tasks._render
    calls: list[str] = []

    def crash_once(*args):
        calls.append("render")
        if len(calls) == 1:
            raise RuntimeError("CUDA error: an illegal memory access was encountered")
        return render(*args)

    monkeypatch.setattr(worker.tasks, "_render", crash_once)
    _submit(submitter)
    registry = run_worker().metrics.registry
    assert (_jobs(registry, "retried"), _jobs(registry, "done"), _jobs(registry, "failed")) == (1, 1, 0)


def test_every_record_logged_while_a_job_runs_carries_its_id(
    submitter, run_worker, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    render = worker.tasks._render

    def chatty(*args):
        logging.getLogger("diffusers.pipelines").warning("a third-party line inside the job")
        return render(*args)

    monkeypatch.setattr(worker.tasks, "_render", chatty)
    caplog.handler.addFilter(JobIdFilter())
    job_id = _submit(submitter)
    with caplog.at_level(logging.INFO):
        run_worker()
    by_message = {record.getMessage(): record for record in caplog.records}
    assert by_message["a third-party line inside the job"].job_id == job_id
    [rq_ok] = [record for message, record in by_message.items() if "Job OK" in message]
    assert rq_ok.name == "rq.worker" and rq_ok.job_id == job_id
    started = [record for record in caplog.records if "started with PID" in record.getMessage()]
    assert started and started[0].job_id == ""  # outside any job


def test_gpu_memory_is_read_per_device_at_scrape(monkeypatch: pytest.MonkeyPatch):
    held = {"memory_allocated": [1024, 2048], "memory_reserved": [4096, 8192], "max_memory_allocated": [3, 5]}
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    for name, values in held.items():
        monkeypatch.setattr(torch.cuda, name, lambda index, values=values: values[index])
    registry = CollectorRegistry()
    registry.register(GpuMemoryCollector())
    value = registry.get_sample_value
    assert value("imagine_worker_gpu_memory_allocated_bytes", {"device": "cuda:1"}) == 2048
    assert value("imagine_worker_gpu_memory_reserved_bytes", {"device": "cuda:0"}) == 4096
    assert value("imagine_worker_gpu_memory_max_allocated_bytes", {"device": "cuda:1"}) == 5


def test_without_cuda_there_are_no_gpu_metrics(engines):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    registry = CollectorRegistry()
    worker_metrics(registry, engines)
    names = {metric.name for metric in registry.collect()}
    assert "imagine_worker_jobs" in names
    assert not [name for name in names if "gpu" in name]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_real_gpu_memory_is_reported():
    tensor = torch.ones(1024, 1024, device="cuda")  # 4 MiB
    registry = CollectorRegistry()
    registry.register(GpuMemoryCollector())
    allocated = registry.get_sample_value("imagine_worker_gpu_memory_allocated_bytes", {"device": "cuda:0"})
    assert allocated >= tensor.numel() * 4
