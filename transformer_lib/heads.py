"""Splitting a model-width vector into heads, and merging them back.

Legend: B batch, T length, D d_model, H heads, d_k = D / H (the head width).

Splitting is only a reshape: the D numbers of each token are cut into H
consecutive slices of d_k numbers, and the head axis is moved before the time
axis so that all heads run as one batched matrix product.
"""
from __future__ import annotations

import torch

from ._checks import check_divisible, check_positive_int, check_tensor

__all__ = ["split_heads", "merge_heads"]


def split_heads(x: torch.Tensor, n_heads: int) -> torch.Tensor:
    """(B, T, D) -> (B, H, T, d_k) with d_k = D / H (``n_heads`` = H must divide D)."""
    check_tensor("x", x, ndim=3)
    check_positive_int("n_heads", n_heads)
    B, T, D = x.shape
    check_divisible("d_model", D, "n_heads", n_heads)
    x = x.view(B, T, n_heads, D // n_heads)  # (B, T, D) -> (B, T, H, d_k)
    return x.transpose(1, 2)  # (B, T, H, d_k) -> (B, H, T, d_k)


def merge_heads(x: torch.Tensor) -> torch.Tensor:
    """(B, H, T, d_k) -> (B, T, H * d_k), the exact inverse of :func:`split_heads`."""
    check_tensor("x", x, ndim=4)
    B, H, T, d_k = x.shape
    x = x.transpose(1, 2)  # (B, H, T, d_k) -> (B, T, H, d_k)
    return x.reshape(B, T, H * d_k)  # (B, T, H, d_k) -> (B, T, D)
