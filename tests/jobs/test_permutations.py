import pytest

from jobs import limits
from jobs.permutations import combinations, parse_combinations
from jobs.prompt import PromptError, parse_prompt


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("a red bird", ["a red bird"], id="no-braces-unchanged"),
        pytest.param("a  red\nbird, flying", ["a  red\nbird, flying"], id="no-braces-keeps-spacing"),
        pytest.param("a {red, green} bird", ["a red bird", "a green bird"], id="one-group"),
        pytest.param(
            "a {red, green} bird --ar {1:1, 16:9}",
            [
                "a red bird --ar 1:1",
                "a red bird --ar 16:9",
                "a green bird --ar 1:1",
                "a green bird --ar 16:9",
            ],
            id="groups-multiply-last-fastest",
        ),
        pytest.param("a {,big} dog", ["a dog", "a big dog"], id="empty-option"),
        pytest.param("{red}", ["red"], id="single-option"),
        pytest.param(
            r"a {salt\, pepper, sugar} pot", ["a salt, pepper pot", "a sugar pot"], id="escaped-comma"
        ),
        pytest.param(r"a \{curly\} brace", ["a {curly} brace"], id="escaped-braces"),
        pytest.param(r"a\, b", ["a, b"], id="escaped-comma-outside"),
        pytest.param("cats, dogs {a, b}", ["cats, dogs a", "cats, dogs b"], id="comma-outside-is-text"),
        pytest.param("fox --seed {1, 2}", ["fox --seed 1", "fox --seed 2"], id="parameter-value"),
        pytest.param(
            "A {sculpture, painting} of a {seagull {on a pier, on a beach}, poodle {on a sofa, in a truck}}.",
            [
                f"A {kind} of a {scene}."
                for kind in ("sculpture", "painting")
                for scene in (
                    "seagull on a pier",
                    "seagull on a beach",
                    "poodle on a sofa",
                    "poodle in a truck",
                )
            ],
            id="nested-options-take-their-options-place",
        ),
        pytest.param(
            "{a {b, c} {d, e}, f}", ["a b d", "a b e", "a c d", "a c e", "f"], id="nested-groups-multiply"
        ),
        pytest.param("{a {b {c, d}}, e}", ["a b c", "a b d", "e"], id="three-deep"),
        pytest.param(r"{a \{b\}, c}", ["a {b}", "c"], id="escaped-braces-in-an-option"),
    ],
)
def test_expands(text: str, expected: list[str]) -> None:
    assert combinations(text) == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        pytest.param("a {red, green bird", ["`{`", "never closed", "`}`"], id="unclosed"),
        pytest.param("a red} bird", ["`}`", "no `{`", r"`\}`"], id="stray-close"),
        pytest.param(
            "a {b {c {d {e, f}}}}", ["at most 3 deep", "`{red fox, blue fox}`"], id="nested-too-deep"
        ),
        pytest.param("a {red {dark, light}, green", ["never closed"], id="nested-unclosed"),
        pytest.param(
            "{a,b} {a,b} {a,b} {a,b} {a,b} {a,b}",
            ["64 jobs", f"the most one prompt may make is {limits.PROMPT_JOBS_MAX}", "fewer `{…}` options"],
            id="too-many",
        ),
    ],
)
def test_refuses(text: str, words: list[str]) -> None:
    with pytest.raises(PromptError) as caught:
        combinations(text)
    for word in words:
        assert word in str(caught.value)


def test_too_many_is_counted_without_expanding() -> None:
    with pytest.raises(PromptError, match="1099511627776 jobs"):
        combinations("{a,b} " * 40)
    with pytest.raises(PromptError, match="1048577 jobs"):
        combinations("{" + "{a,b} " * 20 + ", c}")  # 2^20 options, and `c`


def test_a_thousand_opening_braces_are_refused_at_once() -> None:
    with pytest.raises(PromptError, match="at most 3 deep"):
        combinations("{" * 1000 + "a" + "}" * 1000)


def test_each_combination_is_parsed_as_its_own_prompt() -> None:
    parsed = parse_combinations("a fox --ar {1:1, 2:1} --r 2", parse_prompt)
    assert [(text, prompt.aspect, prompt.repeat) for text, prompt in parsed] == [
        ("a fox --ar 1:1 --r 2", (1, 1), 2),
        ("a fox --ar 2:1 --r 2", (2, 1), 2),
    ]


def test_an_error_names_the_combination_that_needs_a_change() -> None:
    with pytest.raises(PromptError) as caught:
        parse_combinations("a fox --ar {1:1, 30:1}", parse_prompt)
    assert str(caught.value).startswith(
        "In `a fox --ar 30:1`, one of its combinations: `--ar 30:1` is too wide"
    )
    assert (caught.value.flag, caught.value.value) == ("--ar", "30:1")


def test_a_single_prompts_error_is_unchanged() -> None:
    with pytest.raises(PromptError, match=r"^`--ar 30:1` is too wide"):
        parse_combinations("a fox --ar 30:1", parse_prompt)


@pytest.mark.parametrize(
    ("text", "jobs", "hint"),
    [
        pytest.param("a {red, green} fox --repeat 21", 42, "`--repeat` or fewer `{…}` options", id="both"),
        pytest.param("a fox --r {40, 2}", 42, "`--repeat` or fewer", id="repeat-in-braces"),
    ],
)
def test_repeats_count_towards_the_cap(text: str, jobs: int, hint: str) -> None:
    with pytest.raises(PromptError) as caught:
        parse_combinations(text, parse_prompt)
    assert f"That prompt makes {jobs} jobs; the most one prompt may make is {limits.PROMPT_JOBS_MAX}" in str(
        caught.value
    )
    assert hint in str(caught.value)


def test_the_cap_itself_is_allowed() -> None:
    parsed = parse_combinations("a {red, green} fox --repeat 20", parse_prompt)
    assert sum(prompt.repeat for _, prompt in parsed) == limits.PROMPT_JOBS_MAX
