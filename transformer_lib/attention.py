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

The math is written once, in :func:`attention_steps`, which keeps every stage;
:func:`scaled_dot_product_attention` returns its output and weights. This is the
path the book reads. Speed is the job of PyTorch's fused kernel
(``MultiHeadAttention(use_sdpa=True)``), which gives the same numbers.

Nothing here reads a tensor's values on the host: the checks look only at shapes,
dtypes and devices, so a call never waits for the GPU.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ._checks import check_float_tensor, check_mask, check_probability, check_same_device
from .masks import causal_mask

__all__ = ["scaled_dot_product_attention", "attention_steps", "AttentionSteps"]

#: float16 and bfloat16 scores are computed in float32 (as PyTorch's fused kernels
#: accumulate): q k^T of ordinary activations can exceed float16's largest number.
_LOW_PRECISION = (torch.float16, torch.bfloat16)


def _check_qkv(q, k, v) -> tuple[int, ...]:
    """Check q, k, v (shapes, dtypes, devices only) and return the scores' shape (..., T, S)."""
    for name, x in (("q", q), ("k", k), ("v", v)):
        check_float_tensor(name, x, ndim_min=2)
    check_same_device(("q", q), ("k", k), ("v", v))
    if not (q.dtype == k.dtype == v.dtype):
        raise TypeError(
            f"q, k, v must share one dtype, got q {q.dtype}, k {k.dtype}, v {v.dtype}"
        )
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(
            f"q and k must have the same feature size d_k, got q {tuple(q.shape)} (d_k={q.shape[-1]}) "
            f"and k {tuple(k.shape)} (d_k={k.shape[-1]})"
        )
    if q.shape[-1] == 0:
        raise ValueError(f"q and k must have a head width d_k >= 1, got q {tuple(q.shape)}")
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(
            f"k and v must have the same number of positions S, got k {tuple(k.shape)} "
            f"and v {tuple(v.shape)}"
        )
    try:
        lead = torch.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except RuntimeError:
        raise ValueError(
            f"the leading (batch/head) dimensions of q {tuple(q.shape)}, k {tuple(k.shape)} and "
            f"v {tuple(v.shape)} do not broadcast together"
        ) from None
    return (*lead, q.shape[-2], k.shape[-2])


def _resolve_mask(mask, is_causal: bool, scores_shape: tuple[int, ...], device) -> torch.Tensor | None:
    """The boolean mask to apply: ``mask``, the causal mask, or both combined with ``&``."""
    if mask is not None:
        check_mask(mask, scores_shape, device=device)
    if not isinstance(is_causal, bool):
        raise TypeError(f"is_causal must be True or False, got {is_causal!r}")
    if not is_causal:
        return mask
    T, S = scores_shape[-2:]
    if S < T:
        raise ValueError(
            f"is_causal=True needs at least as many keys as queries (the last T keys are the "
            f"queries' own positions), got T={T} queries and S={S} keys"
        )
    if T == 0:
        return mask
    causal = causal_mask(T, device=device, offset=S - T)  # (T, S), the last T keys are the queries
    return causal if mask is None else mask & causal


@dataclass
class AttentionSteps:
    """Every intermediate of one attention computation (shapes for q (..., T, d_k)).

    Attributes:
        scores:  (..., T, S) raw dot products q k^T.
        scaled:  (..., T, S) scores / sqrt(d_k).
        masked:  (..., T, S) scaled scores with disallowed positions at -inf.
        weights: (..., T, S) row-wise softmax of ``masked`` (fully masked rows: zeros;
            after dropout when ``dropout_p > 0``).
        output:  (..., T, d_v) weights @ v.

    For float16 and bfloat16 inputs ``scores``, ``scaled`` and ``masked`` are float32;
    ``weights`` and ``output`` have the inputs' dtype.
    """

    scores: torch.Tensor
    scaled: torch.Tensor
    masked: torch.Tensor
    weights: torch.Tensor
    output: torch.Tensor


def _masked_softmax(masked: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Row-wise softmax of scores that hold -inf at masked positions.

    A row with every key masked would be softmax(-inf, ..., -inf) = NaN. Such rows
    (found from the boolean mask, on the device, without asking the host) are set to
    zero before the softmax and to zero after it: zero weights, a zero output and
    zero gradients, with no NaN anywhere, not even inside the backward pass.
    """
    if mask is None or masked.shape[-1] == 0:
        return torch.softmax(masked, dim=-1)  # exp(-inf) = 0: masked keys get exact zeros
    no_key = ~mask.any(dim=-1, keepdim=True)  # (..., T, 1): True where every key is masked
    weights = torch.softmax(masked.masked_fill(no_key, 0.0), dim=-1)
    return weights.masked_fill(no_key, 0.0)


def attention_steps(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    mask: torch.Tensor | None = None,
    *,
    is_causal: bool = False,
    dropout_p: float = 0.0,
) -> AttentionSteps:
    """Compute attention and keep every stage (the "matrix view" chapter reads this).

    Args:
        q: (..., T, d_k) queries (floating point).
        k: (..., S, d_k) keys.
        v: (..., S, d_v) values.
        mask: optional BoolTensor broadcastable to (..., T, S), True = may attend.
        is_causal: also apply the causal mask: query t sits at position S - T + t
            and may attend to keys 0..S - T + t (``causal_mask(T, offset=S - T)``;
            with S = T, the usual lower triangle). Combined with ``mask`` by ``&``.
        dropout_p: dropout probability applied to the weights (0 = none).

    Returns:
        :class:`AttentionSteps` with ``scores``, ``scaled``, ``masked``, ``weights``, ``output``.
    """
    check_probability("dropout_p", dropout_p)
    scores_shape = _check_qkv(q, k, v)
    may_empty_rows = mask is not None  # a causal mask alone never masks a whole row (S >= T)
    mask = _resolve_mask(mask, is_causal, scores_shape, q.device)
    if q.dtype in _LOW_PRECISION:
        q, k = q.float(), k.float()  # scores in float32; weights go back to v's dtype below
    # [book: attention-math]
    d_k = q.shape[-1]
    scores = q @ k.transpose(-2, -1)  # (..., T, d_k) @ (..., d_k, S) -> (..., T, S)
    scaled = scores / math.sqrt(d_k)
    masked = scaled if mask is None else scaled.masked_fill(~mask, float("-inf"))
    weights = _masked_softmax(masked, mask if may_empty_rows else None).to(v.dtype)
    if dropout_p > 0.0:
        weights = F.dropout(weights, p=dropout_p, training=True)
    output = weights @ v  # (..., T, S) @ (..., S, d_v) -> (..., T, d_v)
    # [/book: attention-math]
    return AttentionSteps(scores, scaled, masked, weights, output)


def scaled_dot_product_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    mask: torch.Tensor | None = None,
    dropout_p: float = 0.0,
    *,
    is_causal: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """softmax(q k^T / sqrt(d_k)) v, the explicit math of :func:`attention_steps`.

    Args:
        q: (..., T, d_k) queries (floating point).
        k: (..., S, d_k) keys.
        v: (..., S, d_v) values.
        mask: optional BoolTensor broadcastable to (..., T, S), True = may attend.
        dropout_p: dropout probability applied to the weights (0 = none).
        is_causal: also apply the causal mask (see :func:`attention_steps`), without
            building it outside.

    Returns:
        ``(output, weights)``: output (..., T, d_v) and weights (..., T, S). The
        weights are those used for the output (after dropout, if any).
    """
    steps = attention_steps(q, k, v, mask, is_causal=is_causal, dropout_p=dropout_p)
    return steps.output, steps.weights
