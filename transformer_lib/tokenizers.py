"""Toy tokenizers for the book's sentences (English words, Chinese words or characters).

Real models use sub-word tokenizers (see :mod:`transformer_lib.pretrained`); the
chapters only need to turn a handful of short sentences into ids.
"""
from __future__ import annotations

import operator
from collections.abc import Iterable, Sequence

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
        vocab = list(vocab) if isinstance(vocab, Iterable) and not isinstance(vocab, str) else vocab
        if isinstance(vocab, str) or not isinstance(vocab, Iterable) or not all(
                isinstance(w, str) for w in vocab):
            raise TypeError(f"vocab must be a list of strings (the tokens), got {vocab!r:.80}")
        words = list(SPECIAL_TOKENS) + [w for w in dict.fromkeys(vocab) if w not in SPECIAL_TOKENS]
        self.itos: list[str] = words
        self.stoi: dict[str, int] = {w: i for i, w in enumerate(words)}

    @classmethod
    def from_sentences(cls, sentences: Iterable) -> WordTokenizer:
        """Build the vocabulary from sentences (strings or lists of words), in order of appearance."""
        if isinstance(sentences, str) or not isinstance(sentences, Iterable):
            raise TypeError(
                f"sentences must be a list of sentences (strings or lists of words), got "
                f"{type(sentences).__name__} {sentences!r:.60}; for one sentence pass [sentence]"
            )
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

    def decode_tokens(self, ids, skip_special: bool = True) -> list[str]:
        """Ids -> the list of their tokens (one string per id), e.g. for axis labels.

        Args:
            ids: a 1-D sequence of ids: list/tuple of ints, 1-D integer tensor or array.
            skip_special: leave out ``<pad>``, ``<unk>``, ``<bos>``, ``<eos>``.
        """
        out = []
        for i in self._check_ids(ids):
            if skip_special and self.itos[i] in SPECIAL_TOKENS:
                continue
            out.append(self.itos[i])
        return out

    def decode(self, ids, skip_special: bool = True) -> str:
        """Ids -> text, the inverse of :meth:`encode`: tokens joined by spaces.

        Every tokenizer of the library returns a string here; use
        :meth:`decode_tokens` for the list of tokens.
        """
        return self.join(self.decode_tokens(ids, skip_special))

    @staticmethod
    def join(tokens: list[str]) -> str:
        """Tokens -> text (words are separated by spaces)."""
        return " ".join(tokens)

    def _check_ids(self, ids) -> list[int]:
        """``ids`` as a list of Python ints inside the vocabulary, or a clear error."""
        if isinstance(ids, (str, bytes)) or ids is None:
            raise TypeError(f"ids must be a sequence of integer ids, got {type(ids).__name__} {ids!r}")
        if isinstance(ids, torch.Tensor) or hasattr(ids, "__array__"):
            tensor = torch.as_tensor(ids)
            if tensor.is_floating_point() or tensor.is_complex() or tensor.dtype == torch.bool:
                raise TypeError(f"ids must hold integer ids, got dtype {tensor.dtype}")
            if tensor.dim() > 1:
                raise ValueError(
                    f"ids must be 1-D (one sequence), got shape {tuple(tensor.shape)}; decode one row at a time"
                )
            ids = tensor.reshape(-1).tolist()  # (T,) or () -> T ids
        elif isinstance(ids, int) and not isinstance(ids, bool):
            ids = [ids]
        try:
            ids = list(ids)
        except TypeError:
            raise TypeError(f"ids must be a sequence of integer ids, got {type(ids).__name__}") from None
        checked = []
        for i in ids:
            try:
                if isinstance(i, bool):
                    raise TypeError
                checked.append(operator.index(i))  # ints, numpy ints, 0-dim integer tensors
            except TypeError:
                raise TypeError(f"ids must be integer ids, got {i!r} of type {type(i).__name__}") from None
        ids = checked
        for i in ids:
            if not 0 <= i < len(self.itos):
                raise ValueError(f"id {i} is outside the vocabulary [0, {len(self.itos) - 1}]")
        return ids

    def batch_encode(self, sentences: Sequence, add_special: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """Encode and right-pad several sentences.

        Returns:
            ``(ids (B, S), lengths (B,))``; padding uses ``pad_id``.
        """
        if isinstance(sentences, str) or not isinstance(sentences, Iterable):
            raise TypeError(
                f"sentences must be a list of sentences, got {type(sentences).__name__} {sentences!r:.60}; "
                "for one sentence use encode() or pass [sentence]"
            )
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

    @staticmethod
    def join(tokens: list[str]) -> str:
        """Characters -> text (no separator: spaces are not tokens)."""
        return "".join(tokens)
