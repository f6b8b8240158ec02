"""A CLIP tokenizer whose merges are learned from the captions, so each caption word is one token.

The byte-level tokenizer of the random tiny model spells every word out; a text encoder as small
as the shapes model's learns far faster from whole words. The vocabulary keeps all 256 byte
symbols (and their end-of-word forms), so any prompt a member types still tokenizes.
"""

import itertools
import json

from tokenizers import Tokenizer, models, pre_tokenizers, trainers
from transformers import CLIPTokenizer
from transformers.convert_slow_tokenizer import bytes_to_unicode

from models.tiny.parts import byte_level_tokenizer
from training.shapes.scenes import scenes

_END_OF_WORD = "</w>"
_CORPUS = 20_000
"""Scenes whose captions the merges are learned from: every caption the generator can write."""
PROMPT_TOKENS = 20
"""The text encoder's window. The longest caption is 14 tokens with its start and end; a window of
77, as CLIP's, would cost a quarter of each training step in attention over padding. Longer prompts
are cut with a warning to the member (`worker.conditioning.truncation_warnings`)."""


def caption_tokenizer(model_max_length: int = PROMPT_TOKENS) -> CLIPTokenizer:
    """The byte-level vocabulary plus BPE merges learned from every scene caption (deterministic)."""
    stream = itertools.islice(scenes(0), _CORPUS)
    captions = sorted(
        {
            scene.describe(size=size, background=background)
            for scene in stream
            for size in (True, False)
            for background in (True, False)
        }
    )
    learner = Tokenizer(models.BPE(end_of_word_suffix=_END_OF_WORD))
    learner.pre_tokenizer = pre_tokenizers.Whitespace()
    learner.train_from_iterator(
        captions,
        trainers.BpeTrainer(
            vocab_size=100_000,  # more than the captions need: merge until every word is one token
            min_frequency=1,
            initial_alphabet=list(bytes_to_unicode().values()),
            end_of_word_suffix=_END_OF_WORD,
            show_progress=False,
        ),
    )
    learned = json.loads(learner.to_str())["model"]
    vocab = dict(byte_level_tokenizer().get_vocab())
    for token in sorted(learned["vocab"], key=learned["vocab"].get):
        vocab.setdefault(token, len(vocab))
    merges = [tuple(merge) for merge in learned["merges"]]
    return CLIPTokenizer(vocab=vocab, merges=merges, model_max_length=model_max_length)
