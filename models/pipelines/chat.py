"""The families whose text encoder is a chat LLM (Qwen3, Qwen2.5-VL) read the prompt inside a chat
template: the template's tokens before the prompt count against the encoder's window."""

from typing import Any

from transformers import PreTrainedTokenizerBase

from models.pipelines.base import PromptWindow

_SENTINEL = "\x00"


def chat_window(tokenizer: PreTrainedTokenizerBase, length: int, **template: Any) -> PromptWindow:
    """The window of an encoder reading `length` tokens of a one-turn chat (`template`: the
    options the pipeline renders it with), less the template's tokens before the user's text."""
    rendered = tokenizer.apply_chat_template(
        [{"role": "user", "content": _SENTINEL}], tokenize=False, add_generation_prompt=True, **template
    )
    before = rendered[: rendered.index(_SENTINEL)]
    return PromptWindow(tokenizer, length, len(tokenizer(before, add_special_tokens=False).input_ids))
