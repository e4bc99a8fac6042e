"""Losses: cross-entropy of the next token, per token or averaged.

Legend: B batch, T length, V vocabulary.

Targets may have any integer dtype (int64, int32, int16, uint8, ...); they are
converted to int64, the dtype PyTorch's cross-entropy needs. Float, bool and
complex targets are refused: a float "id" is almost always a mistake.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ._checks import check_tensor

__all__ = ["next_token_loss", "per_token_loss", "token_cross_entropy"]


def _check_logits_targets(logits, targets, ignore_index) -> torch.Tensor:
    """Check logits (B, T, V), targets (B, T) and ignore_index; return int64 targets."""
    check_tensor("logits", logits, ndim=3)
    check_tensor("targets", targets, ndim=2)
    if not logits.is_floating_point():
        raise TypeError(
            f"logits must be a floating-point tensor (B, T, V), got dtype {logits.dtype}"
        )
    if targets.is_floating_point() or targets.is_complex() or targets.dtype == torch.bool:
        raise TypeError(
            f"targets must hold integer ids (any integer dtype), got dtype {targets.dtype}; "
            "if they are whole numbers stored as floats, convert with targets.long()"
        )
    if logits.shape[:2] != targets.shape:
        raise ValueError(
            f"logits (B, T, V) and targets (B, T) must agree on (B, T), got logits {tuple(logits.shape)} "
            f"and targets {tuple(targets.shape)}"
        )
    if logits.device != targets.device:
        raise ValueError(f"targets are on {targets.device} but logits are on {logits.device}")
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, int):
        raise TypeError(f"ignore_index must be an int id, got {ignore_index!r}")
    V = logits.shape[-1]
    if V == 0:
        raise ValueError(f"logits must have a vocabulary of V >= 1 entries, got shape {tuple(logits.shape)}")
    targets = targets.long()
    if targets.numel() > 0:
        # One check for ids outside the vocabulary (ignore_index excepted); PyTorch would raise an
        # IndexError on the CPU and a device-side assert on a GPU.
        outside = (targets != ignore_index) & ((targets < 0) | (targets >= V))
        if outside.any():
            bad = int(targets[outside][0])
            raise ValueError(
                f"targets contains id {bad}, outside the vocabulary [0, {V - 1}] "
                f"(V={V}, ignore_index={ignore_index})"
            )
    return targets


def _check_shiftable(name: str, logits: torch.Tensor) -> None:
    if logits.shape[1] < 2:
        raise ValueError(
            f"{name} needs at least 2 positions (position t is scored on token t + 1), "
            f"got T={logits.shape[1]}"
        )


def per_token_loss(logits: torch.Tensor, targets: torch.Tensor, shift: bool = True,
                   ignore_index: int = -100) -> torch.Tensor:
    """Cross-entropy -log p(correct token) at every position, for plotting.

    Args:
        logits: (B, T, V).
        targets: (B, T) ids (any integer dtype). With ``shift=True`` these are the
            input tokens themselves and position t is scored on token t + 1
            (language modelling; T >= 2 needed); with ``shift=False`` they are
            already aligned with the logits.
        ignore_index: targets with this id get a loss of 0.

    Returns:
        (B, T - 1) with ``shift=True``, else (B, T).
    """
    targets = _check_logits_targets(logits, targets, ignore_index)
    if shift:
        _check_shiftable("per_token_loss", logits)
        logits, targets = logits[:, :-1], targets[:, 1:]  # predict token t + 1 from position t
    logits = logits.transpose(1, 2)  # (B, T', V) -> (B, V, T'): cross_entropy wants the classes second
    return F.cross_entropy(logits, targets, ignore_index=ignore_index, reduction="none")  # (B, T')


def next_token_loss(logits: torch.Tensor, targets: torch.Tensor, ignore_index: int = -100) -> torch.Tensor:
    """Mean cross-entropy of predicting token t + 1 from position t.

    Args:
        logits: (B, T, V) model output for the sequence ``targets``, T >= 2.
        targets: (B, T) the same sequence's ids (any integer dtype; shifted inside).
        ignore_index: target id to leave out (e.g. padding).

    Returns:
        A scalar tensor (0 when every target is ``ignore_index``).
    """
    targets = _check_logits_targets(logits, targets, ignore_index)
    _check_shiftable("next_token_loss", logits)
    return token_cross_entropy(logits[:, :-1], targets[:, 1:], ignore_index)


def token_cross_entropy(logits: torch.Tensor, targets: torch.Tensor, ignore_index: int = -100) -> torch.Tensor:
    """Mean cross-entropy of aligned logits (B, T, V) and targets (B, T) (no shift).

    The mean runs over the targets that are not ``ignore_index``; when there are none
    (an all-padding batch, or B = 0 or T = 0) the loss is 0 with zero gradients, never NaN.
    """
    targets = _check_logits_targets(logits, targets, ignore_index)
    flat_logits = logits.reshape(-1, logits.shape[-1])  # (B, T, V) -> (B * T, V)
    flat_targets = targets.reshape(-1)  # (B, T) -> (B * T,)
    total = F.cross_entropy(flat_logits, flat_targets, ignore_index=ignore_index, reduction="sum")
    counted = (flat_targets != ignore_index).sum().clamp(min=1)  # stays on the device
    return total / counted
