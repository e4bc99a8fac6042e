"""Splitting a model-width vector into heads, and merging them back.

Legend: B batch, T length, D d_model, H heads, K = D // H (the head width).

Splitting is only a reshape: the D numbers of each token are cut into H
consecutive slices of K numbers, and the head axis is moved before the time
axis so that all heads run as one batched matrix product.
"""
from __future__ import annotations

import torch

from ._checks import check_divisible, check_positive_int, check_tensor

__all__ = ["split_heads", "merge_heads"]


def split_heads(x: torch.Tensor, n_heads: int) -> torch.Tensor:
    """(B, T, D) -> (B, H, T, D // H)."""
    check_tensor("x", x, ndim=3)
    check_positive_int("n_heads", n_heads)
    B, T, D = x.shape
    check_divisible("d_model", D, "n_heads", n_heads)
    x = x.view(B, T, n_heads, D // n_heads)  # (B, T, D) -> (B, T, H, K)
    return x.transpose(1, 2)  # (B, T, H, K) -> (B, H, T, K)


def merge_heads(x: torch.Tensor) -> torch.Tensor:
    """(B, H, T, K) -> (B, T, H * K), the exact inverse of :func:`split_heads`."""
    check_tensor("x", x, ndim=4)
    B, H, T, K = x.shape
    x = x.transpose(1, 2)  # (B, H, T, K) -> (B, T, H, K)
    return x.reshape(B, T, H * K)  # (B, T, H, K) -> (B, T, D)
