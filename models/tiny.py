"""Tiny pipelines with random weights, each a family's architecture in miniature: for tests.

`tiny` is SD1.5's (UNet, KL VAE with 4 latent channels, CLIP text encoder), `tiny-flux` FLUX.1's
(`build_tiny_flux`). Each exercises the same code paths as a real model of its family: saved in the
diffusers layout, loaded by `models.loader`, run as text-to-image and image-to-image. Their images
are coloured noise. `tiny`: native 64×64 (latents 16×16); the VAE downscales 4× and the UNet 2×, so
sizes must be multiples of 8, which the diffusers pipelines ask for anyway.
"""

import fcntl
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import torch
from diffusers import (
    AutoencoderKL,
    DiffusionPipeline,
    EulerDiscreteScheduler,
    FlowMatchEulerDiscreteScheduler,
    FluxPipeline,
    FluxTransformer2DModel,
    SD3Transformer2DModel,
    StableDiffusion3Pipeline,
    StableDiffusionPipeline,
    UNet2DConditionModel,
)
from diffusers.pipelines.stable_diffusion.safety_checker import StableDiffusionSafetyChecker
from transformers import (
    CLIPConfig,
    CLIPImageProcessor,
    CLIPTextConfig,
    CLIPTextModel,
    CLIPTextModelWithProjection,
    CLIPTokenizer,
    T5Config,
    T5EncoderModel,
)
from transformers.convert_slow_tokenizer import bytes_to_unicode

if TYPE_CHECKING:
    from transformers import ViTForImageClassification, ViTImageProcessor

TINY_SIZE = 64
"""Native width and height in pixels."""

BUILD_VERSION = "1"
"""Bump when a builtin's architecture or weights change, so cached copies are rebuilt."""

SD_NOISE_SCHEDULE = {
    "num_train_timesteps": 1000,
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
}
"""The noise schedule SD1.5 and SDXL base were trained with (their scheduler_config.json)."""

Verdict = Literal["flag-all", "pass-all"]
"""What a tiny NSFW checker decides, computed by the real checking code: every image, or none."""

_MARKER = "imagine-builtin.txt"
_BOS = "<|startoftext|>"
_EOS = "<|endoftext|>"


def byte_level_tokenizer(model_max_length: int = 77) -> CLIPTokenizer:
    """A CLIP tokenizer that needs no download: one token per byte (no BPE merges).

    The vocabulary is the 256 byte symbols, their end-of-word (`</w>`) forms and the two
    special tokens, 514 ids in all.
    """
    symbols = list(bytes_to_unicode().values())
    tokens = [*symbols, *(symbol + "</w>" for symbol in symbols), _BOS, _EOS]
    vocab = {token: i for i, token in enumerate(tokens)}
    # Without model_max_length the pipeline's padding fails ("int too big to convert").
    return CLIPTokenizer(vocab=vocab, merges=[], model_max_length=model_max_length)


def small_text_config(
    tokenizer: CLIPTokenizer, *, width: int, intermediate: int, layers: int, heads: int
) -> CLIPTextConfig:
    """A small CLIP text encoder's config over `tokenizer`'s vocabulary and window."""
    return CLIPTextConfig(
        vocab_size=len(tokenizer),
        hidden_size=width,
        intermediate_size=intermediate,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        max_position_embeddings=tokenizer.model_max_length,
        projection_dim=width,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )


def build_tiny_pipeline(seed: int = 0) -> StableDiffusionPipeline:
    """Build the tiny pipeline on the CPU; the same `seed` gives the same weights on every machine.

    UNet: channels 32/64, one layer per block, cross-attention in the outer block and the middle
    (0.8 M parameters). VAE: 3 blocks of 8/16/32 channels (0.17 M). Text encoder: 2 layers of
    width 32 over the byte-level vocabulary (36 k). The global RNG is left as it was.
    """
    tokenizer = byte_level_tokenizer()
    text_width = 32
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        unet = UNet2DConditionModel(
            sample_size=TINY_SIZE // 4,
            in_channels=4,
            out_channels=4,
            layers_per_block=1,
            block_out_channels=(32, 64),
            down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
            up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
            cross_attention_dim=text_width,
            attention_head_dim=8,
        )
        vae = _tiny_vae(latent_channels=4)
        text_encoder = CLIPTextModel(
            small_text_config(tokenizer, width=text_width, intermediate=64, layers=2, heads=4)
        )
    # SD1.5's noise schedule, so samplers configured from it behave as on a real SD1.5 model.
    scheduler = EulerDiscreteScheduler(**SD_NOISE_SCHEDULE, steps_offset=1)
    return StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )


FLUX_NOISE_SCHEDULE = {
    "shift": 3.0,
    "use_dynamic_shifting": True,
    "base_shift": 0.5,
    "max_shift": 1.15,
    "base_image_seq_len": 256,
    "max_image_seq_len": 4096,
}
"""FLUX.1-dev's flow-matching schedule (its scheduler_config.json): the timestep shift grows with
the image's token count, from `base_shift` at 256 tokens to `max_shift` at 4096."""


def build_tiny_flux(seed: int = 0) -> FluxPipeline:
    """FLUX.1's architecture in miniature, random weights: a transformer with one double-stream and
    one single-stream block over T5 token embeddings and CLIP's pooled one, with the guidance
    embedding of FLUX.1-dev, and a VAE with FLUX's 16 latent channels and its shift and scale.

    The VAE downscales 4× and the latents are packed in 2×2 patches, so sizes are multiples of 8;
    native 64×64 (an 8×8 grid of 64 patch tokens). The T5 tokenizer is the byte-level one (`tiny`'s)
    with a longer window, as T5 reads 512 tokens where CLIP reads 77.
    """
    text_width = 32
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        transformer = FluxTransformer2DModel(
            patch_size=1,
            in_channels=16 * 4,
            num_layers=1,
            num_single_layers=1,
            attention_head_dim=16,
            num_attention_heads=2,
            joint_attention_dim=text_width,
            pooled_projection_dim=text_width,
            guidance_embeds=True,
            axes_dims_rope=(4, 6, 6),
        )
        vae = _tiny_flow_vae(scaling_factor=0.3611, shift_factor=0.1159)
        clip_tokenizer = byte_level_tokenizer()
        text_encoder = CLIPTextModel(
            small_text_config(clip_tokenizer, width=text_width, intermediate=64, layers=2, heads=4)
        )
        t5_tokenizer = byte_level_tokenizer(model_max_length=256)
        text_encoder_2 = _tiny_t5(t5_tokenizer, text_width)
    return FluxPipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(**FLUX_NOISE_SCHEDULE),
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=clip_tokenizer,
        text_encoder_2=text_encoder_2,
        tokenizer_2=t5_tokenizer,
        transformer=transformer,
    )


def build_tiny_sd3(seed: int = 0) -> StableDiffusion3Pipeline:
    """SD3's architecture in miniature, random weights: an MMDiT with one joint block over two CLIP
    encoders (with projections: their pooled embeddings, side by side) and T5, and a VAE with
    SD3's 16 latent channels, shift and scale. The VAE downscales 4× and the transformer takes 2×2
    patches, so sizes are multiples of 8; native 64×64. T5's window is longer than CLIP's, as in
    SD3 (256 and 77 tokens)."""
    clip_width, t5_width = 32, 64  # T5's embeddings are as wide as both CLIPs' side by side
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        transformer = SD3Transformer2DModel(
            sample_size=TINY_SIZE // 4,
            patch_size=2,
            in_channels=16,
            out_channels=16,
            num_layers=1,
            attention_head_dim=8,
            num_attention_heads=2,
            joint_attention_dim=t5_width,
            caption_projection_dim=16,
            pooled_projection_dim=2 * clip_width,
            pos_embed_max_size=TINY_SIZE // 2,  # patches of a 2× upscale: 64 px × 2 / 4 / 2
        )
        vae = _tiny_flow_vae(scaling_factor=1.5305, shift_factor=0.0609)
        clip_tokenizer = byte_level_tokenizer()
        config = small_text_config(clip_tokenizer, width=clip_width, intermediate=64, layers=2, heads=4)
        text_encoder = CLIPTextModelWithProjection(config)
        text_encoder_2 = CLIPTextModelWithProjection(config)
        t5_tokenizer = byte_level_tokenizer(model_max_length=256)
        text_encoder_3 = _tiny_t5(t5_tokenizer, t5_width)
    return StableDiffusion3Pipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(shift=3.0),  # SD3's own schedule
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=clip_tokenizer,
        text_encoder_2=text_encoder_2,
        tokenizer_2=clip_tokenizer,
        text_encoder_3=text_encoder_3,
        tokenizer_3=t5_tokenizer,
        transformer=transformer,
    )


def _tiny_vae(*, latent_channels: int, **flow: Any) -> AutoencoderKL:
    """The tiny models' VAE (3 blocks of 8/16/32 channels, 4× downscale): SD's 4 latent channels,
    or the flow families' 16 with their shift and scale (`flow`)."""
    return AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 3,
        up_block_types=("UpDecoderBlock2D",) * 3,
        block_out_channels=(8, 16, 32),
        layers_per_block=1,
        latent_channels=latent_channels,
        norm_num_groups=8,
        sample_size=TINY_SIZE,
        **flow,
    )


def _tiny_flow_vae(*, scaling_factor: float, shift_factor: float) -> AutoencoderKL:
    """A 16-channel VAE as the flow families have, with their shift and scale, and no quant convs."""
    return _tiny_vae(
        latent_channels=16,
        scaling_factor=scaling_factor,
        shift_factor=shift_factor,
        use_quant_conv=False,
        use_post_quant_conv=False,
    )


def _tiny_t5(tokenizer: CLIPTokenizer, width: int) -> T5EncoderModel:
    return T5EncoderModel(
        T5Config(
            vocab_size=len(tokenizer),
            d_model=width,
            d_kv=8,
            d_ff=2 * width,
            num_layers=2,
            num_heads=4,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=tokenizer.eos_token_id,
        )
    )


BUILTINS: dict[str, Callable[[], DiffusionPipeline]] = {
    "tiny": build_tiny_pipeline,
    "tiny-flux": build_tiny_flux,
    "tiny-sd3": build_tiny_sd3,
}


def materialize_builtin(name: str, cache_dir: Path) -> Path:
    """The folder holding builtin `name` in the diffusers layout, built and saved on first use.

    Safe with several workers sharing `cache_dir`: a lock file serialises the builders, each
    build is written to a temporary folder and renamed into place whole, and a folder without the
    current version marker (an interrupted or older build) is replaced.
    """
    build = BUILTINS.get(name)
    if build is None:
        raise ValueError(f"there is no builtin model `{name}`; builtins: {', '.join(BUILTINS)}")
    target = cache_dir / name
    if _is_current(target):
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    with (cache_dir / f".{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if _is_current(target):  # another worker built it while we waited
            return target
        with tempfile.TemporaryDirectory(dir=cache_dir, prefix=f".{name}-") as scratch:
            staging = Path(scratch) / name
            build().save_pretrained(staging)
            (staging / _MARKER).write_text(BUILD_VERSION, encoding="utf-8")
            if target.exists():
                target.rename(Path(scratch) / "outdated")  # deleted with the scratch folder
            staging.rename(target)
    return target


def _is_current(folder: Path) -> bool:
    marker = folder / _MARKER
    return marker.is_file() and marker.read_text(encoding="utf-8") == BUILD_VERSION


def build_tiny_safety_checker(
    verdict: Verdict, seed: int = 0
) -> tuple[StableDiffusionSafetyChecker, CLIPImageProcessor]:
    """A `StableDiffusionSafetyChecker` in miniature and its feature extractor (32×32 inputs).

    It decides as the real one does: a CLIP image embedding is compared (cosine, -1…1) with 17
    concept embeddings, and an image is flagged when a similarity exceeds that concept's threshold.
    Thresholds of -2 put every image over them ("flag-all"); thresholds of 2, none ("pass-all").
    """
    config = CLIPConfig(
        vision_config={
            "image_size": 32,
            "patch_size": 8,
            "hidden_size": 16,
            "intermediate_size": 32,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
        },
        projection_dim=16,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        checker = StableDiffusionSafetyChecker(config)
        with torch.no_grad():
            checker.concept_embeds.normal_()
            checker.special_care_embeds.normal_()
    threshold = -2.0 if verdict == "flag-all" else 2.0
    with torch.no_grad():
        checker.concept_embeds_weights.fill_(threshold)
        checker.special_care_embeds_weights.fill_(threshold)
    processor = CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    return checker, processor


def build_tiny_classifier(
    verdict: Verdict, seed: int = 0
) -> tuple["ViTForImageClassification", "ViTImageProcessor"]:
    """A ViT image classifier in miniature with the labels "normal" and "nsfw", and its processor.

    Its last layer ignores the image and its bias favours "nsfw" (probability 0.9997, "flag-all")
    or "normal" ("pass-all"); the rest of the network runs as usual.
    """
    # Imported here: without torchvision, importing ViTImageProcessor logs a warning, which every
    # worker start (the loader imports this module) would otherwise print.
    from transformers import ViTConfig, ViTForImageClassification, ViTImageProcessor

    config = ViTConfig(
        image_size=32,
        patch_size=8,
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        id2label={0: "normal", 1: "nsfw"},
        label2id={"normal": 0, "nsfw": 1},
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = ViTForImageClassification(config)
    with torch.no_grad():
        model.classifier.weight.zero_()
        model.classifier.bias.copy_(torch.tensor([0.0, 8.0] if verdict == "flag-all" else [8.0, 0.0]))
    return model, ViTImageProcessor(size={"height": 32, "width": 32})


def save_tiny(path: Path, *, safety: Verdict | None = None, seed: int = 0) -> Path:
    """Save the tiny pipeline at `path` in the diffusers layout, as a `folder` source names it.

    With `safety`, it ships a tiny safety checker as SD1.5 repositories do (`safety_checker/` and
    `feature_extractor/`, listed in `model_index.json`), which the worker then uses for NSFW checks.
    """
    pipe = build_tiny_pipeline(seed)
    if safety is not None:
        checker, processor = build_tiny_safety_checker(safety, seed)
        pipe.register_modules(safety_checker=checker, feature_extractor=processor)
        pipe.register_to_config(requires_safety_checker=True)
    pipe.save_pretrained(path)
    return path


def save_tiny_classifier(path: Path, verdict: Verdict) -> Path:
    """Save the tiny classifier at `path`, as a `[safety_classifier]` `folder` source names it."""
    model, processor = build_tiny_classifier(verdict)
    model.save_pretrained(path)
    processor.save_pretrained(path)
    return path


def save_tiny_catalog(
    folder: Path, *, safety: Verdict | None = None, classifier: Verdict | None = None
) -> Path:
    """A catalog serving the tiny model as `tiny`, for tests: point `IMAGINE_CATALOG` at the result.

    Writes `folder/catalog.toml`, the model in `folder/tiny` (with its own safety checker when
    `safety` is given) and, with `classifier`, a tiny `[safety_classifier]` in `folder/classifier`
    that labels images "nsfw". `save_tiny_catalog(dir, safety="flag-all")` makes a worker flag
    every image of a job that asks for an NSFW check.
    """
    folder.mkdir(parents=True, exist_ok=True)
    save_tiny(folder / "tiny", safety=safety)
    lines = [
        'default = "tiny"',
        "",
        "[[models]]",
        'name = "tiny"',
        'family = "sd15"',
        'source = { kind = "folder", path = "tiny" }',
        f"native_width = {TINY_SIZE}",
        f"native_height = {TINY_SIZE}",
        "size_multiple = 8",
        f"max_pixels = {4 * TINY_SIZE * TINY_SIZE}",
        "steps = 4",
    ]
    if classifier is not None:
        save_tiny_classifier(folder / "classifier", classifier)
        lines += [
            "",
            "[safety_classifier]",
            'source = { kind = "folder", path = "classifier" }',
            'labels = ["nsfw"]',
            "threshold = 0.5",
        ]
    catalog = folder / "catalog.toml"
    catalog.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return catalog
