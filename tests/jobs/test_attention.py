"""AUTOMATIC1111's emphasis syntax read as A1111 reads it, and prompts that carry LoRAs and styles."""

import pytest

from jobs.attention import EMPHASIS, Fragment, emphasised, fragments, plain
from jobs.prompt import PromptError, parse_prompt, with_defaults
from tests.helpers import SEED_ARTICLE


def test_each_bracket_multiplies_the_weight_of_what_it_holds():
    assert fragments("a (b:1.3) (c) [d] ((e)) [(f)] g") == (
        Fragment("a ", 1.0),
        Fragment("b", 1.3),
        Fragment(" ", 1.0),
        Fragment("c", EMPHASIS),
        Fragment(" ", 1.0),
        Fragment("d", round(1 / EMPHASIS, 6)),
        Fragment(" ", 1.0),
        Fragment("e", round(EMPHASIS**2, 6)),
        Fragment(" f g", 1.0),  # [(f)] is ×1.1 ÷1.1
    )


def test_escapes_stray_brackets_and_colons_are_text_and_an_open_bracket_runs_to_the_end():
    assert plain("a \\(cat\\) at 10:30) in \\[the\\] sun") == "a (cat) at 10:30) in [the] sun"
    assert not emphasised("a \\(cat\\) at 10:30)")
    assert fragments("a (b c") == (Fragment("a ", 1.0), Fragment("b c", EMPHASIS))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a (b:3.5)", "from 0 to 3"),
        ("a (b:1.2.3)", "isn't a weight"),
        ("a fox --no (ugly:9)", "has a weight I can't use: `:9\\)` is out of range"),
    ],
)
def test_a_weight_the_worker_cannot_apply_is_refused_naming_it(text, message):
    with pytest.raises(PromptError, match=message):
        parse_prompt(text)


def test_the_seed_articles_prompt_parses_with_its_lora_and_weights():
    parsed = parse_prompt(f"{SEED_ARTICLE} --ar 2:3")
    [part] = parsed.parts
    assert "<lora" not in part.text and part.text.endswith("raincoat")
    assert [(lora.name, lora.weight) for lora in parsed.loras] == [("cutegirlmix4_v10", 0.3)]
    weights = {fragment.text: fragment.weight for fragment in fragments(part.text)}
    assert weights["8k, RAW photo"] == 1.2 and weights["photorealistic"] == 1.4
    assert weights["masterpiece"] == round(EMPHASIS**2, 6)
    assert "a girl in a (yellow) raincoat" in plain(part.text)


def test_midjourney_parts_and_a1111_weights_combine():
    parsed = parse_prompt("a (red:1.5) fox::2 [snow]::1")
    assert [part.weight for part in parsed.parts] == [2, 1]
    assert fragments(parsed.parts[0].text)[1] == Fragment("red", 1.5)
    assert fragments(parsed.parts[1].text) == (Fragment("snow", round(1 / EMPHASIS, 6)),)


def test_loras_come_from_tags_and_flags_and_a_suffix_adds_to_them():
    parsed = parse_prompt("a fox <lora:Ink:0.6>, in snow --lora paper watercolor:1.2 --lora felt:-0.5")
    assert parsed.text == "a fox, in snow"
    assert [(lora.name, lora.weight) for lora in parsed.loras] == [
        ("ink", 0.6),
        ("paper", None),
        ("watercolor", 1.2),
        ("felt", -0.5),
    ]
    suffixed = with_defaults(
        parsed, {"loras": [{"name": "ink", "weight": 1}, {"name": "grain", "weight": 0.2}]}
    )
    assert [(lora.name, lora.weight) for lora in suffixed.loras][-2:] == [("felt", -0.5), ("grain", 0.2)]
    assert suffixed.loras[0].weight == 0.6  # the prompt's own weight wins


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a fox <lora:ink:9>", "`<lora:ink:9>` is too strong: use a LoRA weight from -4 to 4"),
        ("a fox <lora:ink:1:0.5>", "gives two weights"),
        ("a fox <lora:ink> --lora ink:0.5", "`ink` is named twice"),
        ("a fox --lora ink:x", "`--lora ink:x` has `ink:x`, which has a weight I can't read"),
        ("<lora:ink>", "besides the LoRAs"),
        ("a fox " + " ".join(f"<lora:l{n}>" for n in range(9)), "names 9 LoRAs: use at most 8"),
    ],
)
def test_a_lora_that_cannot_be_read_is_refused_naming_it(text, message):
    with pytest.raises(PromptError, match=message.replace("(", "\\(")):
        parse_prompt(text)
