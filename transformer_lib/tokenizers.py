"""Toy tokenizers for the book's sentences (English words, Chinese words or characters).

Real models use sub-word tokenizers (see :mod:`transformer_lib.pretrained`); the
chapters only need to turn a handful of short sentences into ids.
"""
from __future__ import annotations

from typing import Iterable, Sequence

import torch

__all__ = ["WordTokenizer", "CharTokenizer", "BOOK_SENTENCES", "SPECIAL_TOKENS"]

#: The example sentences of the book, already split into words.
BOOK_SENTENCES: dict[str, list[str]] = {
    "burger": ["今天", "晚上", "吃", "汉堡"],  # "eat a burger tonight"
    "robot": ["robot", "must", "obey", "orders"],
    "cat": ["the", "cat", "sat", "on", "the", "mat"],
    "animal": ["the", "animal", "did", "not", "cross", "the", "street", "because", "it", "was", "tired"],
}

SPECIAL_TOKENS = ("<pad>", "<unk>", "<bos>", "<eos>")


class WordTokenizer:
    """Maps whole words to ids; the vocabulary starts with the special tokens.

    Args:
        vocab: the words, in id order (special tokens are put first if missing).

    ``encode`` accepts a string (split on spaces) or a list of words, so Chinese
    sentences can be passed pre-segmented: ``["今天", "晚上", "吃", "汉堡"]``.
    """

    def __init__(self, vocab: Sequence[str]):
        words = list(SPECIAL_TOKENS) + [w for w in dict.fromkeys(vocab) if w not in SPECIAL_TOKENS]
        self.itos: list[str] = words
        self.stoi: dict[str, int] = {w: i for i, w in enumerate(words)}

    @classmethod
    def from_sentences(cls, sentences: Iterable) -> "WordTokenizer":
        """Build the vocabulary from sentences (strings or lists of words), in order of appearance."""
        vocab: list[str] = []
        for sentence in sentences:
            vocab.extend(cls.split(sentence))
        return cls(vocab)

    @staticmethod
    def split(sentence) -> list[str]:
        if isinstance(sentence, str):
            return sentence.split()
        if isinstance(sentence, (list, tuple)) and all(isinstance(w, str) for w in sentence):
            return list(sentence)
        raise TypeError(f"sentence must be a string or a list of strings, got {sentence!r}")

    pad_id = property(lambda self: self.stoi["<pad>"])
    unk_id = property(lambda self: self.stoi["<unk>"])
    bos_id = property(lambda self: self.stoi["<bos>"])
    eos_id = property(lambda self: self.stoi["<eos>"])

    def __len__(self) -> int:
        return len(self.itos)

    @property
    def vocab_size(self) -> int:
        return len(self.itos)

    def tokenize(self, sentence) -> list[str]:
        """The tokens of ``sentence`` (unknown words stay as they are)."""
        return self.split(sentence)

    def encode(self, sentence, add_special: bool = False) -> list[int]:
        """Sentence -> list of ids (unknown words -> ``<unk>``)."""
        ids = [self.stoi.get(token, self.unk_id) for token in self.tokenize(sentence)]
        return [self.bos_id, *ids, self.eos_id] if add_special else ids

    def decode(self, ids, skip_special: bool = True) -> list[str]:
        """Ids -> tokens."""
        if isinstance(ids, torch.Tensor):
            ids = ids.tolist()
        out = []
        for i in ids:
            if not 0 <= i < len(self.itos):
                raise ValueError(f"id {i} is outside the vocabulary [0, {len(self.itos) - 1}]")
            if skip_special and self.itos[i] in SPECIAL_TOKENS:
                continue
            out.append(self.itos[i])
        return out

    def batch_encode(self, sentences: Sequence, add_special: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """Encode and right-pad several sentences.

        Returns:
            ``(ids (B, S), lengths (B,))``; padding uses ``pad_id``.
        """
        encoded = [self.encode(s, add_special) for s in sentences]
        if not encoded:
            raise ValueError("sentences must not be empty")
        longest = max(len(e) for e in encoded)
        ids = torch.full((len(encoded), longest), self.pad_id, dtype=torch.long)
        for row, e in enumerate(encoded):
            ids[row, : len(e)] = torch.tensor(e, dtype=torch.long)
        return ids, torch.tensor([len(e) for e in encoded])

    def __repr__(self) -> str:
        return f"{type(self).__name__}(vocab_size={self.vocab_size})"


class CharTokenizer(WordTokenizer):
    """One token per character (spaces dropped): natural for Chinese text."""

    @staticmethod
    def split(sentence) -> list[str]:
        if isinstance(sentence, (list, tuple)):
            sentence = "".join(sentence)
        if not isinstance(sentence, str):
            raise TypeError(f"sentence must be a string, got {sentence!r}")
        return [c for c in sentence if not c.isspace()]
