"""Token embeddings: an id becomes a learned vector; the input stage of every model.

Legend: B batch, T length, V vocabulary size, D d_model.

Every model starts the same way: token vectors, plus position vectors (learned or
sinusoidal; none with RoPE, which acts inside attention), then dropout. That stage
is written once, in :class:`_Embeddings`, and shared by Encoder, Decoder and GPT.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn

from ._checks import check_positive_int, check_tensor, check_token_ids
from .config import TransformerConfig
from .positional import LearnedPositionalEmbedding, SinusoidalPositionalEncoding

__all__ = ["TokenEmbedding"]


class TokenEmbedding(nn.Module):
    """Look up one vector per token id.

    Args:
        vocab_size: number of ids V.
        d_model: width D.
        scale: multiply by sqrt(d_model), as the paper does so that embeddings and
            the sinusoidal table (values in [-1, 1]) have comparable sizes. GPT-2
            and BERT do not scale.
        padding_idx: optional id whose vector stays zero.

    Attributes:
        embedding: the ``nn.Embedding(vocab_size, d_model)`` table.
    """

    def __init__(self, vocab_size: int, d_model: int, scale: bool = True, padding_idx: int | None = None):
        super().__init__()
        check_positive_int("vocab_size", vocab_size)
        check_positive_int("d_model", d_model)
        self.vocab_size, self.d_model, self.scale = vocab_size, d_model, scale
        self.embedding = nn.Embedding(vocab_size, d_model, padding_idx=padding_idx)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """(B, T) integer ids -> (B, T, D)."""
        check_token_ids("tokens", tokens, self.vocab_size)
        if tokens.dtype not in (torch.int64, torch.int32):
            tokens = tokens.long()  # nn.Embedding takes int64/int32 ids; int8/int16/uint8 are converted
        x = self.embedding(tokens)
        return x * math.sqrt(self.d_model) if self.scale else x


def _positions(config: TransformerConfig) -> nn.Module | None:
    """The module that adds positions to embeddings (None for RoPE / no positions)."""
    if config.positional == "sinusoidal":
        return SinusoidalPositionalEncoding(config.max_len, config.d_model)
    if config.positional == "learned":
        return LearnedPositionalEmbedding(config.max_len, config.d_model)
    return None


class _Embeddings(nn.Module):
    """Token embedding + positions + dropout, shared by every model.

    A model calls :meth:`_init_embeddings` and then :meth:`embed`; it gets the
    attributes tok_emb (TokenEmbedding, or None for vector inputs), pos_emb (or None
    for RoPE / no positions) and drop (nn.Dropout).
    """

    def _init_embeddings(self, config: TransformerConfig, vocab_size: int | None, scale: bool) -> None:
        self.tok_emb = TokenEmbedding(vocab_size, config.d_model, scale=scale) if vocab_size else None
        self.pos_emb = _positions(config)
        self.drop = nn.Dropout(config.dropout)
        self.d_model, self.max_len = config.d_model, config.max_len

    def embed(self, tokens: torch.Tensor, offset: int = 0) -> torch.Tensor:
        """(B, T) ids or (B, T, D) vectors at positions offset .. offset + T - 1 -> (B, T, D)."""
        if isinstance(tokens, torch.Tensor) and tokens.dim() == 3 and tokens.is_floating_point():
            if tokens.shape[-1] != self.d_model:
                raise ValueError(f"input vectors must have d_model={self.d_model} features, got {tuple(tokens.shape)}")
            x = tokens
        else:
            check_tensor("tokens", tokens, ndim=2)
            if self.tok_emb is None:
                raise TypeError("this model has no token embedding: pass (B, T, D) float vectors")
            x = self.tok_emb(tokens)  # (B, T) -> (B, T, D)
        T = x.shape[1]
        if offset + T > self.max_len:
            raise ValueError(
                f"sequence length {offset + T} (cached {offset} + new {T}) exceeds max_len={self.max_len}"
            )
        if self.pos_emb is not None:
            x = self.pos_emb(x, offset=offset)  # (B, T, D) + positions
        return self.drop(x)


class _Embed(_Embeddings):
    """The embeddings of an :class:`Encoder` or :class:`Decoder`, as one submodule ``embed``."""

    def __init__(self, config: TransformerConfig, vocab_size: int | None, scale: bool):
        super().__init__()
        self._init_embeddings(config, vocab_size, scale)

    def forward(self, tokens: torch.Tensor, offset: int = 0) -> torch.Tensor:
        """(B, T) ids or (B, T, D) vectors -> (B, T, D)."""
        return self.embed(tokens, offset)
