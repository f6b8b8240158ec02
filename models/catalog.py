"""The model catalog: which models a deployment serves and where their weights come from.

Torch-free (pydantic and the standard library only), so the bot can validate and autocomplete
`--model` without loading anything. A catalog is a TOML file; `catalog.example.toml` shows every
source kind, and `catalog.toml` (the default) serves the built-in models, which work offline:
`shapes` (its default, trained here) and `tiny` (random weights, for fast tests), the `shapes-2x`
upscaler and the `shapes-captioner` (both trained here). Relative paths in a catalog are relative
to the catalog file's folder.
"""

import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic_core import ErrorDetails

from jobs import limits
from jobs.errors import MemberError
from jobs.lora_syntax import LORA_NAME_PATTERN, LoraRequest
from jobs.profile import LoraProfile, ModelProfile, StyleProfile
from models.families import FAMILY_DEFAULTS, RGB, Family, FamilyDefaults

DEFAULT_CATALOG = Path(__file__).with_name("catalog.toml")

MODEL_NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}$"

OVERRIDABLE = (
    "native_width",
    "native_height",
    "size_multiple",
    "steps",
    "guidance",
    "sampler",
    "vary_subtle",
    "vary_strong",
    "upscale_denoise",
    "upscale_creative",
    "max_pixels",
)
"""The `FamilyDefaults` fields a catalog entry may set for its own model, and the bot sees."""
PREVIEW_OVERRIDABLE = ("latent_rgb_factors", "latent_rgb_bias")
"""The `FamilyDefaults` fields for progress previews, which a model with a VAE of its own sets."""


class CatalogError(ValueError):
    """A catalog file that cannot be read as TOML or does not validate."""


class UnknownModelError(MemberError, ValueError):
    """A model, LoRA or style name that is not in the catalog."""

    preface = "That prompt needs a change: "


def _resolve(path: Path, info: ValidationInfo) -> Path:
    base = info.context.get("base_dir") if isinstance(info.context, Mapping) else None
    path = path.expanduser()
    return path if path.is_absolute() or base is None else Path(base) / path


LocalPath = Annotated[Path, AfterValidator(_resolve)]
"""A path; relative ones resolve against the `base_dir` validation context (the catalog's folder)."""


class _Source(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class HubSource(_Source):
    """A repository on the Hugging Face Hub (diffusers' layout for a model, transformers' for a
    captioner or classifier), pinned so every worker loads the same weights.

    Downloads go to the standard Hugging Face cache (`HF_HOME` / `HF_HUB_CACHE`); with
    `HF_HUB_OFFLINE=1` a pre-filled cache is used without any network access.
    """

    kind: Literal["hub"] = "hub"
    repo: str = Field(pattern=r"^[\w.-]+/[\w.-]+$")
    revision: str = Field(pattern=r"^\S+$")
    """A commit hash (best) or a tag."""
    variant: str | None = None
    """A weights variant such as "fp16" (smaller download, same results in half precision)."""


class FolderSource(_Source):
    """A local folder in the diffusers layout (`model_index.json` and one folder per component), or
    for a captioner or classifier in the transformers layout (`config.json` and the weights)."""

    kind: Literal["folder"] = "folder"
    path: LocalPath


def _safetensors_only(path: Path) -> Path:
    if path.suffix != ".safetensors":
        raise ValueError(f"`{path.name}` is not a .safetensors file (a .ckpt is a pickle that can run code)")
    return path


class SingleFileSource(_Source):
    """One `.safetensors` checkpoint in the original (LDM) layout, as community models come.

    `config` names the diffusers configs to build the pipeline with (a local folder or a pinned hub
    repository of the same family); without it diffusers guesses them from the checkpoint and
    fetches them from the Hub once.
    """

    kind: Literal["single_file"] = "single_file"
    path: Annotated[LocalPath, AfterValidator(_safetensors_only)]
    config: Annotated[HubSource | FolderSource, Field(discriminator="kind")] | None = None


class BuiltinSource(_Source):
    """A model that comes with the package: `shapes` (trained on simple scenes, see
    `models/shapes/model/README.md`), and random weights in each family's architecture, for fast
    tests (`tiny` for SD1.5, `tiny-flux` for FLUX.1, `tiny-sd3` for SD3, `tiny-flux2-klein`,
    `tiny-z-image` and `tiny-qwen-image`)."""

    kind: Literal["builtin"] = "builtin"
    name: Literal[
        "shapes", "tiny", "tiny-flux", "tiny-sd3", "tiny-flux2-klein", "tiny-z-image", "tiny-qwen-image"
    ]


Source = Annotated[HubSource | FolderSource | SingleFileSource | BuiltinSource, Field(discriminator="kind")]


def _weights_only(path: Path) -> Path:
    if path.suffix not in (".safetensors", ".pth"):
        raise ValueError(
            f"`{path.name}` is not a .safetensors or .pth file (a .ckpt or .pt is a pickle that can run"
            " code; a .pth is read as tensors only)"
        )
    return path


class UpscalerFileSource(_Source):
    """One super-resolution weights file, as the community ships them (`.safetensors`, or a `.pth`
    read with `torch.load(weights_only=True)`, so it cannot run code)."""

    kind: Literal["file"] = "file"
    path: Annotated[LocalPath, AfterValidator(_weights_only)]


class UpscalerHubSource(_Source):
    """One weights file in a Hugging Face Hub repository, pinned; cached as `HubSource` is."""

    kind: Literal["hub"] = "hub"
    repo: str = Field(pattern=r"^[\w.-]+/[\w.-]+$")
    revision: str = Field(pattern=r"^\S+$")
    filename: str = Field(pattern=r"^[\w./-]+\.(safetensors|pth)$")


class UpscalerBuiltinSource(_Source):
    """An upscaler that ships with the package: `shapes-2x`, trained for the `shapes` model's pictures
    (see `models/superres/shapes-2x/README.md`)."""

    kind: Literal["builtin"] = "builtin"
    name: Literal["shapes-2x"]


UpscalerSource = Annotated[
    UpscalerFileSource | UpscalerHubSource | UpscalerBuiltinSource, Field(discriminator="kind")
]


class CaptionerBuiltinSource(_Source):
    """A captioner that ships with the package: `shapes-captioner`, trained on the `shapes` model's
    scenes (see `models/captioners/shapes-captioner/README.md`)."""

    kind: Literal["builtin"] = "builtin"
    name: Literal["shapes-captioner"]


CaptionerSource = Annotated[HubSource | FolderSource | CaptionerBuiltinSource, Field(discriminator="kind")]


class AdapterBuiltinSource(_Source):
    """An image-prompt adapter that ships with the package: `shapes-ip-adapter`, trained for the
    `shapes` model (see `models/adapters/shapes-ip-adapter/README.md`)."""

    kind: Literal["builtin"] = "builtin"
    name: Literal["shapes-ip-adapter"]


AdapterSource = Annotated[HubSource | FolderSource | AdapterBuiltinSource, Field(discriminator="kind")]


class LoraHubSource(HubSource):
    """A LoRA on the Hugging Face Hub: `weight_name` picks the file when the repository holds several."""

    weight_name: str | None = Field(default=None, pattern=r"^[\w./-]+\.safetensors$")


class LoraFolderSource(FolderSource):
    """A folder holding the LoRA (`pytorch_lora_weights.safetensors`, or the file `weight_name`)."""

    weight_name: str | None = Field(default=None, pattern=r"^[\w.-]+\.safetensors$")


class LoraFileSource(_Source):
    """One `.safetensors` file, as civitai ships LoRAs (kohya's key layout or diffusers')."""

    kind: Literal["file"] = "file"
    path: Annotated[LocalPath, AfterValidator(_safetensors_only)]


LoraSource = Annotated[LoraHubSource | LoraFolderSource | LoraFileSource, Field(discriminator="kind")]


def _lowercase(name: str) -> str:
    return name.lower()


class LoraEntry(BaseModel):
    """One LoRA the workers may apply: the families it fits, its file, its trigger words and weight."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Annotated[str, AfterValidator(_lowercase), Field(pattern=LORA_NAME_PATTERN)]
    """What prompts call it (`<lora:name>`, `--lora name`), matched without regard to case."""
    families: tuple[Family, ...] = Field(min_length=1)
    source: LoraSource
    triggers: tuple[Annotated[str, Field(min_length=1, max_length=100)], ...] = ()
    """Words it was trained on; a prompt that uses the LoRA without them gets them added."""
    weight: float = Field(default=1.0, ge=-limits.LORA_WEIGHT_MAX, le=limits.LORA_WEIGHT_MAX)
    """Its weight when a prompt gives none."""
    description: str = ""

    def profile(self) -> LoraProfile:
        families = tuple(family.value for family in self.families)
        return LoraProfile(name=self.name, families=families, weight=self.weight, triggers=self.triggers)


class UpscalerEntry(BaseModel):
    """A super-resolution model (Real-ESRGAN, SwinIR, compact ESRGAN and the other architectures
    spandrel knows) that upscales finished images by `scale`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=MODEL_NAME_PATTERN)
    source: UpscalerSource
    scale: Literal[2, 3, 4, 8]
    """What its weights upscale by; loading checks the file agrees."""
    description: str = ""


class CaptionerEntry(BaseModel):
    """An image-to-text model (BLIP, GIT, Florence-2, a vision encoder-decoder: any that
    transformers' `AutoModelForImageTextToText` loads) that `/describe` writes prompts with."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=MODEL_NAME_PATTERN)
    source: CaptionerSource
    prompt: str | None = Field(default=None, min_length=1, max_length=200)
    """Text given with the image, for models that take one: Florence-2's task (`<DETAILED_CAPTION>`),
    or for BLIP a start its captions continue ("a picture of"). Needs a model with a processor."""
    description: str = ""


ADAPTER_FAMILIES = frozenset({Family.SD15, Family.SD2, Family.SD_TURBO, Family.SDXL, Family.SDXL_TURBO})
"""The families diffusers' `IPAdapterMixin.load_ip_adapter` loads an IP-Adapter into (the UNet ones)."""


class AdapterEntry(BaseModel):
    """An image-prompt adapter (IP-Adapter, in the layout diffusers' `load_ip_adapter` reads: a
    weights file with `image_proj` and `ip_adapter` keys, and a CLIP image encoder folder) that
    `--sref` and `/blend` use."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=MODEL_NAME_PATTERN)
    families: tuple[Family, ...] = Field(min_length=1)
    source: AdapterSource
    subfolder: str = Field(default="", pattern=r"^[\w./-]*$")
    """Where the weights file is in the source (`models` in h94/IP-Adapter)."""
    weight_name: str = Field(default="ip-adapter.safetensors", pattern=r"^[\w.-]+\.safetensors$")
    image_encoder: str = Field(default="image_encoder", pattern=r"^[\w./-]+$")
    """The image encoder's folder, in `subfolder` (`models/image_encoder` in h94/IP-Adapter)."""
    scale: float = Field(default=0.6, gt=0, le=limits.ADAPTER_SCALE_MAX)
    """How strongly the reference counts at `--sw 100` (the default)."""
    description: str = ""

    @model_validator(mode="after")
    def _unet_families(self) -> Self:
        others = sorted(family.value for family in self.families if family not in ADAPTER_FAMILIES)
        if others:
            raise ValueError(
                f"IP-Adapters load into {', '.join(sorted(f.value for f in ADAPTER_FAMILIES))} models;"
                f" not {', '.join(others)}"
            )
        return self


class StyleEntry(BaseModel):
    """A named preset (`--style name`): prompt text around the member's, a negative and LoRAs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=MODEL_NAME_PATTERN)
    prompt: str = Field(default="{prompt}", max_length=1000)
    """The prompt it makes, `{prompt}` standing for the member's; without `{prompt}` it is added
    after the member's, as A1111's styles are."""
    negative: str = Field(default="", max_length=1000)
    loras: tuple[LoraRequest, ...] = Field(default=(), max_length=limits.LORAS_MAX)
    description: str = ""

    def profile(self) -> StyleProfile:
        prompt = self.prompt if "{prompt}" in self.prompt else f"{{prompt}}, {self.prompt}"
        return StyleProfile(name=self.name, prompt=prompt, negative=self.negative, loras=self.loras)


class SafetyClassifier(BaseModel):
    """The NSFW check for models without a safety checker of their own: an image classifier.

    Any transformers image-classification model (loaded with `AutoModelForImageClassification` and
    `AutoImageProcessor`). An image is flagged when the probability of `labels` together reaches
    `threshold` (for a multi-label model: when one of them does).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: Annotated[HubSource | FolderSource, Field(discriminator="kind")]
    labels: tuple[Annotated[str, Field(min_length=1)], ...] = Field(min_length=1)
    """The labels that mean NSFW, spelled as in the model's `id2label`."""
    threshold: float = Field(default=0.5, gt=0, le=1)


class CatalogEntry(BaseModel):
    """One served model: its name, family, where its weights are, its own defaults, and the model
    `--draft` runs instead (`draft`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=MODEL_NAME_PATTERN)
    family: Family
    source: Source
    vae: Annotated[HubSource | FolderSource, Field(discriminator="kind")] | None = None
    """A VAE to load instead of the one `source` holds (a repository or folder with its
    `config.json` and weights), e.g. an SDXL VAE fine-tuned to decode in fp16 without upcasting."""
    description: str = ""
    draft: str | None = Field(default=None, pattern=MODEL_NAME_PATTERN)
    """Another catalog model that `--draft` runs instead, with its own defaults: a fast, few-step
    one, such as a distilled model (FLUX.1 schnell for FLUX.1 dev)."""
    upscaler: str | None = None
    """The catalog upscaler (`[[upscalers]]`) its upscales are enlarged with before the refine;
    without one, a Lanczos resize."""
    captioner: str | None = None
    """The catalog captioner (`[[captioners]]`) that `/describe` uses when this model is asked."""
    adapter: str | None = None
    """The catalog image-prompt adapter (`[[adapters]]`) its `--sref` and `/blend` use; without
    one they are refused."""
    house_style: str | None = None
    """The catalog style (`[[styles]]`) every prompt on this model gets unless it names one, at
    `--s`'s strength; `--raw` leaves it out (see `jobs.stylize`)."""
    hd_width: int | None = Field(default=None, gt=0)
    hd_height: int | None = Field(default=None, gt=0)
    """The size `--hd` draws at (both or neither), within `max_pixels`; `--ar` reshapes it."""
    safety_checker: Literal["auto", "classifier"] = "auto"
    """Which NSFW check a job that asks for one gets: "auto" is the model's own safety checker when it
    ships one (`safety_checker/` and `feature_extractor/`, as SD1.5 repositories do), else the
    catalog's `safety_classifier`; "classifier" is always the catalog's classifier."""
    # Overrides of the family's defaults (see OVERRIDABLE); None keeps the family's value. They
    # are checked together with the family's values, so constraints live in FamilyDefaults only.
    native_width: int | None = None
    native_height: int | None = None
    size_multiple: int | None = None
    steps: int | None = None
    guidance: float | None = None
    sampler: str | None = None
    vary_subtle: float | None = None
    vary_strong: float | None = None
    upscale_denoise: float | None = None
    upscale_creative: float | None = None
    max_pixels: int | None = None
    latent_rgb_factors: tuple[RGB, ...] | None = None
    latent_rgb_bias: RGB | None = None

    @model_validator(mode="after")
    def _overrides_fit(self) -> Self:
        merged = self._merged()
        try:
            FamilyDefaults.model_validate(merged)
        except ValidationError as exc:
            raise ValueError(_describe(exc.errors(), merged)) from None
        return self

    @model_validator(mode="after")
    def _hd_fits(self) -> Self:
        if (self.hd_width is None) != (self.hd_height is None):
            raise ValueError(f"model `{self.name}` needs both `hd_width` and `hd_height`, or neither")
        most = self.defaults().max_pixels
        if self.hd_width and self.hd_height and self.hd_width * self.hd_height > most:
            raise ValueError(
                f"model `{self.name}`'s HD size {self.hd_width}×{self.hd_height} is over its"
                f" `max_pixels` ({most})"
            )
        return self

    def _merged(self) -> dict[str, Any]:
        fields = (*OVERRIDABLE, *PREVIEW_OVERRIDABLE)
        overrides = {field: getattr(self, field) for field in fields if getattr(self, field) is not None}
        return FAMILY_DEFAULTS[self.family].model_dump() | overrides

    def defaults(self) -> FamilyDefaults:
        """The family's defaults with this entry's overrides applied."""
        return FamilyDefaults.model_validate(self._merged())

    def profile(self) -> ModelProfile:
        """What the bot and the job contract need to know about this model."""
        defaults = self.defaults().model_dump(include={*OVERRIDABLE, "samplers"})
        hd_size = (self.hd_width, self.hd_height) if self.hd_width and self.hd_height else None
        return ModelProfile(
            name=self.name,
            family=self.family.value,
            draft=self.draft,
            adapter=self.adapter,
            house_style=self.house_style,
            hd_size=hd_size,
            **defaults,
        )


class Catalog(BaseModel):
    """The models a deployment serves, one of them the default."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    default: str
    models: tuple[CatalogEntry, ...]
    safety_classifier: SafetyClassifier | None = None
    """Checks the images of every model that has no safety checker of its own (see `CatalogEntry`)."""
    loras: tuple[LoraEntry, ...] = ()
    styles: tuple[StyleEntry, ...] = ()
    upscalers: tuple[UpscalerEntry, ...] = ()
    captioners: tuple[CaptionerEntry, ...] = ()
    adapters: tuple[AdapterEntry, ...] = ()

    @model_validator(mode="after")
    def _names_fit(self) -> Self:
        names = self.names
        if not names:
            raise ValueError("a catalog needs at least one model in `models`")
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"model names must be unique; repeated: {', '.join(repeated)}")
        if self.default not in names:
            raise ValueError(f"default `{self.default}` is not one of the models: {', '.join(names)}")
        wanting = [entry.name for entry in self.models if entry.safety_checker == "classifier"]
        if wanting and self.safety_classifier is None:
            raise ValueError(
                f'a model with `safety_checker = "classifier"` needs a `[safety_classifier]` table;'
                f" it is missing for {', '.join(wanting)}"
            )
        return self

    @model_validator(mode="after")
    def _drafts_exist(self) -> Self:
        for entry in self.models:
            for field, kind, wanted, names in (
                ("upscaler", "upscaler", entry.upscaler, self.upscaler_names),
                ("captioner", "captioner", entry.captioner, self.captioner_names),
                ("adapter", "adapter", entry.adapter, self.adapter_names),
                ("house_style", "style", entry.house_style, self.style_names),
            ):
                if wanted is not None and wanted not in names:
                    served = ", ".join(names) or f"none in `[[{kind}s]]`"
                    raise ValueError(
                        f'model `{entry.name}` has `{field} = "{wanted}"`, which is not one of the'
                        f" {kind}s: {served}"
                    )
            if (
                entry.adapter in self.adapter_names
                and entry.family not in self.adapter(entry.adapter).families
            ):
                raise ValueError(
                    f'model `{entry.name}` has `adapter = "{entry.adapter}"`, which is not made for the'
                    f" {entry.family.value} family"
                )
            if entry.draft == entry.name:
                raise ValueError(f"model `{entry.name}` names itself as its `draft`: name another model")
            if entry.draft is not None and entry.draft not in self.names:
                raise ValueError(
                    f'model `{entry.name}` has `draft = "{entry.draft}"`, which is not one of the models:'
                    f" {', '.join(self.names)}"
                )
        return self

    @model_validator(mode="after")
    def _adapters_fit(self) -> Self:
        kinds = (
            ("LoRA", self.lora_names),
            ("style", self.style_names),
            ("upscaler", self.upscaler_names),
            ("captioner", self.captioner_names),
            ("adapter", self.adapter_names),
        )
        for kind, names in kinds:
            repeated = sorted({name for name in names if names.count(name) > 1})
            if repeated:
                raise ValueError(f"{kind} names must be unique; repeated: {', '.join(repeated)}")
        for style in self.styles:
            for lora in style.loras:
                if lora.name not in self.lora_names:
                    raise ValueError(
                        f"style `{style.name}` uses the LoRA `{lora.name}`, which is not one of the loras:"
                        f" {', '.join(self.lora_names) or 'none'}"
                    )
        return self

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(entry.name for entry in self.models)

    @property
    def lora_names(self) -> tuple[str, ...]:
        return tuple(entry.name for entry in self.loras)

    @property
    def style_names(self) -> tuple[str, ...]:
        return tuple(entry.name for entry in self.styles)

    @property
    def upscaler_names(self) -> tuple[str, ...]:
        return tuple(entry.name for entry in self.upscalers)

    def upscaler(self, name: str) -> UpscalerEntry:
        """The upscaler called `name`."""
        for entry in self.upscalers:
            if entry.name == name:
                return entry
        served = ", ".join(f"`{name}`" for name in self.upscaler_names) or "none"
        raise UnknownModelError(f"There is no upscaler `{name}`. Available: {served}")

    @property
    def captioner_names(self) -> tuple[str, ...]:
        return tuple(entry.name for entry in self.captioners)

    def captioner(self, name: str) -> CaptionerEntry:
        """The captioner called `name`."""
        for entry in self.captioners:
            if entry.name == name:
                return entry
        served = ", ".join(f"`{name}`" for name in self.captioner_names) or "none"
        raise UnknownModelError(f"There is no captioner `{name}`. Available: {served}")

    @property
    def adapter_names(self) -> tuple[str, ...]:
        return tuple(entry.name for entry in self.adapters)

    def adapter(self, name: str) -> AdapterEntry:
        """The image-prompt adapter called `name`."""
        for entry in self.adapters:
            if entry.name == name:
                return entry
        served = ", ".join(f"`{name}`" for name in self.adapter_names) or "none"
        raise UnknownModelError(f"There is no adapter `{name}`. Available: {served}")

    def lora(self, name: str) -> LoraEntry:
        """The LoRA called `name` (any case)."""
        for entry in self.loras:
            if entry.name == name.lower():
                return entry
        served = ", ".join(f"`{name}`" for name in self.lora_names) or "none"
        raise UnknownModelError(f"There is no LoRA `{name}`. Available: {served}")

    def lora_profile(self, name: str) -> LoraProfile:
        return self.lora(name).profile()

    def style_profile(self, name: str) -> StyleProfile:
        for entry in self.styles:
            if entry.name == name.lower():
                return entry.profile()
        served = ", ".join(f"`{name}`" for name in self.style_names) or "none"
        raise UnknownModelError(f"There is no style `{name}`. Available: {served}")

    def get(self, name: str | None = None) -> CatalogEntry:
        """The entry called `name`, or the default one when `name` is None."""
        wanted = self.default if name is None else name
        for entry in self.models:
            if entry.name == wanted:
                return entry
        raise UnknownModelError(f"There is no model `{wanted}`. Available: {', '.join(self.names)}")

    def profile(self, name: str | None = None) -> ModelProfile:
        """The profile of the model called `name`, or of the default one when `name` is None."""
        return self.get(name).profile()

    def captioning_model(self, name: str | None = None, among: Sequence[str] = ()) -> str:
        """The model whose captioner describes images: `name`, else the default model if it has
        one, else the first that does; only those `among` when some are given."""
        if name is not None:
            if self.get(name).captioner is None:
                raise UnknownModelError(f"The model `{name}` has no captioner in the catalog.")
            return name
        for entry in (self.get(), *self.models):
            if entry.captioner is not None and (not among or entry.name in among):
                return entry.name
        raise UnknownModelError("No model in the catalog has a captioner: describing needs one.")


def load_catalog(path: Path | None = None) -> Catalog:
    """Read and validate a catalog file; None reads the built-in default catalog."""
    path = DEFAULT_CATALOG if path is None else path
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{path}: not valid TOML: {exc}") from None
    try:
        return Catalog.model_validate(data, context={"base_dir": path.resolve().parent})
    except ValidationError as exc:
        raise CatalogError(f"{path}: {_describe(exc.errors(), data)}") from None


def _describe(errors: Sequence[ErrorDetails], data: Any) -> str:
    """All errors on one line, each naming the field as the file spells it (`models[1].source.revision`)."""
    return "; ".join(f"{_where(error, data)}{_message(error)}" for error in errors)


def _message(error: ErrorDetails) -> str:
    # Our own validators' messages, without pydantic's "Value error, " prefix.
    if error["type"] == "value_error" and "ctx" in error:
        return str(error["ctx"]["error"])
    return error["msg"]


_ENTRY_KINDS = {
    "models": "model",
    "loras": "LoRA",
    "styles": "style",
    "upscalers": "upscaler",
    "captioners": "captioner",
    "adapters": "adapter",
}


def _where(error: ErrorDetails, data: Any) -> str:
    # pydantic's locations also hold union tags ("hub") and model names that are not keys of the
    # file; walk the data and keep only the parts that are (and a missing field's own name).
    where, node, named = "", data, ""
    loc = error["loc"]
    entry = _ENTRY_KINDS.get(str(loc[0]), "entry") if loc else "entry"
    for i, part in enumerate(loc):
        if isinstance(part, int) and isinstance(node, list) and part < len(node):
            where, node = f"{where}[{part}]", node[part]
            if isinstance(node, Mapping) and isinstance(node.get("name"), str):
                named = f" ({entry} `{node['name']}`)"
        elif isinstance(part, str) and isinstance(node, Mapping) and part in node:
            where, node = f"{where}.{part}" if where else part, node[part]
        elif i == len(loc) - 1 and error["type"] == "missing":
            where = f"{where}.{part}" if where else str(part)
    return f"{where}{named}: " if where else ""
