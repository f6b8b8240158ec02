"""Prompts longer than the text encoder's window: read in chunks where the family can, else
reported, never silently cut."""

from jobs.prompt import parse_prompt
from jobs.resolve import generation_for
from models.catalog import load_catalog
from worker.conditioning import truncation_warnings
from worker.engine import Engine


def test_a_long_prompt_is_read_whole_in_chunks_on_a_clip_family(engines: dict[str, Engine]):
    engine, profile = engines["tiny"], load_catalog().get("tiny").profile()
    start = "a red circle " * 10  # 130 of the byte-level tokenizer's tokens: past the first chunk

    def render(text: str) -> list:
        generation = generation_for(parse_prompt(f"{text} --steps 2 --seed 5"), profile)
        return engine.imagine(generation, lambda *_: None)

    whole, cut = render(start + "and finally a dragon"), render(start)
    assert whole.warnings == ()  # nothing was left out, so there is nothing to report
    assert whole.images[0].tobytes() != cut.images[0].tobytes()  # the words past token 77 were read


def test_short_prompt_has_no_warning(engines: dict[str, Engine]):
    pipe = engines["tiny"].model.text2img
    generation = generation_for(parse_prompt("a red circle"), load_catalog().get("tiny").profile())
    assert truncation_warnings(engines["tiny"].model.pipeline.prompt_window(pipe), generation.prompt) == ()


def test_parts_past_the_token_limit_share_one_short_note(engines: dict[str, Engine]):
    pipe = engines["tiny"].model.text2img
    part = "a red circle " * 30
    prompt = " ".join(f"{part} number {n}::1" for n in range(1, 6)) + " a small dog"
    generation = generation_for(parse_prompt(prompt), load_catalog().get("tiny").profile())
    [note] = truncation_warnings(engines["tiny"].model.pipeline.prompt_window(pipe), generation.prompt)
    assert note.startswith("Parts 1, 2, 3, 4, 5 of the prompt are longer than")
    assert "and 2 more" in note
    assert len(note) < 400
