"""Positional information: sinusoidal tables, learned positions and RoPE.

Legend: B batch, T length, D d_model, L max_len, K head width.

Self-attention alone ignores word order (shuffle the tokens and the outputs are
shuffled the same way), so positions are injected:

* sinusoidal (the paper): PE[pos, 2i] = sin(pos / 10000^(2i/D)),
  PE[pos, 2i+1] = cos(pos / 10000^(2i/D)), a fixed table added to the input;
* learned (BERT, GPT-2): one trained vector per position, added to the input;
* rotary (RoPE, most modern LLMs): rotate each (even, odd) pair of q and k by an
  angle proportional to the position, so q.k depends on the distance only.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from ._checks import check_choice, check_positive_int, check_probability, check_tensor

__all__ = [
    "sinusoidal_encoding",
    "SinusoidalPositionalEncoding",
    "LearnedPositionalEmbedding",
    "RotaryEmbedding",
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
    if offset < 0:
        raise ValueError(f"offset must be >= 0, got {offset}")
    if offset + T > max_len:
        raise ValueError(
            f"sequence of length {T} at offset {offset} needs {offset + T} positions, "
            f"but the positional table has max_len={max_len}"
        )


class SinusoidalPositionalEncoding(nn.Module):
    """Adds the sinusoidal table to token embeddings.

    Args:
        d_model: width D.
        max_len: longest sequence supported (the table is a registered buffer).
        dropout: dropout applied to the sum, as in the paper.
    """

    def __init__(self, d_model: int, max_len: int = 5000, dropout: float = 0.0, layout: str = "interleaved"):
        super().__init__()
        check_positive_int("d_model", d_model)
        check_positive_int("max_len", max_len)
        check_probability("dropout", dropout)
        self.d_model, self.max_len = d_model, max_len
        self.register_buffer("pe", sinusoidal_encoding(max_len, d_model, layout=layout), persistent=False)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, offset: int = 0) -> torch.Tensor:
        """(B, T, D) -> (B, T, D): x + PE[offset : offset + T]."""
        check_tensor("x", x, ndim=3)
        if x.shape[-1] != self.d_model:
            raise ValueError(f"x must have d_model={self.d_model} features, got shape {tuple(x.shape)}")
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
        check_tensor("x", x, ndim=3)
        if x.shape[-1] != self.d_model:
            raise ValueError(f"x must have d_model={self.d_model} features, got shape {tuple(x.shape)}")
        T = x.shape[1]
        _check_length(T, offset, self.max_len)
        positions = torch.arange(offset, offset + T, device=x.device)  # (T,)
        return x + self.embedding(positions)  # (T, D) broadcasts over B


class RotaryEmbedding(nn.Module):
    """Rotary position embedding (RoPE), applied to queries and keys.

    Each pair of features (2i, 2i+1) of a head vector at position ``pos`` is
    rotated by the angle ``pos * base^(-2i/K)``. Rotating q at position m and k at
    position n makes their dot product depend on m - n only.

    Args:
        d_head: head width K (even).
        max_len: number of positions precomputed.
        base: the 10000 of the formula.
    """

    def __init__(self, d_head: int, max_len: int = 2048, base: float = 10000.0):
        super().__init__()
        check_positive_int("d_head", d_head)
        check_positive_int("max_len", max_len)
        if d_head % 2:
            raise ValueError(f"d_head must be even for rotary embeddings (pairs of features), got {d_head}")
        self.d_head, self.max_len = d_head, max_len
        two_i = torch.arange(0, d_head, 2, dtype=torch.float64)  # (K/2,)
        angle = torch.arange(max_len, dtype=torch.float64)[:, None] * base ** (-two_i / d_head)  # (L, K/2)
        self.register_buffer("cos", torch.cos(angle).float(), persistent=False)
        self.register_buffer("sin", torch.sin(angle).float(), persistent=False)

    def rotate(self, x: torch.Tensor, offset: int = 0) -> torch.Tensor:
        """Rotate (..., T, K) vectors sitting at positions offset .. offset + T - 1."""
        check_tensor("x", x, ndim_min=2)
        if x.shape[-1] != self.d_head:
            raise ValueError(f"x must have d_head={self.d_head} features, got shape {tuple(x.shape)}")
        T = x.shape[-2]
        _check_length(T, offset, self.max_len)
        cos = self.cos[offset : offset + T].to(x.dtype)  # (T, K/2)
        sin = self.sin[offset : offset + T].to(x.dtype)
        even, odd = x[..., 0::2], x[..., 1::2]  # (..., T, K/2) each
        rotated = torch.stack([even * cos - odd * sin, even * sin + odd * cos], dim=-1)  # (..., T, K/2, 2)
        return rotated.flatten(-2)  # (..., T, K/2, 2) -> (..., T, K), pairs back in place

    def forward(self, q: torch.Tensor, k: torch.Tensor, offset: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        """Rotate queries (..., T, K) and keys (..., T, K) that start at position ``offset``."""
        return self.rotate(q, offset), self.rotate(k, offset)
