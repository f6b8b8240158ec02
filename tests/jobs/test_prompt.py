import pydantic
import pytest

from jobs import limits
from jobs.prompt import ParsedPrompt, PromptError, PromptPart, parse_prompt


def _expected(*parts: str | tuple[str, float], **params: object) -> ParsedPrompt:
    """A ParsedPrompt from bare texts (weight 1) or (text, weight) pairs."""
    prompt_parts = [
        PromptPart(text=p) if isinstance(p, str) else PromptPart(text=p[0], weight=p[1]) for p in parts
    ]
    return ParsedPrompt.model_validate({"parts": tuple(prompt_parts), **params})


VALID = [
    pytest.param("a red fox", _expected("a red fox"), id="plain"),
    pytest.param("  a  red\n\n\tfox  ", _expected("a red fox"), id="whitespace-collapses"),
    pytest.param("a well-known fox — at dusk", _expected("a well-known fox — at dusk"), id="dashes-in-text"),
    pytest.param("fox --ar 16:9", _expected("fox", aspect=(16, 9)), id="ar"),
    pytest.param("fox --aspect 2:3", _expected("fox", aspect=(2, 3)), id="aspect-alias"),
    pytest.param("fox --ar 32:18", _expected("fox", aspect=(32, 18)), id="ar-not-reduced"),
    pytest.param("fox --ar 4:1", _expected("fox", aspect=(4, 1)), id="ar-widest"),
    pytest.param("fox --ar 1:4", _expected("fox", aspect=(1, 4)), id="ar-tallest"),
    pytest.param("fox --ar 400:101", _expected("fox", aspect=(400, 101)), id="ar-just-inside-wide"),
    pytest.param(
        f"fox --ar {limits.ASPECT_TERM_MAX}:{limits.ASPECT_TERM_MAX}",
        _expected("fox", aspect=(limits.ASPECT_TERM_MAX, limits.ASPECT_TERM_MAX)),
        id="ar-largest-terms",
    ),
    pytest.param("fox --seed 0", _expected("fox", seed=0), id="seed-min"),
    pytest.param(f"fox --seed {limits.SEED_MAX}", _expected("fox", seed=limits.SEED_MAX), id="seed-max"),
    pytest.param(f"fox --steps {limits.STEPS_MIN}", _expected("fox", steps=limits.STEPS_MIN), id="steps-min"),
    pytest.param(f"fox --steps {limits.STEPS_MAX}", _expected("fox", steps=limits.STEPS_MAX), id="steps-max"),
    pytest.param(
        f"fox --cfg {limits.GUIDANCE_MIN}", _expected("fox", guidance=limits.GUIDANCE_MIN), id="cfg-min"
    ),
    pytest.param(
        f"fox --cfg {limits.GUIDANCE_MAX}", _expected("fox", guidance=limits.GUIDANCE_MAX), id="cfg-max"
    ),
    pytest.param("fox --guidance 7.5", _expected("fox", guidance=7.5), id="guidance-alias"),
    pytest.param("fox --cfg .5", _expected("fox", guidance=0.5), id="cfg-leading-dot"),
    pytest.param(
        "fox --model SDXL-Turbo_1.0", _expected("fox", model="sdxl-turbo_1.0"), id="model-lowercased"
    ),
    pytest.param("fox --model " + "m" * 64, _expected("fox", model="m" * 64), id="model-longest-name"),
    pytest.param("fox --chaos 0", _expected("fox", chaos=0), id="chaos-min"),
    pytest.param(f"fox --chaos {limits.CHAOS_MAX}", _expected("fox", chaos=limits.CHAOS_MAX), id="chaos-max"),
    pytest.param("fox --c 50", _expected("fox", chaos=50), id="chaos-alias"),
    pytest.param("fox --quality .5", _expected("fox", quality=0.5), id="quality-dot5"),
    pytest.param("fox --quality 0.5", _expected("fox", quality=0.5), id="quality-0.5"),
    pytest.param("fox --q 1", _expected("fox", quality=1.0), id="quality-alias-1"),
    pytest.param("fox --q 2", _expected("fox", quality=2.0), id="quality-2"),
    pytest.param("fox --quality 2.0", _expected("fox", quality=2.0), id="quality-2.0"),
    pytest.param("fox --tile", _expected("fox", tile=True), id="tile"),
    pytest.param("fox --sampler DPM++2M_Karras", _expected("fox", sampler="dpm++2m_karras"), id="sampler"),
    pytest.param(f"fox --stop {limits.STOP_MIN}", _expected("fox", stop=limits.STOP_MIN), id="stop-min"),
    pytest.param(f"fox --stop {limits.STOP_MAX}", _expected("fox", stop=limits.STOP_MAX), id="stop-max"),
    pytest.param("fox --repeat 1", _expected("fox", repeat=1), id="repeat-min"),
    pytest.param(
        f"fox --r {limits.REPEAT_MAX}", _expected("fox", repeat=limits.REPEAT_MAX), id="repeat-alias-max"
    ),
    pytest.param("fox --draft", _expected("fox", draft=True), id="draft"),
    pytest.param("fox --no text", _expected("fox", negative="text"), id="no-one-word"),
    pytest.param(
        "fox --no blurry hands, text --seed 3",
        _expected("fox", negative="blurry hands, text", seed=3),
        id="no-runs-to-next-flag",
    ),
    pytest.param("fox --no a ,b,,  c", _expected("fox", negative="a, b, c"), id="no-comma-list-stripped"),
    pytest.param("fox --no a::b", _expected("fox", negative="a::b"), id="no-keeps-colons"),
    pytest.param(
        "fox \N{EM DASH}ar 3:2 \N{EN DASH}seed 9",
        _expected("fox", aspect=(3, 2), seed=9),
        id="em-and-en-dash",
    ),
    pytest.param(
        "fox --AR 3:2 --Seed 9 --TILE", _expected("fox", aspect=(3, 2), seed=9, tile=True), id="case"
    ),
    pytest.param(
        "fox --ar 21:9 --seed 1 --no dogs --steps 20 --cfg 4 --model sd15 --c 5 --q .5 --tile --sampler ddim",
        _expected(
            "fox",
            aspect=(21, 9),
            seed=1,
            negative="dogs",
            steps=20,
            guidance=4.0,
            model="sd15",
            chaos=5,
            quality=0.5,
            tile=True,
            sampler="ddim",
        ),
        id="every-flag",
    ),
    pytest.param("cat::2 dog::1", _expected(("cat", 2), ("dog", 1)), id="weights"),
    pytest.param("hot:: dog", _expected("hot", "dog"), id="weight-omitted"),
    pytest.param("a::b", _expected("a", "b"), id="split-inside-word"),
    pytest.param("hot::", _expected("hot"), id="trailing-separator"),
    pytest.param("cat::2", _expected(("cat", 2)), id="trailing-weight-single"),
    pytest.param("cat::1 dog::-0.5", _expected(("cat", 1), ("dog", -0.5)), id="negative-weight"),
    pytest.param("cat::.5 dog", _expected(("cat", 0.5), "dog"), id="leading-dot-weight"),
    pytest.param("cat::0 dog", _expected(("cat", 0), "dog"), id="zero-weight"),
    pytest.param("cat::2d", _expected("cat", "2d"), id="number-glued-to-text-is-text"),
    pytest.param(
        f"a::-{limits.WEIGHT_MAX:g} b::{limits.WEIGHT_MAX:g} c",
        _expected(("a", -limits.WEIGHT_MAX), ("b", limits.WEIGHT_MAX), "c"),
        id="weight-bounds",
    ),
    pytest.param(
        "big cat::2 --ar 3:2 --no small cat",
        _expected(("big cat", 2), aspect=(3, 2), negative="small cat"),
        id="weights-and-flags",
    ),
    pytest.param("x" * limits.MAX_PROMPT_CHARS, _expected("x" * limits.MAX_PROMPT_CHARS), id="longest"),
    pytest.param(
        "https://cdn.discordapp.com/attachments/1/2/fox.png a fox --iw 2",
        _expected(
            "a fox", image_urls=("https://cdn.discordapp.com/attachments/1/2/fox.png",), image_weight=2
        ),
        id="image-link-and-iw",
    ),
    pytest.param(
        "<https://a.example/1.png> HTTPS://a.example/2.webp a fox https://a.example/3.png",
        _expected(
            "a fox https://a.example/3.png",
            image_urls=("https://a.example/1.png", "HTTPS://a.example/2.webp"),
        ),
        id="image-links-lead-the-prompt",
    ),
    pytest.param("a fox --iw 0", _expected("a fox", image_weight=0), id="iw-zero"),
    pytest.param("a" + " " * limits.MAX_PROMPT_CHARS + "b", _expected("a b"), id="length-after-collapsing"),
]


@pytest.mark.parametrize(("text", "expected"), VALID)
def test_parses(text: str, expected: ParsedPrompt) -> None:
    assert parse_prompt(text) == expected


SEED_RANGE = ["0", str(limits.SEED_MAX)]
STEPS_RANGE = [str(limits.STEPS_MIN), str(limits.STEPS_MAX)]
GUIDANCE_RANGE = [f"{limits.GUIDANCE_MIN:g}", f"{limits.GUIDANCE_MAX:g}"]
CHAOS_RANGE = ["0", str(limits.CHAOS_MAX)]
STOP_RANGE = [str(limits.STOP_MIN), str(limits.STOP_MAX)]
REPEAT_RANGE = ["1", str(limits.REPEAT_MAX)]
ASPECT_RANGE = [f"1:{limits.ASPECT_MAX_RATIO:g}", f"{limits.ASPECT_MAX_RATIO:g}:1"]
WEIGHT_RANGE = [f"-{limits.WEIGHT_MAX:g}", f"{limits.WEIGHT_MAX:g}"]

INVALID = [
    # What to draw.
    pytest.param("", None, ["Write something"], id="empty"),
    pytest.param(" \n\t ", None, ["Write something"], id="only-whitespace"),
    pytest.param(
        "--ar 1:1 --seed 3", None, ["Write something", "before the parameters"], id="only-parameters"
    ),
    pytest.param(
        "x" * (limits.MAX_PROMPT_CHARS + 1),
        None,
        [str(limits.MAX_PROMPT_CHARS + 1), str(limits.MAX_PROMPT_CHARS)],
        id="too-long",
    ),
    # --ar / --aspect
    pytest.param("fox --ar 30:1", "--ar", ["30:1", "too wide", *ASPECT_RANGE], id="ar-too-wide"),
    pytest.param("fox --ar 401:100", "--ar", ["401:100", "too wide", *ASPECT_RANGE], id="ar-just-too-wide"),
    pytest.param(
        "fox --aspect 100:401", "--aspect", ["100:401", "too tall", *ASPECT_RANGE], id="ar-just-too-tall"
    ),
    pytest.param("fox --ar 3x2", "--ar", ["3x2", "width:height"], id="ar-x"),
    pytest.param("fox --ar 3:", "--ar", ["3:", "width:height"], id="ar-missing-height"),
    pytest.param("fox --ar 0:1", "--ar", ["0:1", "width:height"], id="ar-zero"),
    pytest.param("fox --ar a:b", "--ar", ["a:b", "width:height"], id="ar-letters"),
    pytest.param("fox --ar 1.5:1", "--ar", ["1.5:1", "width:height"], id="ar-decimal"),
    pytest.param(
        f"fox --ar {limits.ASPECT_TERM_MAX + 1}:{limits.ASPECT_TERM_MAX}",
        "--ar",
        [f"{limits.ASPECT_TERM_MAX + 1}:", str(limits.ASPECT_TERM_MAX)],
        id="ar-term-too-large",
    ),
    # --seed
    pytest.param("fox --seed -1", "--seed", ["-1", *SEED_RANGE], id="seed-below"),
    pytest.param(
        f"fox --seed {limits.SEED_MAX + 1}",
        "--seed",
        [str(limits.SEED_MAX + 1), *SEED_RANGE],
        id="seed-above",
    ),
    pytest.param("fox --seed abc", "--seed", ["abc", "whole number", *SEED_RANGE], id="seed-not-a-number"),
    pytest.param("fox --seed 1.5", "--seed", ["1.5", "whole number", *SEED_RANGE], id="seed-decimal"),
    # --steps
    pytest.param(
        f"fox --steps {limits.STEPS_MIN - 1}",
        "--steps",
        [str(limits.STEPS_MIN - 1), *STEPS_RANGE],
        id="steps-below",
    ),
    pytest.param(
        f"fox --steps {limits.STEPS_MAX + 1}",
        "--steps",
        [str(limits.STEPS_MAX + 1), *STEPS_RANGE],
        id="steps-above",
    ),
    pytest.param("fox --steps ten", "--steps", ["ten", *STEPS_RANGE], id="steps-not-a-number"),
    # --cfg / --guidance
    pytest.param("fox --cfg -0.1", "--cfg", ["-0.1", *GUIDANCE_RANGE], id="cfg-below"),
    pytest.param(
        f"fox --guidance {limits.GUIDANCE_MAX + 0.1:g}",
        "--guidance",
        [f"{limits.GUIDANCE_MAX + 0.1:g}", *GUIDANCE_RANGE],
        id="guidance-above",
    ),
    pytest.param("fox --cfg nan", "--cfg", ["nan", "isn't a number", *GUIDANCE_RANGE], id="cfg-nan"),
    pytest.param("fox --cfg inf", "--cfg", ["inf", "isn't a number", *GUIDANCE_RANGE], id="cfg-inf"),
    pytest.param("fox --cfg 1e1", "--cfg", ["1e1", "isn't a number", *GUIDANCE_RANGE], id="cfg-exponent"),
    # --model
    pytest.param("fox --model my/model", "--model", ["my/model", "model name"], id="model-slash"),
    pytest.param("fox --model -dash", "--model", ["-dash", "model name"], id="model-leading-dash"),
    pytest.param("fox --model " + "m" * 65, "--model", ["m" * 65, "64"], id="model-too-long"),
    # --chaos / --c
    pytest.param("fox --chaos -1", "--chaos", ["-1", *CHAOS_RANGE], id="chaos-below"),
    pytest.param(
        f"fox --c {limits.CHAOS_MAX + 1}", "--c", [str(limits.CHAOS_MAX + 1), *CHAOS_RANGE], id="chaos-above"
    ),
    # --quality / --q
    pytest.param(
        "fox --quality 3", "--quality", ["3", "0.25", "0.5", "1", "2", "4"], id="quality-not-offered"
    ),
    pytest.param("fox --q .3", "--q", [".3", "0.25", "0.5", "1", "2", "4"], id="quality-between"),
    pytest.param("fox --q high", "--q", ["high", "0.5", "1", "2"], id="quality-word"),
    # --sampler
    pytest.param("fox --sampler foo", "--sampler", ["foo", *limits.SAMPLERS], id="sampler-unknown"),
    # --stop
    pytest.param(
        f"fox --stop {limits.STOP_MIN - 1}",
        "--stop",
        [str(limits.STOP_MIN - 1), *STOP_RANGE],
        id="stop-below",
    ),
    pytest.param("fox --stop 101", "--stop", ["101", *STOP_RANGE], id="stop-above"),
    pytest.param("fox --stop 50%", "--stop", ["50%", "whole number", *STOP_RANGE], id="stop-percent-sign"),
    # --repeat / --r
    pytest.param("fox --repeat 0", "--repeat", ["0", *REPEAT_RANGE], id="repeat-below"),
    pytest.param(
        f"fox --r {limits.REPEAT_MAX + 1}",
        "--r",
        [str(limits.REPEAT_MAX + 1), *REPEAT_RANGE],
        id="repeat-above",
    ),
    pytest.param("fox --r --seed 1", "--r", ["`--r`", "needs a value", "`--r 4`"], id="repeat-missing"),
    # --draft
    pytest.param("fox --draft 2", "--draft", ["--draft 2", "at the end"], id="draft-takes-no-value"),
    # --no
    pytest.param("fox --no", "--no", ["needs a value"], id="no-at-end"),
    pytest.param("fox --no --seed 1", "--no", ["needs a value"], id="no-before-flag"),
    pytest.param("fox --no , ,", "--no", [", ,", "leaves nothing out"], id="no-only-commas"),
    # Unknown flags.
    pytest.param("fox --sed 5", "--sed", ["`--sed`", "Did you mean `--seed`?"], id="unknown-close"),
    pytest.param(
        "fox \N{EM DASH}sede 5", "--sede", ["`--sede`", "Did you mean `--seed`?"], id="unknown-em-dash"
    ),
    pytest.param("fox --aspectratio 1:1", "--aspectratio", ["Did you mean `--aspect`?"], id="unknown-long"),
    pytest.param("fox --zzz", "--zzz", ["`--zzz`", "`--ar`", "`--sampler`"], id="unknown-far"),
    pytest.param("fox -- 1", "--", ["`--`", "isn't a parameter"], id="bare-dashes"),
    # Repeated flags.
    pytest.param("fox --seed 1 --seed 2", "--seed", ["`--seed`", "twice"], id="repeated"),
    pytest.param(
        "fox --ar 1:1 --aspect 2:3", "--aspect", ["`--aspect`", "`--ar`", "twice"], id="repeated-alias"
    ),
    pytest.param(
        "fox --cfg 1 --guidance 2", "--guidance", ["`--guidance`", "`--cfg`", "twice"], id="repeated-cfg"
    ),
    pytest.param("fox --c 1 --CHAOS 2", "--chaos", ["`--chaos`", "`--c`", "twice"], id="repeated-chaos"),
    pytest.param("fox --tile --tile", "--tile", ["`--tile`", "twice"], id="repeated-tile"),
    # Missing values.
    pytest.param("fox --seed", "--seed", ["`--seed`", "needs a value"], id="missing-at-end"),
    pytest.param("fox --seed --ar 1:1", "--seed", ["`--seed`", "needs a value"], id="missing-before-flag"),
    pytest.param("fox --ar", "--ar", ["`--ar`", "needs a value"], id="missing-ar"),
    # Text after a flag's value.
    pytest.param(
        "fox --seed 7 in space",
        "--seed",
        ["--seed 7 in space", "at the end", "`in space`"],
        id="text-after-value",
    ),
    pytest.param(
        "fox --ar 16:9 photo --seed 1", "--ar", ["--ar 16:9 photo", "at the end"], id="text-between-flags"
    ),
    pytest.param("fox --tile yes", "--tile", ["--tile yes", "at the end"], id="text-after-switch"),
    pytest.param("a fox --iw 3.5", "--iw", ["--iw 3.5", "from 0 to 3"], id="iw-above"),
    pytest.param("a fox --iw x", "--iw", ["isn't a number"], id="iw-not-a-number"),
    pytest.param("https://a.example/1.png", None, ["after the image links"], id="only-an-image-link"),
    pytest.param(
        " ".join(f"https://a.example/{n}.png" for n in range(6)) + " a fox",
        "image",
        ["6 image links", "at most 5"],
        id="too-many-image-links",
    ),
    # `::` weights.
    pytest.param("::2 cat", "::", ["`::2`", "no text"], id="weight-empty-first-part"),
    pytest.param("cat:: ::2", "::", ["`::2`", "no text"], id="weight-empty-middle-part"),
    pytest.param("cat::-0.5", "::", ["-0.5", "more than 0"], id="weights-sum-negative"),
    pytest.param("cat::1 dog::-1", "::", ["add up to 0", "more than 0"], id="weights-sum-zero"),
    pytest.param("cat::0", "::", ["add up to 0", "more than 0"], id="weight-only-zero"),
    pytest.param(
        f"cat::{limits.WEIGHT_MAX + 1:g} dog",
        "::",
        [f"::{limits.WEIGHT_MAX + 1:g}", *WEIGHT_RANGE],
        id="weight-above",
    ),
    pytest.param(
        f"cat::-{limits.WEIGHT_MAX + 1:g} dog::2000",
        "::",
        [f"::-{limits.WEIGHT_MAX + 1:g}", *WEIGHT_RANGE],
        id="weight-below",
    ),
]


@pytest.mark.parametrize(("text", "flag", "words"), INVALID)
def test_refuses(text: str, flag: str | None, words: list[str]) -> None:
    with pytest.raises(PromptError) as caught:
        parse_prompt(text)
    assert caught.value.flag == flag
    for word in words:
        assert word in str(caught.value)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        pytest.param("fox --seed abc", "abc", id="value"),
        pytest.param("fox --no , ,", ", ,", id="run-on-value"),
        pytest.param("fox --seed 7 in space", "in space", id="stray-text"),
        pytest.param("fox --seed", None, id="missing"),
        pytest.param(f"cat::{limits.WEIGHT_MAX + 1:g}", f"{limits.WEIGHT_MAX + 1:g}", id="weight"),
    ],
)
def test_error_keeps_the_value(text: str, value: str | None) -> None:
    with pytest.raises(PromptError) as caught:
        parse_prompt(text)
    assert caught.value.value == value


def test_error_reads_like_the_style_guide() -> None:
    with pytest.raises(PromptError, match=r"^`--ar 30:1` is too wide: use a ratio between 1:4 and 4:1$"):
        parse_prompt("fox --ar 30:1")


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        pytest.param("a red  fox --ar 3:2", "a red fox", id="single"),
        pytest.param("cat::2 dog::1", "cat::2 dog::1", id="weights"),
        pytest.param("hot:: dog", "hot::1 dog::1", id="implicit-weights"),
        pytest.param("cat::2", "cat::2", id="single-weighted"),
        pytest.param("cat::.5 dog::-.25", "cat::0.5 dog::-0.25", id="decimals"),
        pytest.param("cat::-1 dog::2.0", "cat::-1 dog::2", id="whole-numbers"),
        pytest.param("cat::0.00001 dog", "cat::0.00001 dog::1", id="no-exponent"),
    ],
)
def test_text(text: str, shown: str) -> None:
    assert parse_prompt(text).text == shown


@pytest.mark.parametrize("text", [pytest.param(case.values[0], id=case.id) for case in VALID])
def test_text_parses_back_to_the_same_parts(text: str) -> None:
    parsed = parse_prompt(text)
    assert parse_prompt(parsed.text).parts == parsed.parts


def test_is_frozen() -> None:
    parsed = parse_prompt("fox")
    with pytest.raises(pydantic.ValidationError):
        parsed.seed = 3
    with pytest.raises(pydantic.ValidationError):
        parsed.parts[0].weight = 2
