"""Losses: cross-entropy of the next token, per token or averaged.

Legend: B batch, T length, V vocabulary.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ._checks import check_tensor

__all__ = ["next_token_loss", "per_token_loss", "token_cross_entropy"]


def _check_logits_targets(logits, targets):
    check_tensor("logits", logits, ndim=3)
    check_tensor("targets", targets, ndim=2)
    if logits.shape[:2] != targets.shape:
        raise ValueError(
            f"logits (B, T, V) and targets (B, T) must agree on (B, T), got logits {tuple(logits.shape)} "
            f"and targets {tuple(targets.shape)}"
        )
    if targets.is_floating_point():
        raise TypeError(f"targets must hold integer ids, got dtype {targets.dtype}")


def per_token_loss(logits: torch.Tensor, targets: torch.Tensor, shift: bool = True,
                   ignore_index: int = -100) -> torch.Tensor:
    """Cross-entropy -log p(correct token) at every position, for plotting.

    Args:
        logits: (B, T, V).
        targets: (B, T) ids. With ``shift=True`` these are the input tokens
            themselves and position t is scored on token t + 1 (language modelling);
            with ``shift=False`` they are already aligned with the logits.
        ignore_index: targets with this id get a loss of 0.

    Returns:
        (B, T - 1) with ``shift=True``, else (B, T).
    """
    _check_logits_targets(logits, targets)
    if shift:
        logits, targets = logits[:, :-1], targets[:, 1:]  # predict token t + 1 from position t
    losses = F.cross_entropy(logits.transpose(1, 2), targets, ignore_index=ignore_index, reduction="none")
    return losses  # (B, V, T') in, (B, T') out


def next_token_loss(logits: torch.Tensor, targets: torch.Tensor, ignore_index: int = -100) -> torch.Tensor:
    """Mean cross-entropy of predicting token t + 1 from position t.

    Args:
        logits: (B, T, V) model output for the sequence ``targets``.
        targets: (B, T) the same sequence's ids (shifted inside).
        ignore_index: target id to leave out (e.g. padding).

    Returns:
        A scalar tensor.
    """
    _check_logits_targets(logits, targets)
    if logits.shape[1] < 2:
        raise ValueError(f"next_token_loss needs at least 2 positions, got T={logits.shape[1]}")
    return token_cross_entropy(logits[:, :-1], targets[:, 1:], ignore_index)


def token_cross_entropy(logits: torch.Tensor, targets: torch.Tensor, ignore_index: int = -100) -> torch.Tensor:
    """Mean cross-entropy of aligned logits (B, T, V) and targets (B, T) (no shift)."""
    _check_logits_targets(logits, targets)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=ignore_index)
