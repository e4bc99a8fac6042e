"""The position-wise feed-forward network: the paper's two-layer MLP and the gated SwiGLU.

Legend: B batch, T length, D d_model, d_ff hidden width.

    FFN(z)    = act(z W1 + b1) W2 + b2                     (the paper, GPT-2, BERT)
    SwiGLU(z) = (silu(z W_gate) * (z W_up)) W_down         (Llama, SmolLM2)

applied to every position separately (the same weights at each position):
attention mixes information across positions, the FFN transforms each one.
SwiGLU's gate decides, feature by feature, how much of ``z W_up`` passes; it has
three matrices instead of two, so at the same parameter count its d_ff is about
2/3 of the MLP's.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from ._checks import check_choice, check_input, check_positive_int, check_probability

__all__ = ["FeedForward", "SwiGLUFeedForward", "ACTIVATIONS", "FFN_KINDS", "activation_fn", "make_feed_forward"]

ACTIVATIONS = {
    "relu": F.relu,
    "gelu": F.gelu,  # exact, with erf (BERT, nn.TransformerEncoderLayer)
    "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"),  # GPT-2's approximation
}
# Every value of ``activation`` a layer or a config accepts: the MLP's activations,
# and "swiglu", which selects the gated feed-forward.
FFN_KINDS = (*ACTIVATIONS, "swiglu")


def activation_fn(name: str):
    """The activation function called ``name`` (one of :data:`ACTIVATIONS`)."""
    check_choice("activation", name, set(ACTIVATIONS))
    return ACTIVATIONS[name]


def _check_sizes(d_model: int, d_ff: int, dropout: float) -> int:
    check_positive_int("d_model", d_model)
    check_positive_int("d_ff", d_ff)
    check_probability("dropout", dropout)
    return d_model


class FeedForward(nn.Module):
    """Two linear layers with an activation in between.

    Args:
        d_model: input and output width D.
        d_ff: hidden width (the paper: 4 * D).
        activation: "relu", "gelu" (exact) or "gelu_tanh".
        dropout: dropout after the activation (as in ``nn.TransformerEncoderLayer``).
        bias: whether the linear layers have biases.

    Attributes:
        linear1: ``nn.Linear(d_model, d_ff)``.
        linear2: ``nn.Linear(d_ff, d_model)``.
        dropout: ``nn.Dropout``.
    """

    def __init__(self, d_model: int, d_ff: int, activation: str = "relu", dropout: float = 0.0, bias: bool = True):
        super().__init__()
        self.d_model = _check_sizes(d_model, d_ff, dropout)
        self.activation_name = activation
        self.activation = activation_fn(activation)
        self.linear1 = nn.Linear(d_model, d_ff, bias=bias)
        self.linear2 = nn.Linear(d_ff, d_model, bias=bias)
        self.dropout = nn.Dropout(dropout)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """(..., D) -> (..., D), each position on its own."""
        check_input("z", z, self, ndim_min=1, d_model=self.d_model)
        hidden = self.activation(self.linear1(z))  # (..., D) -> (..., d_ff)
        return self.linear2(self.dropout(hidden))  # (..., d_ff) -> (..., D)

    def extra_repr(self) -> str:
        return f"activation={self.activation_name!r}"


class SwiGLUFeedForward(nn.Module):
    """The gated feed-forward of Llama-style models: ``w_down(silu(w_gate z) * w_up z)``.

    Args:
        d_model: input and output width D.
        d_ff: hidden width (SmolLM2-135M: 1536 for D = 576).
        dropout: dropout on the gated hidden vector.
        bias: whether the three linear layers have biases (Llama: no).

    Attributes:
        w_gate, w_up: ``nn.Linear(d_model, d_ff)``; w_down: ``nn.Linear(d_ff, d_model)``;
        dropout: ``nn.Dropout``.
    """

    activation_name = "swiglu"

    def __init__(self, d_model: int, d_ff: int, dropout: float = 0.0, bias: bool = False):
        super().__init__()
        self.d_model = _check_sizes(d_model, d_ff, dropout)
        self.w_gate = nn.Linear(d_model, d_ff, bias=bias)
        self.w_up = nn.Linear(d_model, d_ff, bias=bias)
        self.w_down = nn.Linear(d_ff, d_model, bias=bias)
        self.dropout = nn.Dropout(dropout)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """(..., D) -> (..., D), each position on its own."""
        check_input("z", z, self, ndim_min=1, d_model=self.d_model)
        # [book: swiglu]
        gate = F.silu(self.w_gate(z))  # (..., D) -> (..., d_ff), silu(a) = a * sigmoid(a)
        hidden = gate * self.w_up(z)  # (..., d_ff): the gate scales each feature of z W_up
        return self.w_down(self.dropout(hidden))  # (..., d_ff) -> (..., D)
        # [/book: swiglu]


def make_feed_forward(d_model: int, d_ff: int, activation: str = "relu", dropout: float = 0.0,
                      bias: bool = True) -> nn.Module:
    """A :class:`SwiGLUFeedForward` for ``activation="swiglu"``, else a :class:`FeedForward`."""
    check_choice("activation", activation, set(FFN_KINDS))
    if activation == "swiglu":
        return SwiGLUFeedForward(d_model, d_ff, dropout=dropout, bias=bias)
    return FeedForward(d_model, d_ff, activation=activation, dropout=dropout, bias=bias)
