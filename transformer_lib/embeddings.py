"""Token embeddings: an id becomes a learned vector.

Legend: B batch, T length, V vocabulary size, D d_model.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn

from ._checks import check_positive_int, check_token_ids

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
