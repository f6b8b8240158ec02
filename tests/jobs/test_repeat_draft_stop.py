"""`--repeat`'s seeds, `--draft`'s model and `--stop`, resolved against a catalog's profiles."""

from jobs import limits
from jobs.profile import LoraProfile, ModelProfile, StyleProfile
from jobs.prompt import parse_prompt
from jobs.resolve import imagine_specs, reroll_spec, upscale_spec, vary_spec
from jobs.specs import Strength
from models.catalog import load_catalog

TINY = load_catalog().get("tiny").profile()
FAST = TINY.model_copy(update={"name": "tiny-fast", "steps": 2, "guidance": 0.0, "sampler": "euler"})
PROFILES = {
    "tiny": TINY.model_copy(update={"draft": "tiny-fast"}),
    "tiny-fast": FAST,
    "plain": TINY.model_copy(update={"name": "plain"}),
}


class Profiles:
    """The profiles above, as a catalog serves them (no LoRAs or styles)."""

    def profile(self, name: str | None = None) -> ModelProfile:
        return PROFILES[name or "tiny"]

    def lora_profile(self, name: str) -> LoraProfile:
        raise AssertionError(f"no LoRA expected, got {name}")

    def style_profile(self, name: str) -> StyleProfile:
        raise AssertionError(f"no style expected, got {name}")


profiles = Profiles()


def test_repeats_are_jobs_whose_seeds_follow_on_from_the_given_one() -> None:
    specs = imagine_specs(parse_prompt("a fox --seed 7 --repeat 3"), profiles, seed=99)
    assert [spec.generation.seed for spec in specs] == [7, 11, 15]
    assert [spec.generation.seeds for spec in specs][1] == [11, 12, 13, 14]
    assert len({spec.job_id for spec in specs}) == 3


def test_without_a_seed_the_shared_one_is_used_and_wraps_at_the_limit() -> None:
    specs = imagine_specs(parse_prompt("a fox --r 2"), profiles, seed=limits.SEED_MAX - 1)
    assert [spec.generation.seed for spec in specs] == [limits.SEED_MAX - 1, 2]


def test_draft_runs_on_the_draft_model_with_its_defaults_and_says_what_it_left_unused() -> None:
    [spec] = imagine_specs(parse_prompt("a fox --draft --steps 30 --cfg 9 --ar 2:1"), profiles, seed=1)
    generation = spec.generation
    assert (generation.model, generation.steps, generation.guidance, generation.sampler) == (
        "tiny-fast",
        2,
        0.0,
        "euler",
    )
    assert generation.width == 2 * generation.height
    assert spec.warnings == (
        "`--steps`, `--cfg` have no effect here:"
        " `--draft` runs the draft model's own steps, guidance and sampler",
    )
    [plain] = imagine_specs(parse_prompt("a fox --draft"), profiles, seed=1)
    assert plain.warnings == ()


def test_draft_on_a_model_without_one_is_noted_naming_the_model() -> None:
    [spec] = imagine_specs(parse_prompt("a fox --model plain --draft"), profiles, seed=1)
    assert spec.model == "plain"
    assert spec.warnings == ("`--draft` has no effect here: the catalog names no draft model for `plain`",)


def test_stop_is_carried_into_rerolls_variations_and_upscales() -> None:
    [source] = imagine_specs(parse_prompt("a fox --stop 40"), profiles, seed=1)
    follow_ups = [
        reroll_spec(source),
        vary_spec(source, 1, Strength.SUBTLE, TINY),
        upscale_spec(source, 2, TINY),
    ]
    assert [spec.generation.stop for spec in [source, *follow_ups]] == [40] * 4
    [default] = imagine_specs(parse_prompt("a fox"), profiles, seed=1)
    assert default.generation.stop == 100
