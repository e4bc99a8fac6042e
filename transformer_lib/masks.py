"""Attention masks: the book's one convention, stated once.

A mask is a **boolean** tensor where ``True`` means "this query may attend to
this key" -- the same meaning as the boolean ``attn_mask`` of
:func:`torch.nn.functional.scaled_dot_product_attention`. It must broadcast to
the attention scores' shape ``(B, H, T, S)``:

    B batch, H heads, T queries (target length), S keys (source length).

Masks are only built by the helpers below and combined with ``&``.
"""
from __future__ import annotations

import numbers

import torch

from ._checks import check_positive_int, check_tensor

__all__ = ["causal_mask", "padding_mask", "token_padding_mask", "default_padding_mask"]


def causal_mask(T: int, device=None, offset: int = 0) -> torch.Tensor:
    """Lower-triangular mask: query ``t`` may attend to keys ``0..t``.

    Args:
        T: number of queries.
        device: where to create the mask.
        offset: number of earlier keys already cached (KV cache). Query ``t`` sits
            at position ``offset + t`` and may attend to keys ``0..offset + t``.

    Returns:
        BoolTensor of shape ``(T, offset + T)``; ``(T, T)`` when ``offset == 0``.
    """
    T = check_positive_int("T", T)
    if isinstance(offset, bool) or not isinstance(offset, numbers.Integral) or offset < 0:
        raise ValueError(f"offset must be a non-negative int, got {offset!r}")
    offset = int(offset)
    query_pos = torch.arange(offset, offset + T, device=device)  # (T,)
    key_pos = torch.arange(offset + T, device=device)  # (S,)
    return key_pos[None, :] <= query_pos[:, None]  # (T, S)


def padding_mask(lengths, max_len: int | None = None) -> torch.Tensor:
    """Mask out padding keys of sentences with different lengths.

    Args:
        lengths: 1-D integer tensor (or list) of real lengths, one per sentence.
        max_len: padded length S; defaults to ``max(lengths)``.

    Returns:
        BoolTensor of shape ``(B, 1, 1, S)``, True on real tokens: it broadcasts
        over heads and queries, so every query ignores the padding keys.
    """
    if not isinstance(lengths, torch.Tensor):
        try:
            lengths = torch.as_tensor(lengths)
        except (TypeError, ValueError, RuntimeError):
            raise TypeError(
                f"lengths must be a 1-D list or tensor of integer lengths, got {lengths!r:.60}"
            ) from None
    check_tensor("lengths", lengths, ndim=1)
    if lengths.dtype.is_floating_point or lengths.dtype == torch.bool:
        raise TypeError(f"lengths must hold integers, got dtype {lengths.dtype}")
    if lengths.numel() == 0:
        raise ValueError("lengths must contain at least one sequence length, got an empty tensor")
    if int(lengths.min()) < 0:
        raise ValueError(f"lengths must be >= 0, got {lengths.tolist()}")
    longest = int(lengths.max())
    if max_len is None:
        max_len = max(longest, 1)
    max_len = check_positive_int("max_len", max_len)
    if longest > max_len:
        raise ValueError(f"max_len={max_len} is shorter than the longest length {longest}")
    positions = torch.arange(max_len, device=lengths.device)  # (S,)
    mask = positions[None, :] < lengths[:, None]  # (B, S)
    return mask[:, None, None, :]  # (B, S) -> (B, 1, 1, S)


def token_padding_mask(tokens: torch.Tensor, pad_id: int) -> torch.Tensor:
    """Mask out the positions of ``tokens`` ``(B, S)`` that hold ``pad_id``.

    Returns:
        BoolTensor ``(B, 1, 1, S)``, True on real tokens (wherever padding sits).
    """
    check_tensor("tokens", tokens, ndim=2)
    if tokens.is_floating_point() or tokens.is_complex() or tokens.dtype == torch.bool:
        raise TypeError(f"tokens must hold integer token ids, got dtype {tokens.dtype}")
    if isinstance(pad_id, bool) or not isinstance(pad_id, numbers.Integral):
        raise TypeError(f"pad_id must be an int token id, got {pad_id!r}")
    return (tokens != pad_id)[:, None, None, :]  # (B, S) -> (B, 1, 1, S)


def default_padding_mask(tokens: torch.Tensor, pad_id: int | None) -> torch.Tensor | None:
    """The mask a model builds when the caller gives none: padding of ``pad_id`` hidden.

    Returns :func:`token_padding_mask` ``(B, 1, 1, S)`` for (B, S) token ids when
    ``pad_id`` is set, else None (no padding id, or (B, S, D) vectors instead of ids).
    """
    if pad_id is None or not isinstance(tokens, torch.Tensor) or tokens.dim() != 2:
        return None
    return token_padding_mask(tokens, pad_id)
