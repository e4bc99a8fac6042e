"""Small data sets that a Transformer can learn on a CPU in seconds, all generated or bundled offline.

* :class:`SequenceTask`: reverse (or sort, or copy) a sequence of digits, the classic
  first task for an encoder-decoder;
* :func:`toy_translation_pairs`: a tiny Chinese -> English phrase book built from a
  template grammar ("机器人 必须 服从 命令" -> "robot must obey orders");
* :func:`load_digit_rows`: scikit-learn's bundled 8 x 8 handwritten digits, each image
  a sequence of 8 row-tokens with 8 pixel features.

Legend: N examples, B batch, L sequence length, S source length, T target length.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import torch

from ._checks import check_choice, check_positive_int, check_tensor
from .generation import greedy_decode
from .losses import token_cross_entropy

__all__ = [
    "SequenceTask", "minibatches", "shift_right", "toy_translation_pairs", "DigitRows",
    "load_digit_rows",
]


def shift_right(tokens: torch.Tensor, bos_id: int) -> torch.Tensor:
    """The decoder input of teacher forcing: ``tokens`` shifted right by one, BOS in front.

    (N, L) -> (N, L): position 0 holds ``bos_id`` and position t holds ``tokens[:, t - 1]``;
    the last token is dropped (nothing comes after it to predict).
    """
    check_tensor("tokens", tokens, ndim=2)
    bos = torch.full((tokens.shape[0], 1), bos_id, dtype=tokens.dtype, device=tokens.device)
    return torch.cat([bos, tokens[:, :-1]], dim=1)  # (N, 1) + (N, L-1) -> (N, L)


def minibatches(*tensors: torch.Tensor, batch_size: int, steps: int, seed: int = 0) -> list[tuple]:
    """``steps`` mini-batches drawn without replacement, reshuffled every epoch.

    Args:
        tensors: tensors sharing their first dimension N (inputs, labels, ...).
        batch_size: rows per batch (<= N); an incomplete last batch is dropped.
        steps: number of batches to return.
        seed: seed of the shuffling generator (the order is repeatable).

    Returns:
        A list of ``steps`` tuples, each holding one batch of every tensor.
    """
    if not tensors:
        raise ValueError("give at least one tensor")
    n = tensors[0].shape[0]
    if any(t.shape[0] != n for t in tensors):
        raise ValueError(f"tensors must share their first dimension, got {[tuple(t.shape) for t in tensors]}")
    check_positive_int("batch_size", batch_size)
    check_positive_int("steps", steps)
    if batch_size > n:
        raise ValueError(f"batch_size={batch_size} is larger than the data set ({n} rows)")
    generator = torch.Generator().manual_seed(seed)
    out: list[tuple] = []
    while len(out) < steps:
        order = torch.randperm(n, generator=generator)
        for start in range(0, n - batch_size + 1, batch_size):
            rows = order[start : start + batch_size]
            out.append(tuple(t[rows] for t in tensors))
            if len(out) == steps:
                break
    return out


@dataclass(frozen=True)
class SequenceTask:
    """Map a sequence of ``length`` symbols (ids 0 .. n_symbols-1) to its reverse, sorted copy or copy.

    The target starts with a BOS token whose id is ``n_symbols``, so source and target share
    one vocabulary of ``n_symbols + 1`` ids. All sequences have the same length: no padding.

    Example::

        task = SequenceTask(n_symbols=10, length=8, kind="reverse")
        src, tgt_in, tgt_out = task.teacher_forcing(task.sample(2))
    """

    n_symbols: int = 10
    length: int = 8
    kind: str = "reverse"

    def __post_init__(self):
        check_positive_int("n_symbols", self.n_symbols)
        check_positive_int("length", self.length)
        check_choice("kind", self.kind, {"reverse", "sort", "copy"})

    @property
    def bos_id(self) -> int:
        return self.n_symbols

    @property
    def vocab_size(self) -> int:
        return self.n_symbols + 1

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` random source sequences (N, L) (symbols drawn uniformly)."""
        check_positive_int("n", n)
        return torch.randint(0, self.n_symbols, (n, self.length), generator=generator)

    def target(self, src: torch.Tensor) -> torch.Tensor:
        """The correct output for each source sequence: (N, L) -> (N, L)."""
        check_tensor("src", src, ndim=2)
        if self.kind == "reverse":
            return src.flip(1)
        if self.kind == "sort":
            return src.sort(dim=1).values
        return src.clone()

    def split(self, n_train: int, n_test: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        """A training set and a held-out test set with no sequence in common.

        Returns:
            ``(train (N_train', L), test (n_test, L))``; training sequences that also occur in the
            test set are dropped, so N_train' <= n_train.
        """
        generator = torch.Generator().manual_seed(seed)
        test = torch.unique(self.sample(n_test * 2, generator), dim=0)
        test = test[torch.randperm(test.shape[0], generator=generator)[:n_test]]
        train = self.sample(n_train, generator)
        seen = {tuple(row) for row in test.tolist()}
        keep = torch.tensor([tuple(row) not in seen for row in train.tolist()])
        return train[keep], test

    def teacher_forcing(self, src: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Inputs and targets for training: ``(src, tgt_in, tgt_out)``.

        ``tgt_out`` is the correct output (N, L); ``tgt_in`` is the same shifted right by one
        with BOS in front (N, L): at position t the decoder sees the correct tokens before t
        and must predict token t.
        """
        tgt_out = self.target(src)
        return src, shift_right(tgt_out, self.bos_id), tgt_out

    def loss(self, model, src: torch.Tensor) -> torch.Tensor:
        """Mean cross-entropy of the target tokens under teacher forcing."""
        src, tgt_in, tgt_out = self.teacher_forcing(src)
        return token_cross_entropy(model(src, tgt_in), tgt_out)

    def predict(self, model, src: torch.Tensor) -> torch.Tensor:
        """Greedy decoding, one token at a time, without the answer: (N, L) -> (N, L)."""
        return greedy_decode(model, src, max_len=self.length, bos_id=self.bos_id)[:, 1:]

    def exact_match(self, model, src: torch.Tensor) -> float:
        """Fraction of sequences whose whole greedy output is correct."""
        return (self.predict(model, src) == self.target(src)).all(dim=1).float().mean().item()

    def token_accuracy(self, model, src: torch.Tensor) -> float:
        """Fraction of output tokens that are correct (greedy decoding)."""
        return (self.predict(model, src) == self.target(src)).float().mean().item()

    def scores(self, model, src: torch.Tensor) -> dict[str, float]:
        """Exact match and token accuracy from one greedy decoding of ``src``."""
        correct = self.predict(model, src) == self.target(src)  # (N, L) booleans
        return {"exact_match": correct.all(dim=1).float().mean().item(),
                "token_accuracy": correct.float().mean().item()}


# A tiny phrase book: subject, modal verb, verb and object translate word for word;
# the time word "今天" moves from the front (Chinese) to the end ("today", English).
_SUBJECTS = {"机器人": "robot", "猫": "cat", "学生": "student"}
_MODALS = {"必须": "must", "可以": "can"}
_VERBS = {"服从": "obey", "吃": "eat", "读": "read"}
_OBJECTS = {"命令": "orders", "汉堡": "burgers", "书": "books"}
_TIME = {"今天": "today"}


def toy_translation_pairs() -> list[tuple[list[str], list[str]]]:
    """Every sentence of the template grammar, as (Chinese words, English words) pairs.

    3 subjects x 2 modals x 3 verbs x 3 objects, each with and without "今天 ... today":
    108 pairs, e.g. ``(["今天", "机器人", "必须", "服从", "命令"], ["robot", "must", "obey", "orders", "today"])``.
    """
    pairs = []
    for (zs, es), (zm, em), (zv, ev), (zo, eo) in itertools.product(
        _SUBJECTS.items(), _MODALS.items(), _VERBS.items(), _OBJECTS.items()
    ):
        pairs.append(([zs, zm, zv, zo], [es, em, ev, eo]))
        (zt, et), = _TIME.items()
        pairs.append(([zt, zs, zm, zv, zo], [es, em, ev, eo, et]))
    return pairs


@dataclass
class DigitRows:
    """The 8 x 8 digits as sequences: each image is 8 row-tokens of 8 pixel values in [0, 1].

    Attributes:
        x_train, x_test: (N, 8, 8) float32 images (row index = token position).
        y_train, y_test: (N,) int64 labels 0-9.
    """

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor


def load_digit_rows(test_fraction: float = 0.25, seed: int = 0) -> DigitRows:
    """scikit-learn's bundled handwritten digits (1797 images, no download), split in two.

    Pixels (0-16) are divided by 16. The split is stratified by label and repeatable.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = torch.tensor(digits.images / 16.0, dtype=torch.float32)  # (1797, 8, 8)
    labels = torch.tensor(digits.target, dtype=torch.long)
    idx_train, idx_test = train_test_split(
        list(range(len(labels))), test_size=test_fraction, random_state=seed, stratify=digits.target
    )
    idx_train, idx_test = torch.tensor(idx_train), torch.tensor(idx_test)
    return DigitRows(images[idx_train], labels[idx_train], images[idx_test], labels[idx_test])
