"""Qwen's tokenizer and language models in miniature: the text encoders of FLUX.2 klein and Z-Image
(Qwen3) and of Qwen-Image (Qwen2.5-VL), with random weights and no download."""

from transformers import (
    Qwen2_5_VLConfig,
    Qwen2_5_VLForConditionalGeneration,
    Qwen2Tokenizer,
    Qwen3Config,
    Qwen3ForCausalLM,
    Qwen3Model,
)
from transformers.convert_slow_tokenizer import bytes_to_unicode

_SPECIAL = ("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>")

CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n"
    "{% if enable_thinking is defined and enable_thinking is false %}<think>\n\n</think>\n\n{% endif %}"
    "{% endif %}"
)
"""Qwen3's chat format, as far as the pipelines use it: one user turn, the assistant's turn opened,
and with `enable_thinking=False` an empty thinking block (what FLUX.2 klein encodes)."""

QWEN_IMAGE_SYSTEM = (
    "Describe the image by detailing the color, shape, size, texture, quantity, text, spatial "
    "relationships of the objects and background:"
)
"""The system prompt QwenImagePipeline wraps every prompt in. Its template is 34 of Qwen's tokens
long and the pipeline drops that many from the encoding: the tokenizer must count them alike."""

_FIRST, *_REST = QWEN_IMAGE_SYSTEM.split(" ")
_WORDS = ("system", "user", "assistant", _FIRST, *(" " + word.rstrip(",:") for word in _REST))
"""Whole tokens in Qwen's vocabulary: the roles (after `<|im_start|>`), and the system prompt's
words, each after its space as Qwen's pre-tokenizer splits them (its punctuation is apart)."""


def qwen_tokenizer(model_max_length: int) -> Qwen2Tokenizer:
    """A byte-level BPE tokenizer in Qwen's format: one token per byte, merges that make the chat
    template's words one token each as Qwen's own vocabulary does, and Qwen's special tokens."""
    symbol = bytes_to_unicode()
    vocab = {character: index for index, character in enumerate(symbol.values())}
    merges: list[tuple[str, str]] = []
    for word in _WORDS:
        first, *rest = (symbol[byte] for byte in word.encode())
        merged = first
        for piece in rest:  # left to right: ("Ġ", "c"), ("Ġc", "o"), ("Ġco", "l"), …
            if (merged, piece) not in merges:
                merges.append((merged, piece))
            merged += piece
            vocab.setdefault(merged, len(vocab))
    tokenizer = Qwen2Tokenizer(vocab=vocab, merges=merges, model_max_length=model_max_length)
    tokenizer.add_special_tokens({"additional_special_tokens": list(_SPECIAL[1:])})
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def _qwen3_config(tokenizer: Qwen2Tokenizer, *, width: int, layers: int) -> Qwen3Config:
    return Qwen3Config(
        vocab_size=len(tokenizer),
        hidden_size=width,
        intermediate_size=2 * width,
        num_hidden_layers=layers,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=width // 2,
        max_position_embeddings=tokenizer.model_max_length,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        tie_word_embeddings=True,
    )


def tiny_qwen3(tokenizer: Qwen2Tokenizer, *, width: int, layers: int) -> Qwen3Model:
    """Qwen3's decoder without its language-model head, as Z-Image loads it."""
    return Qwen3Model(_qwen3_config(tokenizer, width=width, layers=layers))


def tiny_qwen3_causal(tokenizer: Qwen2Tokenizer, *, width: int, layers: int) -> Qwen3ForCausalLM:
    """Qwen3 with its (tied) language-model head, as FLUX.2 klein loads it."""
    return Qwen3ForCausalLM(_qwen3_config(tokenizer, width=width, layers=layers))


def tiny_qwen25_vl(tokenizer: Qwen2Tokenizer, *, width: int) -> Qwen2_5_VLForConditionalGeneration:
    """Qwen2.5-VL, vision tower included (Qwen-Image's checkpoints carry it), two text layers."""
    head = width // 2
    config = Qwen2_5_VLConfig(
        text_config={
            "vocab_size": len(tokenizer),
            "hidden_size": width,
            "intermediate_size": 2 * width,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "num_key_value_heads": 1,
            "max_position_embeddings": tokenizer.model_max_length,
            # Multimodal RoPE: the rotary half of each head split over time, height and width.
            "rope_scaling": {"type": "mrope", "mrope_section": [head // 4, head // 8, head // 8]},
            "pad_token_id": tokenizer.pad_token_id,
            "bos_token_id": tokenizer.eos_token_id,  # Qwen's `<|endoftext|>` is both
            "eos_token_id": tokenizer.eos_token_id,
        },
        vision_config={
            "depth": 1,
            "hidden_size": 16,
            "intermediate_size": 32,
            "num_heads": 2,
            "out_hidden_size": width,
            "fullatt_block_indexes": [0],
        },
    )
    return Qwen2_5_VLForConditionalGeneration(config)
