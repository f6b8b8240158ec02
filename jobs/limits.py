"""Bounds on what a prompt may ask for, shared by the parser, the bot and the worker."""

from typing import Final

MAX_PROMPT_CHARS: Final = 4000
"""Longest prompt text accepted, parameters included (Discord's option limit is 6000)."""

MAX_PROMPT_PARTS: Final = (MAX_PROMPT_CHARS + 2) // 3
"""Most `::` parts a prompt can hold: `a::a::a…` within MAX_PROMPT_CHARS."""
MAX_WARNINGS: Final = 16
MAX_WARNING_CHARS: Final = 300
"""Bounds on the notes a spec carries into its result (the bot shows them under the grid)."""
MAX_REQUESTER_CHARS: Final = 100
"""Longest `requested_by`: a Discord user id (20 digits at most), or a local or API user's name."""

SEED_MAX: Final = 4_294_967_295
STEPS_MIN: Final = 1
STEPS_MAX: Final = 150
GUIDANCE_MIN: Final = 0.0
GUIDANCE_MAX: Final = 30.0
CHAOS_MAX: Final = 100
STOP_MIN: Final = 10
STOP_MAX: Final = 100
"""`--stop`: the percentage of the denoising steps run before the images are decoded."""
REPEAT_MAX: Final = 40
"""Most grids one `--repeat` may ask for (Midjourney's own cap)."""
PROMPT_JOBS_MAX: Final = 40
"""Most jobs one prompt may make: its `{…}` combinations, each times its `--repeat`."""
BRACES_DEPTH_MAX: Final = 3
"""How deep `{…}` groups may nest inside one another's options."""
QUALITY_CHOICES: Final = (0.25, 0.5, 1.0, 2.0, 4.0)
"""`--q`, as Midjourney takes it: the model's sampling steps times this."""
STYLIZE_MAX: Final = 1000
STYLIZE_DEFAULT: Final = 100
"""`--s`, as Midjourney reads it: how strongly the house style applies (see `jobs.stylize`)."""
WEIRD_MAX: Final = 3000
"""`--w`, as Midjourney reads it: how far the prompt's embedding is pushed somewhere unusual."""
MIDJOURNEY_VERSION_MAX: Final = 8
"""The newest `--v` Midjourney has (`--v 8`); any version from 1 up to it is noted."""
ASPECT_MAX_RATIO: Final = 4.0
"""Widest (and, inverted, tallest) aspect ratio: 4:1 to 1:4."""
ASPECT_TERM_MAX: Final = 10_000
WEIGHT_MAX: Final = 1000.0
"""Largest absolute `::` multi-prompt weight."""
EMPHASIS_MAX: Final = 3.0
"""Largest A1111 emphasis weight, `(word:3)`; beyond about 2 the images break down anyway."""
LORAS_MAX: Final = 8
"""Most LoRAs one job may use (a server may allow fewer)."""
LORA_WEIGHT_MAX: Final = 4.0
"""Largest absolute LoRA weight, `<lora:name:-1.5>` to `<lora:name:4>`."""

UNET_SAMPLERS: Final = (
    "euler",
    "euler_a",
    "heun",
    "lms",
    "ddim",
    "pndm",
    "dpm++2m",
    "dpm++2m_karras",
    "dpm++sde",
    "unipc",
)
"""The samplers of the ε- and v-prediction families (SD1.5, SD2, SDXL and their turbo models)."""
FLOW_SAMPLERS: Final = ("flow_euler",)
"""The samplers of the flow-matching families (FLUX, SD3)."""
SAMPLERS: Final = UNET_SAMPLERS + FLOW_SAMPLERS
"""Sampler names members may pass to `--sampler`; the worker maps each to a diffusers scheduler,
and each model's family says which of them it can run."""

ZOOM_MIN: Final = 1.0
ZOOM_MAX: Final = 2.0
"""Zoom Out's factor (Custom Zoom): Midjourney's 2× and 1.5× and anything between 1 and 2."""
PAN_GROWTH: Final = 0.5
"""A pan extends the image by half its side in the direction panned."""
REGION_CELLS: Final = 9
"""Vary (Region) picks cells of a 3 × 3 grid over the image."""

GRID_IMAGES: Final = 4
UPLOAD_LIMIT_BYTES: Final = 10 * 1024 * 1024
"""Discord's default per-file upload limit: grids larger than this as PNG are sent as WebP."""

IMAGE_PROMPTS_MAX: Final = 5
"""Most images one prompt may start from: attachments and links together (`/blend` takes 2-5)."""
IMAGE_WEIGHT_MAX: Final = 3.0
IMAGE_WEIGHT_DEFAULT: Final = 1.0
"""`--iw`: how much the image prompts count, 0-3 as in Midjourney, 1 unless given."""
UPLOAD_STORED_SIDE: Final = 2048
"""The longest side a member's image is stored at (the bot shrinks larger ones): the worker refuses
a stored image with more pixels than a square of it."""
DESCRIBE_PROMPTS: Final = 4
"""Prompts `/describe` writes for one image."""
STYLE_WEIGHT_MAX: Final = 1000
STYLE_WEIGHT_DEFAULT: Final = 100
"""`--sw`: how strongly the style references count, 0-1000 as in Midjourney, 100 unless given."""
REFERENCE_WEIGHT_MAX: Final = 100.0
"""`--sref <link>::2`: one reference's share against the others' (relative, as in Midjourney)."""
ADAPTER_SCALE_MAX: Final = 2.0
"""The strongest an image-prompt adapter is applied, whatever `--sw` asks (past it images break)."""
BLEND_MIN: Final = 2
"""`/blend` takes 2 to IMAGE_PROMPTS_MAX images."""
UPLOADS_MAX: Final = 2 * IMAGE_PROMPTS_MAX
"""Most images one request stores: its image prompts and its style references."""
