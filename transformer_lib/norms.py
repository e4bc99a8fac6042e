"""Normalisation layers: LayerNorm (the paper, GPT-2) and RMSNorm (Llama, SmolLM2).

Legend: B batch, T length, D d_model.

Both rescale each position's D features on their own:

* LayerNorm:  y = (x - mean(x)) / sqrt(var(x) + eps) * weight + bias
* RMSNorm:    y = x / sqrt(mean(x^2) + eps) * weight

RMSNorm drops the centring (no mean is subtracted) and the bias: one reduction
instead of two, and in practice the same quality. LayerNorm is PyTorch's own
``nn.LayerNorm``; RMSNorm is written out below and tested against ``nn.RMSNorm``.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from ._checks import check_choice, check_input, check_positive_int

__all__ = ["RMSNorm", "NORMS", "make_norm"]

NORMS = ("layernorm", "rmsnorm")


def _check_eps(eps) -> float:
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not eps > 0:
        raise ValueError(f"eps must be a number > 0, got {eps!r}")
    return float(eps)


class RMSNorm(nn.Module):
    """Root-mean-square normalisation with a learned per-feature scale.

    Args:
        d_model: number of features D (the last axis).
        eps: added under the square root, so an all-zero vector stays finite.

    Attributes:
        weight: (D,) learned scale, initialised to ones.
    """

    def __init__(self, d_model: int, eps: float = 1e-5):
        super().__init__()
        check_positive_int("d_model", d_model)
        self.d_model, self.eps = d_model, _check_eps(eps)
        self.weight = nn.Parameter(torch.ones(d_model))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(..., D) -> (..., D), each position divided by its root mean square."""
        check_input("x", x, self, ndim_min=1, d_model=self.d_model)
        # [book: rmsnorm]
        # Statistics in float32 at least, so bfloat16/float16 inputs do not lose them.
        h = x.float() if x.dtype in (torch.float16, torch.bfloat16) else x
        rms = torch.sqrt(h.pow(2).mean(dim=-1, keepdim=True) + self.eps)  # (..., D) -> (..., 1)
        return (h / rms).to(x.dtype) * self.weight  # (..., D) * (D,)
        # [/book: rmsnorm]

    def extra_repr(self) -> str:
        return f"{self.d_model}, eps={self.eps}"


def make_norm(kind: str, d_model: int, eps: float = 1e-5, bias: bool = True) -> nn.Module:
    """The normalisation layer called ``kind`` ("layernorm" or "rmsnorm") over D features.

    ``bias`` applies to LayerNorm only (RMSNorm has no bias).
    """
    check_choice("norm", kind, set(NORMS))
    eps = _check_eps(eps)
    if kind == "layernorm":
        return nn.LayerNorm(d_model, eps=eps, bias=bias)
    return RMSNorm(d_model, eps=eps)
