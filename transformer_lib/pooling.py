"""Pooling: one vector per sequence from the (B, T, D) hidden states of an encoder.

Used by :class:`~transformer_lib.models.SequenceClassifier` (``pooling="mean"``)
and by the sentence embeddings of :func:`transformer_lib.pretrained.embed_sentences`.

Legend: B batch, T sequence length, D d_model.
"""
from __future__ import annotations

import torch

from ._checks import check_float_tensor, check_tensor

__all__ = ["mean_pool"]


def mean_pool(hidden: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
    """Average the hidden states of the real tokens: (B, T, D), (B, T) -> (B, D).

    Args:
        hidden: (B, T, D) hidden states.
        keep: (B, T), 1/True on real tokens and 0/False on padding (a tokenizer's
            ``attention_mask``).

    Returns:
        (B, D): for each sequence the mean over its real positions; a sequence with
        no real position gets zeros (like a fully masked attention row).
    """
    check_float_tensor("hidden", hidden, ndim=3)
    check_tensor("keep", keep, ndim=2)
    if keep.shape != hidden.shape[:2]:
        raise ValueError(
            f"keep must have the (B, T) shape of hidden {tuple(hidden.shape[:2])}, got {tuple(keep.shape)}"
        )
    # Sum in float32 at least: a float16 sum of many tokens overflows, and float16
    # counts stop being exact above 2048.
    dtype = torch.promote_types(hidden.dtype, torch.float32)
    weights = (keep != 0).to(dtype).unsqueeze(-1)  # (B, T) -> (B, T, 1): 1 real token, 0 padding
    summed = (hidden.to(dtype) * weights).sum(dim=1)  # (B, T, D) -> (B, D)
    counts = weights.sum(dim=1).clamp(min=1)  # (B, 1): number of real tokens, at least 1
    return (summed / counts).to(hidden.dtype)
