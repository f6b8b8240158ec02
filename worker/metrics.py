"""The worker's Prometheus metrics: jobs by how they ended, how long they took, the models it has
loaded and, on a GPU, the memory PyTorch holds there."""

from collections.abc import Iterator

import torch
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from rq.job import Job, JobStatus

from broker.monitor import model_of
from broker.queues import TASKS
from worker.engine import Engine

DURATION_BUCKETS = (0.5, 1, 2, 5, 10, 20, 30, 45, 60, 90, 120, 180, 300, 450, 600, 900)
"""Seconds: a small model's job on a fast GPU up to a large upscale, and the default timeout."""

_OPERATIONS = {path: op.value for op, path in TASKS.items()}


class WorkerMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = CollectorRegistry() if registry is None else registry
        self.jobs = Counter(
            "imagine_worker_jobs",
            "Jobs this worker ran, by how the run ended: done, failed (for good) or retried",
            ["operation", "model", "outcome"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "imagine_worker_job_duration_seconds",
            "Time a job that ended done took on this worker, from start to result stored",
            ["operation", "model"],
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        self.jobs_per_call = Histogram(
            "imagine_worker_jobs_per_call",
            "Jobs the worker took together to render in one pipeline call (1: a job alone)",
            buckets=(1, 2, 3, 4, 6, 8),
            registry=self.registry,
        )
        self.models = Gauge(
            "imagine_worker_model_loaded",
            "1 for each model this worker has loaded and serves",
            ["model", "device", "dtype"],
            registry=self.registry,
        )

    def loaded(self, engines: dict[str, Engine]) -> None:
        for name, engine in engines.items():
            dtype = str(engine.model.dtype).removeprefix("torch.")
            self.models.labels(name, str(engine.model.device), dtype).set(1)

    def ran(self, job: Job, queue_name: str, *, succeeded: bool, seconds: float) -> None:
        """Counts one run of `job` (taken from `queue_name`) that RQ has finished handling."""
        operation, model = _operation(job), model_of(queue_name)
        if succeeded:
            self.jobs.labels(operation, model, "done").inc()
            self.duration.labels(operation, model).observe(seconds)
            return
        retried = job.get_status(refresh=False) in (JobStatus.QUEUED, JobStatus.SCHEDULED)
        self.jobs.labels(operation, model, "retried" if retried else "failed").inc()


def _operation(job: Job) -> str:
    """The operation of one of our tasks; `other` for anything off the allow-list (bounded labels)."""
    try:
        return _OPERATIONS.get(job.func_name, "other")
    except Exception:  # undecodable job data
        return "other"


class GpuMemoryCollector(Collector):
    """What the PyTorch caching allocator holds on each GPU, read when Prometheus scrapes."""

    def collect(self) -> Iterator[Metric]:
        families = {
            "allocated": GaugeMetricFamily(
                "imagine_worker_gpu_memory_allocated_bytes", "GPU memory held by tensors", labels=["device"]
            ),
            "reserved": GaugeMetricFamily(
                "imagine_worker_gpu_memory_reserved_bytes",
                "GPU memory PyTorch's caching allocator has reserved",
                labels=["device"],
            ),
            "max_allocated": GaugeMetricFamily(
                "imagine_worker_gpu_memory_max_allocated_bytes",
                "The most GPU memory tensors have held since the worker started",
                labels=["device"],
            ),
        }
        if torch.cuda.is_initialized():  # before the first model loads there is nothing to read
            for index in range(torch.cuda.device_count()):
                device = f"cuda:{index}"
                families["allocated"].add_metric([device], torch.cuda.memory_allocated(index))
                families["reserved"].add_metric([device], torch.cuda.memory_reserved(index))
                families["max_allocated"].add_metric([device], torch.cuda.max_memory_allocated(index))
        yield from families.values()


def worker_metrics(registry: CollectorRegistry, engines: dict[str, Engine]) -> WorkerMetrics:
    """The worker's metrics in `registry`, with the GPU's memory where CUDA is available."""
    metrics = WorkerMetrics(registry)
    metrics.loaded(engines)
    if torch.cuda.is_available():
        registry.register(GpuMemoryCollector())
    return metrics
