"""The tiny models' Qwen tokenizer counts the chat templates as Qwen's own does, so the pipelines'
fixed offsets (Qwen-Image drops its template's first 34 tokens) and our token-limit notes hold."""

from models.pipelines.chat import chat_window
from models.tiny.qwen import qwen_tokenizer
from models.tiny.qwen_image import build_tiny_qwen_image


def test_qwen_images_template_is_exactly_what_its_pipeline_drops():
    pipe = build_tiny_qwen_image()
    ids = pipe.tokenizer(pipe.prompt_template_encode.format("a red fox")).input_ids
    start = pipe.prompt_template_encode_start_idx  # 34, counted in Qwen's own vocabulary
    tokens = pipe.tokenizer.convert_ids_to_tokens(ids[:start])
    assert tokens[:4] == ["<|im_start|>", "system", "Ċ", "Describe"]
    assert tokens[-3:] == ["<|im_start|>", "user", "Ċ"]  # the template's opening ends there
    assert pipe.tokenizer.decode(ids[start:]).startswith("a red fox<|im_end|>")


def test_a_chat_templates_opening_counts_against_the_window():
    tokenizer = qwen_tokenizer(model_max_length=512)
    for thinking in (True, False):  # Z-Image renders it with thinking on, FLUX.2 klein off
        window = chat_window(tokenizer, 512, enable_thinking=thinking)
        assert (window.reserved, window.room) == (3, 509)  # "<|im_start|>", "user", "\n"
