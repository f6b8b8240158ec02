"""Starting a worker: load the configured models once, then take jobs until told to stop."""

import logging
from typing import TYPE_CHECKING

import torch
from redis import Redis

from broker.artifacts import ArtifactStore
from broker.events import EventLog
from broker.settings import BrokerSettings
from broker.startup import StartupError
from jobs import keys
from models.catalog import Catalog, load_catalog
from models.image_adapters import AdapterError, ImageAdapter
from models.loader import LoadedModel, load_model, pick_device
from worker import runtime
from worker.acceleration import accelerate, warm_up
from worker.captioners import Captioners
from worker.engine import Engine
from worker.metrics import WorkerMetrics
from worker.runner import ResidentWorker, build_worker
from worker.safety import SafetyChecks
from worker.settings import WorkerSettings
from worker.speedups import Speedup

if TYPE_CHECKING:
    from worker.superres import SuperResolution

log = logging.getLogger(__name__)


def load_engines(settings: WorkerSettings) -> dict[str, Engine]:
    """Loads every model the worker serves (the catalog's default when none is named)."""
    catalog = load_catalog(settings.catalog)
    names = settings.models or [catalog.default]
    safety = SafetyChecks(catalog.safety_classifier)  # one classifier for all models that need it
    upscalers = _Upscalers()  # one copy of each, for all models that name it
    captioners = Captioners()  # the same for captioners (/describe)
    engines = {}
    try:
        device = pick_device(settings.device)
    except ValueError as error:
        raise StartupError(f"IMAGINE_DEVICE={settings.device} is not allowed: {error}") from None
    if settings.offload != "none" and device.type != "cuda":
        raise StartupError(
            f"IMAGINE_OFFLOAD={settings.offload} is not allowed on a worker without a GPU "
            f"(it runs on the {device.type}): leave it unset, or none"
        )
    for name in names:
        try:
            model = load_model(
                catalog.get(name),
                cache_dir=settings.model_cache,
                device=device,
                dtype=settings.dtype,
                offload=settings.offload,
            )
        except ValueError as error:  # a dtype the device cannot run, a source missing its config
            raise StartupError(f"model `{name}` cannot be loaded: {error}") from None
        log.info(
            "loaded model %s on %s as %s; NSFW checks: %s",
            name,
            model.device,
            model.dtype,
            safety.describe(model),
        )
        accelerate(model, settings.speedups)
        engine = Engine(
            model,
            vae_tile_pixels=settings.vae_tile_pixels,
            safety=safety,
            loras={lora.name: lora for lora in catalog.loras},
            loras_resident=settings.loras_resident,
            upscaler=upscalers.get(catalog, catalog.get(name).upscaler, model.device, settings.dtype),
            captioner=captioners.get(catalog, catalog.get(name).captioner, model.device, settings.dtype),
            adapter=_adapter(catalog, model),
        )
        if Speedup.COMPILE in settings.speedups:
            native = (model.defaults.native_width, model.defaults.native_height)
            warm_up(engine, dict.fromkeys([native, *settings.warm_up_sizes]), jobs=settings.batch_jobs)
        engines[name] = engine
    return engines


def _adapter(catalog: Catalog, model: LoadedModel) -> ImageAdapter | None:
    """The image-prompt adapter the catalog names for `model`, loaded into it; None if it names none."""
    if model.entry.adapter is None:
        return None
    try:
        adapter = ImageAdapter(catalog.adapter(model.entry.adapter), model)
    except AdapterError as error:
        raise StartupError(str(error)) from None
    log.info("loaded adapter %s into model %s", model.entry.adapter, model.entry.name)
    return adapter


class _Upscalers:
    """The catalog upscalers the served models name, each loaded once for all of them."""

    def __init__(self) -> None:
        self._loaded: dict[str, SuperResolution] = {}

    def get(
        self, catalog: Catalog, name: str | None, device: torch.device, dtype: str
    ) -> "SuperResolution | None":
        if name is None:
            return None
        if name not in self._loaded:
            try:  # spandrel: installed where a catalog names an upscaler (the `superres` extra)
                from worker.superres import SuperResolution
            except ImportError as error:
                raise StartupError(
                    f"upscaler `{name}` needs spandrel, which does not import here ({error}):"
                    " install the `superres` extra, or take `upscaler` out of the catalog's models"
                ) from None
            try:
                self._loaded[name] = SuperResolution(catalog.upscaler(name), device=device, dtype=dtype)
            except ValueError as error:  # weights missing, unsafe, or not fitting the entry
                raise StartupError(f"upscaler `{name}` cannot be loaded: {error}") from None
            log.info("loaded upscaler %s (%d×) on %s", name, self._loaded[name].scale, device)
        return self._loaded[name]


def prepare(
    redis: Redis,
    broker: BrokerSettings,
    settings: WorkerSettings,
    engines: dict[str, Engine],
    *,
    metrics: WorkerMetrics | None = None,
) -> ResidentWorker:
    """Installs the runtime the job functions use and builds the RQ worker for the engines' queues;
    it counts its jobs in `metrics` (unserved ones of its own when None). `broker` is what every Redis
    client shares: in `imagine-worker` the worker's own `settings` (a WorkerSettings is one)."""
    events = EventLog.for_settings(redis, broker)
    runtime.install(
        runtime.Runtime(
            engines=engines,
            artifacts=ArtifactStore(redis, broker.artifact_ttl),
            events=events,
            previews=settings.previews,
        )
    )
    return build_worker(
        redis,
        [keys.queue_name(name) for name in engines],
        events,
        heartbeat_ttl=settings.heartbeat_ttl,
        maintenance_interval=settings.maintenance_interval,
        batch_jobs=settings.batch_jobs,
        metrics=metrics,
    )
