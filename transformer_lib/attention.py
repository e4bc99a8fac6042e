"""Scaled dot-product attention, written out step by step.

    attention(q, k, v) = softmax(q k^T / sqrt(d_k)) v

Shapes (any number of leading dimensions ``...``, usually ``(B, H)``):
    q: (..., T, d_k)   one query per target position
    k: (..., S, d_k)   one key per source position
    v: (..., S, d_v)   one value per source position
    weights: (..., T, S), each row sums to 1 (or is all zeros, see below)
    output:  (..., T, d_v)

Masks follow :mod:`transformer_lib.masks`: boolean, True = may attend.
A query whose keys are all masked gets zero weights and a zero output, never NaN.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ._checks import check_mask, check_probability, check_tensor

__all__ = ["scaled_dot_product_attention", "attention_steps", "AttentionSteps"]


def _check_qkv(q, k, v) -> tuple[int, ...]:
    """Check q, k, v and return the scores' shape (..., T, S)."""
    check_tensor("q", q, ndim_min=2)
    check_tensor("k", k, ndim_min=2)
    check_tensor("v", v, ndim_min=2)
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(
            f"q and k must have the same feature size d_k, got q {tuple(q.shape)} (d_k={q.shape[-1]}) "
            f"and k {tuple(k.shape)} (d_k={k.shape[-1]})"
        )
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(
            f"k and v must have the same number of positions S, got k {tuple(k.shape)} "
            f"and v {tuple(v.shape)}"
        )
    if not (q.dtype == k.dtype == v.dtype):
        raise TypeError(f"q, k, v must share one dtype, got {q.dtype}, {k.dtype}, {v.dtype}")
    try:
        lead = torch.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except RuntimeError:
        raise ValueError(
            f"the leading (batch/head) dimensions of q {tuple(q.shape)}, k {tuple(k.shape)} and "
            f"v {tuple(v.shape)} do not broadcast together"
        ) from None
    return (*lead, q.shape[-2], k.shape[-2])


@dataclass
class AttentionSteps:
    """Every intermediate of one attention computation (shapes for q (..., T, d_k)).

    Attributes:
        scores:  (..., T, S) raw dot products q k^T.
        scaled:  (..., T, S) scores / sqrt(d_k).
        masked:  (..., T, S) scaled scores with disallowed positions at -inf.
        weights: (..., T, S) row-wise softmax of ``masked`` (fully masked rows: zeros).
        output:  (..., T, d_v) weights @ v.
    """

    scores: torch.Tensor
    scaled: torch.Tensor
    masked: torch.Tensor
    weights: torch.Tensor
    output: torch.Tensor


def _masked_softmax(masked: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Row-wise softmax of scores that hold -inf at masked positions.

    A row with every key masked would be softmax(-inf, ..., -inf) = NaN; such rows
    are replaced by zeros before and after the softmax, so they come out as zeros.
    """
    any_key = None if mask is None else mask.any(dim=-1, keepdim=True)  # (..., T, 1): any key left?
    if any_key is None or bool(any_key.all()):
        return torch.softmax(masked, dim=-1)  # exp(-inf) = 0: masked keys already get exact zeros
    weights = torch.softmax(masked.masked_fill(~any_key, 0.0), dim=-1)
    return weights.masked_fill(~mask, 0.0)


def attention_steps(q, k, v, mask: torch.Tensor | None = None) -> AttentionSteps:
    """Compute attention and keep every stage, for the "matrix view" chapter.

    Args:
        q: (..., T, d_k) queries.
        k: (..., S, d_k) keys.
        v: (..., S, d_v) values.
        mask: optional BoolTensor broadcastable to (..., T, S), True = may attend.

    Returns:
        :class:`AttentionSteps` with ``scores``, ``scaled``, ``masked``, ``weights``, ``output``.
    """
    scores_shape = _check_qkv(q, k, v)
    if mask is not None:
        check_mask(mask, scores_shape)
    d_k = q.shape[-1]
    scores = q @ k.transpose(-2, -1)  # (..., T, d_k) @ (..., d_k, S) -> (..., T, S)
    scaled = scores / math.sqrt(d_k)
    masked = scaled if mask is None else scaled.masked_fill(~mask, float("-inf"))
    weights = _masked_softmax(masked, mask)
    output = weights @ v  # (..., T, S) @ (..., S, d_v) -> (..., T, d_v)
    return AttentionSteps(scores, scaled, masked, weights, output)


def scaled_dot_product_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    mask: torch.Tensor | None = None,
    dropout_p: float = 0.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """softmax(q k^T / sqrt(d_k)) v, the explicit math.

    Args:
        q: (..., T, d_k) queries.
        k: (..., S, d_k) keys.
        v: (..., S, d_v) values.
        mask: optional BoolTensor broadcastable to (..., T, S), True = may attend.
        dropout_p: dropout probability applied to the weights (0 = none).

    Returns:
        ``(output, weights)``: output (..., T, d_v) and weights (..., T, S). The
        weights are those used for the output (after dropout, if any).
    """
    check_probability("dropout_p", dropout_p)
    scores_shape = _check_qkv(q, k, v)
    if mask is not None:
        check_mask(mask, scores_shape)
    # The stages of attention_steps, with the same numbers, but each stage overwrites
    # the one before: only the weights are kept, which saves two (..., T, S) buffers.
    scores = q @ k.transpose(-2, -1)  # (..., T, d_k) @ (..., d_k, S) -> (..., T, S)
    scores.div_(math.sqrt(q.shape[-1]))  # scaled, in place
    if mask is not None and torch.broadcast_shapes(mask.shape, scores.shape) == scores.shape:
        scores.masked_fill_(~mask, float("-inf"))  # masked, in place
    elif mask is not None:  # (only when v adds leading dimensions that q and k lack)
        scores = scores.masked_fill(~mask, float("-inf"))  # (..., T, S) -> (*lead, T, S)
    weights = _masked_softmax(scores, mask)
    if dropout_p > 0.0:
        weights = F.dropout(weights, p=dropout_p, training=True)
    return weights @ v, weights  # (..., T, S) @ (..., S, d_v) -> (..., T, d_v)
