"""Prompts longer than the text encoder reads are reported, not silently cut."""

from jobs.prompt import parse_prompt
from jobs.resolve import generation_for
from models.catalog import load_catalog
from worker.conditioning import truncation_warnings
from worker.engine import Engine


def test_long_prompt_is_reported(engines: dict[str, Engine]):
    engine = engines["tiny"]
    long_text = "a red circle " * 10 + "and finally a dragon"
    generation = generation_for(parse_prompt(f"{long_text} --steps 2"), load_catalog().get("tiny").profile())
    render = engine.imagine(generation, lambda *_: None)
    assert len(render.warnings) == 1
    assert "dragon" in render.warnings[0]
    assert "left out" in render.warnings[0]


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
