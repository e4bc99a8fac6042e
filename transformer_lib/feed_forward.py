"""The position-wise feed-forward network.

Legend: B batch, T length, D d_model, F d_ff.

    FFN(z) = act(z W1 + b1) W2 + b2

applied to every position separately (the same weights at each position):
attention mixes information across positions, the FFN transforms each one.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from ._checks import check_choice, check_positive_int, check_probability, check_tensor

__all__ = ["FeedForward", "ACTIVATIONS", "activation_fn"]

ACTIVATIONS = {
    "relu": F.relu,
    "gelu": F.gelu,  # exact, with erf (BERT, nn.TransformerEncoderLayer)
    "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"),  # GPT-2's approximation
}


def activation_fn(name: str):
    """The activation function called ``name`` (one of :data:`ACTIVATIONS`)."""
    check_choice("activation", name, set(ACTIVATIONS))
    return ACTIVATIONS[name]


class FeedForward(nn.Module):
    """Two linear layers with an activation in between.

    Args:
        d_model: input and output width D.
        d_ff: hidden width F (the paper: 4 * D).
        activation: "relu", "gelu" (exact) or "gelu_tanh".
        dropout: dropout after the activation (as in ``nn.TransformerEncoderLayer``).
        bias: whether the linear layers have biases.

    Attributes:
        linear1: ``nn.Linear(d_model, d_ff)``.
        linear2: ``nn.Linear(d_ff, d_model)``.
    """

    def __init__(self, d_model: int, d_ff: int, activation: str = "relu", dropout: float = 0.0, bias: bool = True):
        super().__init__()
        check_positive_int("d_model", d_model)
        check_positive_int("d_ff", d_ff)
        check_probability("dropout", dropout)
        self.activation_name = activation
        self.activation = activation_fn(activation)
        self.linear1 = nn.Linear(d_model, d_ff, bias=bias)
        self.linear2 = nn.Linear(d_ff, d_model, bias=bias)
        self.dropout = nn.Dropout(dropout)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """(..., D) -> (..., D), each position on its own."""
        check_tensor("z", z, ndim_min=1)
        hidden = self.activation(self.linear1(z))  # (..., D) -> (..., F)
        return self.linear2(self.dropout(hidden))  # (..., F) -> (..., D)

    def extra_repr(self) -> str:
        return f"activation={self.activation_name!r}"
