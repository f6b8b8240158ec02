"""Turning what a member asked for into fully resolved job specs."""

import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from jobs import limits
from jobs.canvas import CanvasError, Size, pan_size, square_size
from jobs.errors import MemberError
from jobs.lanes import Lane
from jobs.loras import styled, with_loras
from jobs.profile import ModelProfile, Profiles
from jobs.prompt import ParsedPrompt, PromptError, PromptPart, Unused, is_link, prompt_text, unused_note
from jobs.references import Reference
from jobs.sizing import size_for_aspect
from jobs.specs import (
    BlendSpec,
    DescribeSpec,
    Direction,
    Generation,
    ImageRef,
    ImageSpec,
    ImagineSpec,
    InpaintSpec,
    JobSpec,
    LoraUse,
    PanSpec,
    RegionSpec,
    RerollSpec,
    SquareSpec,
    Strength,
    UploadRef,
    UpscaleSpec,
    VarySpec,
    ZoomSpec,
)
from jobs.stylize import house_styled
from jobs.values import format_number

_Edit = TypeVar("_Edit", ZoomSpec, PanSpec, SquareSpec, RegionSpec)


class ResolveError(MemberError, ValueError):
    """A follow-up that cannot be made from its source; the message is safe to show."""


def new_job_id() -> str:
    return uuid.uuid4().hex


def random_seed() -> int:
    return secrets.randbelow(limits.SEED_MAX + 1)


ProfileLookup = Callable[[str | None], ModelProfile]
"""A catalog model's profile by name; None for the catalog's default model."""


def generation_for(
    parsed: ParsedPrompt, profile: ModelProfile, loras: tuple[LoraUse, ...] = ()
) -> Generation:
    """The sampling parameters for `parsed` on `profile`'s model, with its defaults filled in, and
    `loras` (see `jobs.loras.with_loras`).

    With `--draft`, `profile` is the draft model's, and its own steps, guidance and sampler are
    used whatever the prompt asks (see `draft_unused`)."""
    width, height = size_for_aspect(parsed.aspect, _base_size(parsed, profile), profile.size_multiple)
    if parsed.draft:
        steps, guidance, sampler = profile.steps, profile.guidance, profile.sampler
    else:
        # `--q 4` of `--steps 150` would be 600: a job runs at most twice the most a prompt may ask.
        steps = min(
            2 * limits.STEPS_MAX,
            max(limits.STEPS_MIN, round((parsed.steps or profile.steps) * parsed.quality)),
        )
        guidance = profile.guidance if parsed.guidance is None else parsed.guidance
        sampler = _sampler(parsed, profile)
    return Generation(
        model=profile.name,
        prompt=parsed.parts,
        negative=parsed.negative or "",
        width=width,
        height=height,
        steps=steps,
        guidance=guidance,
        sampler=sampler,
        seed=random_seed() if parsed.seed is None else parsed.seed,
        chaos=parsed.chaos,
        weird=parsed.weird,
        tile=parsed.tile,
        stop=parsed.stop,
        loras=loras,
    )


def _base_size(parsed: ParsedPrompt, profile: ModelProfile) -> Size:
    """The size `--ar` reshapes: the catalog's HD size for `--hd` where it names one, else the native."""
    if parsed.size_preset == "hd" and profile.hd_size is not None:
        return profile.hd_size
    return profile.native_width, profile.native_height


def _size_unused(parsed: ParsedPrompt, profile: ModelProfile) -> tuple[Unused, ...]:
    if parsed.size_preset == "hd" and profile.hd_size is None:
        return (("--hd", f"the catalog names no HD size for `{profile.name}`"),)
    return ()


def profile_for(parsed: ParsedPrompt, profiles: ProfileLookup) -> ModelProfile:
    """The profile a prompt runs on: its model's, or with `--draft` that model's draft model's."""
    profile = profiles(parsed.model)
    if not parsed.draft:
        return profile
    if profile.draft is None:
        raise PromptError(
            f"`{profile.name}` has no draft model: the catalog names none for it. Leave out `--draft`,"
            " or ask the server's admin to name one",
            flag="--draft",
        )
    return profiles(profile.draft)


def draft_unused(parsed: ParsedPrompt) -> tuple[Unused, ...]:
    """What `--draft` left unused of the prompt: it runs the draft model's own steps, guidance and sampler."""
    given = {
        "--steps": parsed.steps is not None,
        "--q": parsed.quality != 1,
        "--cfg": parsed.guidance is not None,
        "--sampler": parsed.sampler is not None,
    }
    why = "`--draft` runs the draft model's own steps, guidance and sampler"
    return tuple((flag, why) for flag, set_ in given.items() if set_ and parsed.draft)


def _sampler(parsed: ParsedPrompt, profile: ModelProfile) -> str:
    if parsed.sampler is None:
        return profile.sampler
    if parsed.sampler not in profile.samplers:
        raise PromptError(
            f"`--sampler {parsed.sampler}` isn't one `{profile.name}` can run: use"
            f" {', '.join(f'`{name}`' for name in profile.samplers)}",
            flag="--sampler",
            value=parsed.sampler,
        )
    return parsed.sampler


def imagine_spec(
    parsed: ParsedPrompt,
    profile: ModelProfile,
    *,
    requested_by: str | None = None,
    loras: tuple[LoraUse, ...] = (),
    notes: tuple[str, ...] = (),
    unused: tuple[Unused, ...] = (),
    images: tuple[UploadRef, ...] = (),
    style_images: tuple[UploadRef, ...] = (),
) -> ImagineSpec:
    """One grid of `parsed` on `profile`'s model, with `loras`, the resolver's `notes` and what it
    found `unused` (noted in one line with the rest), the member's `images` (image prompts) and
    `style_images` (stored by the bot: an attached style image, then the `style_links` of `parsed`)."""
    weight = limits.IMAGE_WEIGHT_DEFAULT if parsed.image_weight is None else parsed.image_weight
    style_weight = next(
        given
        for given in (parsed.style_weight, parsed.omni_weight, limits.STYLE_WEIGHT_DEFAULT)
        if given is not None
    )
    unused = (
        *draft_unused(parsed),
        *unused,
        *_image_unused(parsed, images, style_images),
        *_reference_unused(parsed, profile, style_images),
    )
    return ImagineSpec(
        job_id=new_job_id(),
        generation=generation_for(parsed, profile, loras),
        requested_by=requested_by,
        warnings=(*notes, *filter(None, [unused_note(parsed, profile.name, unused)])),
        lane=parsed.lane or Lane.FAST,
        images=images,
        image_weight=weight,
        style_images=style_images,
        style_weight=style_weight,
        style_image_weights=_reference_weights(parsed, profile, len(style_images)),
    )


def style_links(parsed: ParsedPrompt, profiles: Profiles, *, attached: int = 0) -> tuple[str, ...]:
    """`--sref`'s image links, then `--cref`'s and `--oref`'s, for the bot to fetch. Style references,
    linked or `attached`, need the prompt's model to have an image-prompt adapter: without one they
    are refused, saying so (character and omni references are noted instead, see `imagine_spec`)."""
    styles = any(is_link(reference.word) for reference in parsed.style_refs)
    if not (styles or attached or any(is_link(reference.word) for reference in parsed.references)):
        return ()
    profile = profile_for(parsed, profiles.profile)
    if profile.adapter is None and (styles or attached):
        raise PromptError(
            f"`--sref` needs an image adapter, and `{profile.name}` has none in this server's catalog:"
            " leave it out, or use a model that has one",
            flag="--sref",
        )
    links = tuple(reference.word for reference in _linked_references(parsed, profile))
    if len(links) + attached > limits.IMAGE_PROMPTS_MAX:
        raise PromptError(
            f"That's {len(links) + attached} style references: use at most {limits.IMAGE_PROMPTS_MAX}",
            flag="--sref",
        )
    return links


def _linked_references(parsed: ParsedPrompt, profile: ModelProfile) -> tuple[Reference, ...]:
    """The references the bot fetches for `parsed`, in order: `--sref`'s image links, then `--cref`'s
    and `--oref`'s where the model has an image adapter (see `style_links`)."""
    linked = [reference for reference in parsed.style_refs if is_link(reference.word)]
    if profile.adapter is not None:
        linked += [reference for reference in parsed.references if is_link(reference.word)]
    return tuple(linked)


def _reference_weights(parsed: ParsedPrompt, profile: ModelProfile, count: int) -> tuple[float, ...]:
    """Each of a job's `count` style images' share: an attached one's 1, then the linked ones'
    `::` weights; () when they are all equal (the plain mean), or when the links were not fetched."""
    linked = _linked_references(parsed, profile)
    if count < len(linked):
        return ()
    weights = (*[1.0] * (count - len(linked)), *(reference.weight for reference in linked))
    return weights if len(set(weights)) > 1 else ()


def _reference_unused(
    parsed: ParsedPrompt, profile: ModelProfile, style_images: tuple[UploadRef, ...]
) -> tuple[Unused, ...]:
    """What `--cref`, `--oref` and `--ow` left unused: references go through the model's image
    adapter, as `--sref`'s do, and `--ow` weighs them where `--sw` does not."""
    unused: list[Unused] = []
    given = [
        flag for flag, value in (("--cref", parsed.character_refs), ("--oref", parsed.omni_ref)) if value
    ]
    codes = [str(reference) for reference in parsed.references if not is_link(reference.word)]
    if given and profile.adapter is None:
        why = f"`{profile.name}` has no image adapter, so give the image first in the prompt instead"
        unused += [(flag, why) for flag in given]
    elif codes:
        unused.append((" ".join(codes), "`--cref` and `--oref` take image links"))
    if parsed.omni_weight is not None and parsed.style_weight is not None:
        unused.append(("--ow", "`--sw` sets how strongly the references count"))
    elif parsed.omni_weight is not None and not style_images and profile.adapter is not None:
        unused.append(("--ow", "the prompt has no reference image"))
    return tuple(unused)


def _image_unused(
    parsed: ParsedPrompt, images: tuple[UploadRef, ...], style_images: tuple[UploadRef, ...]
) -> tuple[Unused, ...]:
    """What the prompt's image parameters left unused: each is noted, none refused."""
    unused: list[Unused] = []
    if parsed.image_weight is not None and not images:
        unused.append(("--iw", "the prompt has no image"))
    if parsed.style_weight is not None and not style_images:
        unused.append(("--sw", "the prompt has no style reference"))
    codes = [str(reference) for reference in parsed.style_refs if not is_link(reference.word)]
    if codes:
        why = "Midjourney's style codes and `random` are its own: give an image link instead"
        unused.append((f"--sref {' '.join(codes)}", why))
    return tuple(unused)


def imagine_specs(
    parsed: ParsedPrompt,
    profiles: Profiles,
    *,
    seed: int,
    requested_by: str | None = None,
    images: tuple[UploadRef, ...] = (),
    style_images: tuple[UploadRef, ...] = (),
) -> list[ImagineSpec]:
    """One job per `--repeat`, with the prompt's `--style` and LoRAs resolved, each starting from
    `images` and styled after `style_images` (the member's, stored by the bot) when there are
    some. The first uses the
    prompt's `--seed`, else `seed` (so a permutation prompt's combinations share one); job k's is
    4k further on, so no two images share a seed and `--seed 7 --repeat 3` always makes seeds 7,
    11 and 15 (wrapping at the seed limit)."""
    parsed, profile, loras, noted, unused = _prompted(parsed, profiles)
    first = seed if parsed.seed is None else parsed.seed
    return [
        imagine_spec(
            parsed.model_copy(update={"seed": (first + k * limits.GRID_IMAGES) % (limits.SEED_MAX + 1)}),
            profile,
            requested_by=requested_by,
            loras=loras,
            notes=noted,
            unused=unused,
            images=images,
            style_images=style_images,
        )
        for k in range(parsed.repeat)
    ]


def inpaint_spec(
    parsed: ParsedPrompt,
    profiles: Profiles,
    image: UploadRef,
    mask: UploadRef,
    *,
    requested_by: str | None = None,
) -> InpaintSpec:
    """One grid of `image` (stored by the API) repainted where `mask` is white with `parsed`'s
    prompt, `--style` and LoRAs, at its aspect ratio on its model."""
    parsed, profile, loras, noted, unused = _prompted(parsed, profiles)
    unused_line = unused_note(parsed, profile.name, (*draft_unused(parsed), *unused))
    return InpaintSpec(
        job_id=new_job_id(),
        generation=generation_for(parsed, profile, loras),
        requested_by=requested_by,
        warnings=(*noted, *filter(None, [unused_line])),
        lane=parsed.lane or Lane.FAST,
        image=image,
        mask=mask,
    )


def _prompted(
    parsed: ParsedPrompt, profiles: Profiles
) -> tuple[ParsedPrompt, ModelProfile, tuple[LoraUse, ...], tuple[str, ...], tuple[Unused, ...]]:
    """A new picture's prompt resolved: `--draft` left out where the model has no draft model, its
    house style applied at `--s`'s strength, its LoRAs; the notes (trigger words added), and what
    the prompt asked for that does nothing here (for `unused_note`)."""
    parsed, draft = _without_unserved_draft(parsed, profiles)
    parsed, styling = house_styled(parsed, profiles.profile(parsed.model), profiles)
    profile = profile_for(parsed, profiles.profile)
    parsed, loras, lora_notes = with_loras(parsed, profile, profiles)
    return parsed, profile, loras, lora_notes, (*draft, *styling, *_size_unused(parsed, profile))


def _without_unserved_draft(
    parsed: ParsedPrompt, profiles: Profiles
) -> tuple[ParsedPrompt, tuple[Unused, ...]]:
    """`--draft` on a model the catalog names no draft model for is left out, and noted."""
    if not parsed.draft or profiles.profile(parsed.model).draft is not None:
        return parsed, ()
    why = f"the catalog names no draft model for `{profiles.profile(parsed.model).name}`"
    return parsed.model_copy(update={"draft": False}), (("--draft", why),)


def reroll_spec(
    source: ImageSpec, *, remix: "Remix | None" = None, requested_by: str | None = None
) -> RerollSpec | BlendSpec:
    """The source's prompt (or `remix`'s), parameters and image prompts with a fresh seed; a blend's
    images blended again."""
    generation = (remix.generation if remix else source.generation).model_copy(update={"seed": _seed(remix)})
    if isinstance(source, BlendSpec):
        update = {"job_id": new_job_id(), "generation": generation, "requested_by": requested_by}
        return source.model_copy(update={**update, "warnings": remix.notes if remix else ()})
    prompted = isinstance(source, ImagineSpec | RerollSpec)
    return RerollSpec(
        job_id=new_job_id(),
        generation=generation,
        requested_by=requested_by,
        warnings=remix.notes if remix else (),
        lane=source.lane,
        source_job_id=source.job_id,
        images=source.images if prompted else (),
        image_weight=source.image_weight if prompted else limits.IMAGE_WEIGHT_DEFAULT,
        style_images=source.style_images if prompted else (),
        style_weight=source.style_weight if prompted else limits.STYLE_WEIGHT_DEFAULT,
        style_image_weights=source.style_image_weights if prompted else (),
    )


BLEND_SHAPES = {"portrait": (2, 3), "square": (1, 1), "landscape": (3, 2)}
"""`/blend`'s `dimensions`, as Midjourney's: the aspect ratio of its grid."""


def blend_profile(profiles: Profiles, model: str | None, count: int) -> ModelProfile:
    """The model `/blend` of `count` images runs on: refused unless it has an image-prompt adapter
    and `count` is 2-5, so the bot can say so before it fetches anything."""
    profile = profiles.profile(model)
    if profile.adapter is None:
        raise ResolveError(
            f"/blend needs an image adapter, and `{profile.name}` has none in this server's catalog."
        )
    if not limits.BLEND_MIN <= count <= limits.IMAGE_PROMPTS_MAX:
        raise ResolveError(
            f"/blend takes {limits.BLEND_MIN} to {limits.IMAGE_PROMPTS_MAX} images, not {count}."
        )
    return profile


def blend_spec(
    images: tuple[UploadRef, ...],
    profiles: Profiles,
    *,
    dimensions: str = "square",
    model: str | None = None,
    requested_by: str | None = None,
) -> BlendSpec:
    """`/blend` of the member's `images` (2-5) on `model` (the default one), which must have an
    image-prompt adapter; a grid at `dimensions`, with no words."""
    profile = blend_profile(profiles, model, len(images))
    if dimensions not in BLEND_SHAPES:
        raise ResolveError(f"/blend's dimensions are {', '.join(BLEND_SHAPES)}, not {dimensions}.")
    parsed = ParsedPrompt(parts=(PromptPart(text=""),), aspect=BLEND_SHAPES[dimensions])
    return BlendSpec(
        job_id=new_job_id(),
        generation=generation_for(parsed, profile),
        requested_by=requested_by,
        images=images,
    )


def describe_spec(
    model: str, image: UploadRef, *, seed: int | None = None, requested_by: str | None = None
) -> DescribeSpec:
    """`/describe` of `image` by the captioner of `model`; another `seed` writes other prompts."""
    return DescribeSpec(
        job_id=new_job_id(),
        model=model,
        image=image,
        seed=random_seed() if seed is None else seed,
        requested_by=requested_by,
    )


def upscale_spec(
    source: ImageSpec,
    index: int,
    profile: ModelProfile,
    *,
    creative: bool = False,
    requested_by: str | None = None,
) -> UpscaleSpec:
    """Image `index` of the source grid at twice its size, refined with the image's own seed:
    lightly, or harder when `creative`."""
    width, height = _source_image_size(source, index)
    factor = UpscaleSpec.model_fields["factor"].default
    if width * height * factor**2 > profile.max_pixels:
        raise ResolveError(f"this image is already {width}×{height}: {profile.name} can't upscale it further")
    generation = source.generation.model_copy(
        update={"width": width, "height": height, "seed": source.generation.seeds[index - 1]}
    )
    return UpscaleSpec(
        job_id=new_job_id(),
        generation=generation,
        requested_by=requested_by,
        source=ImageRef(job_id=source.job_id, index=index),
        denoise=profile.upscale_creative if creative else profile.upscale_denoise,
        creative=creative,
    )


def vary_spec(
    source: ImageSpec,
    index: int,
    strength: Strength,
    profile: ModelProfile,
    *,
    remix: "Remix | None" = None,
    requested_by: str | None = None,
) -> VarySpec:
    """Four variations of image `index`, at that image's size and with fresh seeds."""
    width, height = _source_image_size(source, index)
    generation = (remix.generation if remix else source.generation).model_copy(
        update={"width": width, "height": height, "seed": _seed(remix)}
    )
    denoise = profile.vary_subtle if strength is Strength.SUBTLE else profile.vary_strong
    return VarySpec(
        job_id=new_job_id(),
        generation=generation,
        requested_by=requested_by,
        warnings=remix.notes if remix else (),
        source=ImageRef(job_id=source.job_id, index=index),
        strength=strength,
        denoise=denoise,
    )


def zoom_spec(
    source: ImageSpec,
    index: int,
    factor: float,
    *,
    remix: "Remix | None" = None,
    requested_by: str | None = None,
) -> ZoomSpec:
    """Zoom Out: four images of image `index` shrunk `factor` times (1-2) at the size of the grid it
    came from, the border outpainted, with fresh seeds; `remix` brings a new prompt (see `remixed`)."""
    if not limits.ZOOM_MIN < factor <= limits.ZOOM_MAX:
        raise ResolveError(
            f"zoom out by more than {limits.ZOOM_MIN:g} and at most {limits.ZOOM_MAX:g}, like 1.5"
        )
    return _edit(ZoomSpec, source, index, _grid_size(source), remix, requested_by, factor=factor)


def pan_spec(
    source: ImageSpec,
    index: int,
    direction: Direction,
    profile: ModelProfile,
    *,
    remix: "Remix | None" = None,
    requested_by: str | None = None,
) -> PanSpec:
    """Pan: four images of image `index` on a canvas half a side larger towards `direction` (within
    the model's size), the new strip outpainted."""
    try:
        size = pan_size(
            _grid_size(source), direction, max_pixels=profile.max_pixels, multiple=profile.size_multiple
        )
    except CanvasError as error:
        raise ResolveError(str(error)) from None
    return _edit(PanSpec, source, index, size, remix, requested_by, direction=direction)


def square_spec(
    source: ImageSpec,
    index: int,
    profile: ModelProfile,
    *,
    remix: "Remix | None" = None,
    requested_by: str | None = None,
) -> SquareSpec:
    """Make Square: four images of image `index` in the middle of a square canvas, the sides outpainted."""
    try:
        size = square_size(_grid_size(source), max_pixels=profile.max_pixels, multiple=profile.size_multiple)
    except CanvasError as error:
        raise ResolveError(str(error)) from None
    return _edit(SquareSpec, source, index, size, remix, requested_by)


def region_spec(
    source: ImageSpec,
    index: int,
    cells: frozenset[int],
    *,
    remix: "Remix | None" = None,
    requested_by: str | None = None,
) -> RegionSpec:
    """Vary (Region): four images of image `index` with `cells` (1-9 of a 3 × 3 grid) repainted, with
    the source's prompt or `remix`'s, the rest kept."""
    if not cells or not cells <= set(range(1, limits.REGION_CELLS + 1)):
        raise ResolveError(
            f"pick the cells to repaint among 1-{limits.REGION_CELLS}, row by row from the top left"
        )
    return _edit(RegionSpec, source, index, _grid_size(source), remix, requested_by, cells=cells)


_KEPT_BY_REMIX = {
    "--ar": lambda p: p.aspect is not None,
    "--steps": lambda p: p.steps is not None,
    "--cfg": lambda p: p.guidance is not None,
    "--model": lambda p: p.model is not None,
    "--chaos": lambda p: p.chaos != 0,
    "--q": lambda p: p.quality != 1,
    "--tile": lambda p: p.tile,
    "--sampler": lambda p: p.sampler is not None,
    "--stop": lambda p: p.stop != limits.STOP_MAX,
    "--repeat": lambda p: p.repeat != 1,
    "--draft": lambda p: p.draft,
    "--s": lambda p: p.stylize is not None,
    "--raw": lambda p: p.raw,
    "--w": lambda p: p.weird != 0,
    "--hd/--sd": lambda p: p.size_preset is not None,
    "--fast/--relax/--turbo": lambda p: p.lane is not None,
}
"""What a remixed follow-up keeps from its source whatever the new prompt says."""


@dataclass(frozen=True)
class Remix:
    """A follow-up's new prompt, resolved: the generation to start from, the notes for the result,
    and the prompt's `--seed` (the follow-up's seeds start there instead of at a fresh one)."""

    generation: Generation
    notes: tuple[str, ...]
    seed: int | None = None


def _seed(remix: Remix | None) -> int:
    """A follow-up's first seed: its remix prompt's `--seed`, else a fresh one."""
    return remix.seed if remix and remix.seed is not None else random_seed()


def remixed(generation: Generation, parsed: ParsedPrompt, profiles: Profiles) -> Remix:
    """`generation` with the prompt of `parsed` (its text, `--no`, `--style`, LoRAs and `--seed`),
    for a follow-up made with a new prompt (Remix, Vary (Region)); the source's size, model and
    sampling are kept, and a note names each of `parsed`'s other parameters left unused."""
    parsed = styled(parsed, profiles)
    parsed, loras, notes = with_loras(parsed, profiles.profile(generation.model), profiles)
    update = {"prompt": parsed.parts, "negative": parsed.negative or "", "loras": loras}
    unused = ", ".join(f"`{flag}`" for flag, given in _KEPT_BY_REMIX.items() if given(parsed))
    if unused:
        notes = (*notes, f"{unused} not used: a follow-up keeps its image's model, size and sampling")
    return Remix(generation.model_copy(update=update), notes, parsed.seed)


def remix_prompt(generation: Generation) -> str:
    """`generation`'s prompt as a member would type it again: its text, `--no` and LoRAs, so that
    `remixed` of it unchanged gives back the same prompt."""
    words = [prompt_text(generation.prompt)]
    if generation.negative:
        words.append(f"--no {generation.negative}")
    if generation.loras:
        words.append(
            "--lora " + " ".join(f"{lora.name}:{format_number(lora.weight)}" for lora in generation.loras)
        )
    return " ".join(words)


def retry_spec(source: JobSpec, *, requested_by: str | None = None) -> JobSpec:
    """The same job again (parameters, seed and source image), under a new id."""
    return source.model_copy(update={"job_id": new_job_id(), "requested_by": requested_by})


def within_limits(
    spec: ImageSpec, *, max_side: int | None, max_steps: int | None, size_multiple: int
) -> ImageSpec:
    """`spec` within a server's limits (None: no limit): a new grid's steps and size are lowered, each with
    a note; an upscale or variation that would be larger is refused."""
    generation, notes = spec.generation, list(spec.warnings)
    if max_steps and generation.steps > max_steps:
        notes.append(f"{generation.steps} steps lowered to {max_steps}, this server's limit")
        generation = generation.model_copy(update={"steps": max_steps})
    width, height = image_size(spec)
    if max_side and max(width, height) > max_side:
        if isinstance(spec, UpscaleSpec | VarySpec | ZoomSpec | RegionSpec):
            raise ResolveError(
                f"That would make {width}×{height} images: this server's largest side is {max_side} px."
            )
        scale = max_side / max(width, height)
        new_width, new_height = (
            max(size_multiple, int(side * scale) // size_multiple * size_multiple) for side in (width, height)
        )
        notes.append(
            f"made at {new_width}×{new_height} instead of {width}×{height}: this server's largest side"
            f" is {max_side} px"
        )
        generation = generation.model_copy(update={"width": new_width, "height": new_height})
    return spec.model_copy(update={"generation": generation, "warnings": tuple(notes)})


def as_fast(spec: ImageSpec, note: str) -> ImageSpec:
    """`spec` in the fast lane, with `note` (why) as its last warning, within the warnings' caps."""
    warnings = (*spec.warnings[: limits.MAX_WARNINGS - 1], note[: limits.MAX_WARNING_CHARS])
    return spec.model_copy(update={"lane": Lane.FAST, "warnings": warnings})


def image_size(spec: ImageSpec) -> tuple[int, int]:
    """Width and height of each image the job produces."""
    factor = spec.factor if isinstance(spec, UpscaleSpec) else 1
    return spec.generation.width * factor, spec.generation.height * factor


def image_count(spec: ImageSpec) -> int:
    return 1 if isinstance(spec, UpscaleSpec) else limits.GRID_IMAGES


def _grid_size(source: ImageSpec) -> Size:
    """The size of the grid images `source`'s image came from: an upscale's before it was enlarged."""
    return source.generation.width, source.generation.height


def _edit(
    kind: type[_Edit],
    source: ImageSpec,
    index: int,
    size: Size,
    remix: "Remix | None",
    requested_by: str | None,
    **fields: object,
) -> _Edit:
    """A grid of `kind` made from image `index` of `source`: at `size`, with fresh seeds, and the
    source's prompt or `remix`'s (with its notes)."""
    _source_image_size(source, index)  # checks the index
    generation = (remix.generation if remix else source.generation).model_copy(
        update={"width": size[0], "height": size[1], "seed": _seed(remix)}
    )
    return kind(
        job_id=new_job_id(),
        generation=generation,
        requested_by=requested_by,
        warnings=remix.notes if remix else (),
        source=ImageRef(job_id=source.job_id, index=index),
        **fields,
    )


def _source_image_size(source: ImageSpec, index: int) -> tuple[int, int]:
    count = image_count(source)
    if not 1 <= index <= count:
        raise ResolveError(f"that job has {count} image{'s' if count > 1 else ''}: pick 1-{count}")
    return image_size(source)
