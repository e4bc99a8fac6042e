"""Positional information: sinusoidal tables, learned positions and RoPE.

Legend: B batch, T length, D d_model, L max_len, d_k head width.

Self-attention alone ignores word order (shuffle the tokens and the outputs are
shuffled the same way), so positions are injected:

* sinusoidal (the paper): PE[pos, 2i] = sin(pos / 10000^(2i/D)),
  PE[pos, 2i+1] = cos(pos / 10000^(2i/D)), a fixed table added to the input;
* learned (BERT, GPT-2): one trained vector per position, added to the input;
* rotary (RoPE, most modern LLMs): rotate each pair of features of q and k by an
  angle proportional to the position, so q.k depends on the distance only.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from ._checks import (
    check_choice,
    check_divisible,
    check_features,
    check_float_tensor,
    check_input,
    check_nonnegative_int,
    check_positive_int,
    check_probability,
    check_tensor,
)

__all__ = [
    "sinusoidal_encoding",
    "SinusoidalPositionalEncoding",
    "LearnedPositionalEmbedding",
    "RotaryEmbedding",
    "ROPE_LAYOUTS",
    "interleaved_to_half",
    "half_to_interleaved",
]


def sinusoidal_encoding(
    max_len: int, d_model: int, base: float = 10000.0, layout: str = "interleaved"
) -> torch.Tensor:
    """The fixed sinusoidal table of "Attention Is All You Need".

    Args:
        max_len: number of positions L.
        d_model: width D (odd widths work: the last column is a sine).
        base: the 10000 of the formula.
        layout: "interleaved" (sin in even columns, cos in odd ones, as in the paper)
            or "concatenated" (all sines, then all cosines, as some code bases do).

    Returns:
        float32 tensor (L, D).
    """
    check_positive_int("max_len", max_len)
    check_positive_int("d_model", d_model)
    check_choice("layout", layout, {"interleaved", "concatenated"})
    if base <= 1:
        raise ValueError(f"base must be > 1, got {base}")
    position = torch.arange(max_len, dtype=torch.float64)[:, None]  # (L, 1)
    two_i = torch.arange(0, d_model, 2, dtype=torch.float64)  # (ceil(D/2),) = 0, 2, 4, ...
    frequency = base ** (-two_i / d_model)  # 1 / 10000^(2i/D)
    angle = position * frequency  # (L, 1) * (ceil(D/2),) -> (L, ceil(D/2))
    n_cos = d_model // 2
    if layout == "interleaved":
        table = torch.zeros(max_len, d_model, dtype=torch.float64)
        table[:, 0::2] = torch.sin(angle)
        table[:, 1::2] = torch.cos(angle[:, :n_cos])
    else:
        table = torch.cat([torch.sin(angle), torch.cos(angle[:, :n_cos])], dim=-1)  # (L, D)
    return table.float()


def _check_length(T: int, offset: int, max_len: int) -> None:
    offset = check_nonnegative_int("offset", offset)
    if offset + T > max_len:
        raise ValueError(
            f"sequence of length {T} at offset {offset} needs {offset + T} positions, "
            f"but the positional table has max_len={max_len}"
        )


class SinusoidalPositionalEncoding(nn.Module):
    """Adds the sinusoidal table to token embeddings.

    Args:
        max_len: longest sequence supported L (the table is a registered buffer).
        d_model: width D.
        dropout: dropout applied to the sum, as in the paper.
        layout: see :func:`sinusoidal_encoding`.

    Both additive position modules take ``(max_len, d_model)``, the shape of the
    table they hold (as ``nn.Embedding(num_embeddings, embedding_dim)`` does).

    Attributes:
        pe: (L, D) buffer; dropout: ``nn.Dropout``.
    """

    def __init__(self, max_len: int, d_model: int, dropout: float = 0.0, layout: str = "interleaved"):
        super().__init__()
        check_positive_int("max_len", max_len)
        check_positive_int("d_model", d_model)
        check_probability("dropout", dropout)
        self.d_model, self.max_len = d_model, max_len
        self.register_buffer("pe", sinusoidal_encoding(max_len, d_model, layout=layout), persistent=False)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, offset: int = 0) -> torch.Tensor:
        """(B, T, D) -> (B, T, D): x + PE[offset : offset + T]."""
        check_tensor("x", x, ndim=3)
        check_features("x", x, self.d_model)
        T = x.shape[1]
        _check_length(T, offset, self.max_len)
        return self.dropout(x + self.pe[offset : offset + T].to(x.dtype))  # (T, D) broadcasts over B


class LearnedPositionalEmbedding(nn.Module):
    """One trained vector per position (BERT, GPT-2), added to the input.

    Args:
        max_len: number of positions L.
        d_model: width D.

    Attributes:
        embedding: ``nn.Embedding(max_len, d_model)`` holding the position vectors.
    """

    def __init__(self, max_len: int, d_model: int):
        super().__init__()
        check_positive_int("max_len", max_len)
        check_positive_int("d_model", d_model)
        self.max_len, self.d_model = max_len, d_model
        self.embedding = nn.Embedding(max_len, d_model)

    def forward(self, x: torch.Tensor, offset: int = 0) -> torch.Tensor:
        """(B, T, D) -> (B, T, D): x + P[offset : offset + T]."""
        check_input("x", x, self, ndim=3, d_model=self.d_model)  # and the table's dtype and device
        T = x.shape[1]
        _check_length(T, offset, self.max_len)
        positions = torch.arange(offset, offset + T, device=x.device)  # (T,)
        return x + self.embedding(positions)  # (T, D) broadcasts over B


ROPE_LAYOUTS = ("interleaved", "half")


class RotaryEmbedding(nn.Module):
    """Rotary position embedding (RoPE), applied to queries and keys.

    The d_k features of a head vector at position ``pos`` form d_k / 2 pairs; pair
    ``i`` is rotated by the angle ``pos * base^(-2i/d_k)``. Rotating q at position
    m and k at position n makes their dot product depend on m - n only.

    Which features form pair ``i`` is a storage convention, ``layout``:

    * "interleaved": features (2i, 2i+1), adjacent (the RoPE paper, llama.cpp/GGUF);
    * "half": features (i, i + d_k/2), first half with second half (transformers'
      ``rotate_half``).

    The two compute the same attention when the rows of W_q and W_k are permuted
    accordingly (each checkpoint format stores them for its own layout).

    Args:
        d_head: head width d_k (even).
        max_len: number of positions precomputed.
        base: the 10000 of the formula (SmolLM2: 100000).
        layout: "interleaved" or "half".
    """

    def __init__(self, d_head: int, max_len: int = 2048, base: float = 10000.0, layout: str = "interleaved"):
        super().__init__()
        check_positive_int("d_head", d_head)
        check_positive_int("max_len", max_len)
        check_choice("layout", layout, set(ROPE_LAYOUTS))
        if d_head % 2:
            raise ValueError(f"d_head must be even for rotary embeddings (pairs of features), got {d_head}")
        if isinstance(base, bool) or not isinstance(base, (int, float)) or not base > 1:
            raise ValueError(f"base must be a number > 1, got {base!r}")
        self.d_head, self.max_len, self.base, self.layout = d_head, max_len, float(base), layout
        two_i = torch.arange(0, d_head, 2, dtype=torch.float64)  # (d_k/2,)
        angle = torch.arange(max_len, dtype=torch.float64)[:, None] * base ** (-two_i / d_head)  # (L, d_k/2)
        # Kept in float64 (a few MB at most) so a float64 model rotates in float64; each
        # call casts the rows it needs to the input's dtype.
        self.register_buffer("cos", torch.cos(angle), persistent=False)  # (L, d_k/2)
        self.register_buffer("sin", torch.sin(angle), persistent=False)

    def rotate(self, x: torch.Tensor, offset: int = 0) -> torch.Tensor:
        """Rotate (..., T, d_k) vectors sitting at positions offset .. offset + T - 1."""
        check_float_tensor("x", x, ndim_min=2)
        check_features("x", x, self.d_head, what="d_head")
        T = x.shape[-2]
        _check_length(T, offset, self.max_len)
        # [book: rope-rotate]
        cos = self.cos[offset : offset + T].to(x.dtype)  # (T, d_k/2)
        sin = self.sin[offset : offset + T].to(x.dtype)
        if self.layout == "half":
            first, second = x.chunk(2, dim=-1)  # (..., T, d_k/2) each: pair i = (i, i + d_k/2)
            return torch.cat([first * cos - second * sin, first * sin + second * cos], dim=-1)  # (..., T, d_k)
        even, odd = x[..., 0::2], x[..., 1::2]  # (..., T, d_k/2) each: pair i = (2i, 2i+1)
        rotated = torch.stack([even * cos - odd * sin, even * sin + odd * cos], dim=-1)  # (..., T, d_k/2, 2)
        return rotated.flatten(-2)  # (..., T, d_k/2, 2) -> (..., T, d_k), pairs back in place
        # [/book: rope-rotate]

    def forward(self, q: torch.Tensor, k: torch.Tensor, offset: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        """Rotate queries (..., T, d_k) and keys (..., T, d_k) that start at position ``offset``.

        With grouped-query attention q has H heads and k has H_kv: each is rotated on its own.
        """
        return self.rotate(q, offset), self.rotate(k, offset)

    def extra_repr(self) -> str:
        return f"d_head={self.d_head}, max_len={self.max_len}, base={self.base:g}, layout={self.layout!r}"


def _head_width(weight: torch.Tensor, n_heads: int) -> int:
    """d_k of a (n_heads * d_k, ...) W_q or W_k, checked to be even (RoPE rotates pairs)."""
    check_tensor("weight", weight, ndim_min=1)
    rows = weight.shape[0]
    check_divisible("rows", rows, "n_heads", n_heads)
    if (rows // n_heads) % 2:
        raise ValueError(f"the head width d_k = {rows} / {n_heads} = {rows // n_heads} must be even (RoPE pairs)")
    return rows // n_heads


def interleaved_to_half(weight: torch.Tensor, n_heads: int) -> torch.Tensor:
    """Permute the rows of a W_q or W_k (n_heads * d_k, D) from the interleaved to the half layout.

    Within each head, output row 2i goes to row i and row 2i+1 to row i + d_k/2, so that
    ``RotaryEmbedding(layout="half")`` with the result computes what ``layout="interleaved"``
    computes with ``weight``. (Biases, shape (n_heads * d_k,), permute the same way.)
    """
    d_k = _head_width(weight, n_heads)
    w = weight.reshape(n_heads, d_k // 2, 2, *weight.shape[1:])  # (H * d_k, ...) -> (H, d_k/2, 2, ...)
    return w.transpose(1, 2).reshape(weight.shape)  # (H, 2, d_k/2, ...) -> (H * d_k, ...)


def half_to_interleaved(weight: torch.Tensor, n_heads: int) -> torch.Tensor:
    """The inverse of :func:`interleaved_to_half` (what llama.cpp does when it converts)."""
    d_k = _head_width(weight, n_heads)
    w = weight.reshape(n_heads, 2, d_k // 2, *weight.shape[1:])  # (H * d_k, ...) -> (H, 2, d_k/2, ...)
    return w.transpose(1, 2).reshape(weight.shape)  # (H, d_k/2, 2, ...) -> (H * d_k, ...)
