"""Encoder and decoder layers: attention and feed-forward, each wrapped in Add & Norm.

Legend: B batch, T target length, S source length, D d_model, H heads.

Where the LayerNorm sits is a named choice, ``norm_first``:

* post-norm (``norm_first=False``, the paper and the source documents):
      x = LayerNorm(x + Sublayer(x))
* pre-norm (``norm_first=True``, GPT-2 and most modern models):
      x = x + Sublayer(LayerNorm(x))

Either way the residual ``x + ...`` keeps the input, so each sublayer only has to
learn a correction to it.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from ._checks import check_positive_int, check_probability, check_tensor
from .cache import KVCache
from .feed_forward import FeedForward
from .multi_head import MultiHeadAttention

__all__ = ["EncoderLayer", "DecoderLayer"]


class _AddNorm(nn.Module):
    """Shared plumbing: run a sublayer with a residual and a LayerNorm around it."""

    norm_first: bool

    def _residual(self, x: torch.Tensor, norm: nn.LayerNorm, sublayer, dropout: nn.Dropout):
        """Return (new x, whatever extra the sublayer returned)."""
        if self.norm_first:
            out, extra = sublayer(norm(x))
            return x + dropout(out), extra  # pre-norm: x + Sublayer(LayerNorm(x))
        out, extra = sublayer(x)
        return norm(x + dropout(out)), extra  # post-norm: LayerNorm(x + Sublayer(x))


def _check_layer_sizes(d_model, n_heads, d_ff, dropout, layer_norm_eps):
    check_positive_int("d_model", d_model)
    check_positive_int("n_heads", n_heads)
    check_positive_int("d_ff", d_ff)
    check_probability("dropout", dropout)
    if not layer_norm_eps > 0:
        raise ValueError(f"layer_norm_eps must be > 0, got {layer_norm_eps}")


class EncoderLayer(_AddNorm):
    """Self-attention then feed-forward, each with a residual and a LayerNorm.

    Args:
        d_model: width D.
        n_heads: attention heads H.
        d_ff: feed-forward hidden width.
        dropout: dropout on attention weights, inside the FFN and on each sublayer output.
        activation: "relu", "gelu" or "gelu_tanh".
        norm_first: False = post-norm (paper), True = pre-norm (GPT-2).
        layer_norm_eps: LayerNorm epsilon.
        bias: biases in the linear layers.
        use_sdpa: run attention through PyTorch's fused kernel.
        rotary: optional RotaryEmbedding for the self-attention.

    Attributes:
        self_attn (MultiHeadAttention), ffn (FeedForward), norm1, norm2 (nn.LayerNorm).
    """

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        d_ff: int,
        dropout: float = 0.0,
        activation: str = "relu",
        norm_first: bool = False,
        layer_norm_eps: float = 1e-5,
        bias: bool = True,
        use_sdpa: bool = False,
        rotary: nn.Module | None = None,
    ):
        super().__init__()
        _check_layer_sizes(d_model, n_heads, d_ff, dropout, layer_norm_eps)
        self.norm_first = bool(norm_first)
        self.self_attn = MultiHeadAttention(d_model, n_heads, bias=bias, dropout=dropout, use_sdpa=use_sdpa, rotary=rotary)
        self.ffn = FeedForward(d_model, d_ff, activation=activation, dropout=dropout, bias=bias)
        self.norm1 = nn.LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.norm2 = nn.LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)

    def forward(
        self,
        x: torch.Tensor,
        mask: torch.Tensor | None = None,
        return_weights: bool = False,
        cache: KVCache | None = None,
    ):
        """(B, T, D) -> (B, T, D), or ``(x, weights (B, H, T, S))`` with ``return_weights``.

        ``mask`` is a BoolTensor broadcastable to (B, H, T, S), True = may attend
        (a causal mask turns this layer into a GPT block); ``cache`` is this layer's
        :class:`KVCache` when generating token by token.
        """
        check_tensor("x", x, ndim=3)

        def attend(h):
            return self.self_attn(h, mask=mask, return_weights=True, cache=cache) if return_weights \
                else (self.self_attn(h, mask=mask, cache=cache), None)

        x, weights = self._residual(x, self.norm1, attend, self.dropout1)
        x, _ = self._residual(x, self.norm2, lambda h: (self.ffn(h), None), self.dropout2)
        return (x, weights) if return_weights else x


class DecoderLayer(_AddNorm):
    """Masked self-attention, cross-attention over the encoder output, feed-forward.

    Same arguments as :class:`EncoderLayer`.

    Attributes:
        self_attn, cross_attn (MultiHeadAttention), ffn (FeedForward), norm1, norm2, norm3.
    """

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        d_ff: int,
        dropout: float = 0.0,
        activation: str = "relu",
        norm_first: bool = False,
        layer_norm_eps: float = 1e-5,
        bias: bool = True,
        use_sdpa: bool = False,
    ):
        super().__init__()
        _check_layer_sizes(d_model, n_heads, d_ff, dropout, layer_norm_eps)
        self.norm_first = bool(norm_first)
        self.self_attn = MultiHeadAttention(d_model, n_heads, bias=bias, dropout=dropout, use_sdpa=use_sdpa)
        self.cross_attn = MultiHeadAttention(d_model, n_heads, bias=bias, dropout=dropout, use_sdpa=use_sdpa)
        self.ffn = FeedForward(d_model, d_ff, activation=activation, dropout=dropout, bias=bias)
        self.norm1 = nn.LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.norm2 = nn.LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.norm3 = nn.LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)
        self.dropout3 = nn.Dropout(dropout)

    def forward(
        self,
        x: torch.Tensor,
        memory: torch.Tensor,
        self_mask: torch.Tensor | None = None,
        memory_mask: torch.Tensor | None = None,
        return_weights: bool = False,
    ):
        """Decode one layer.

        Args:
            x: (B, T, D) target-side vectors.
            memory: (B, S, D) encoder output.
            self_mask: mask for self-attention, broadcastable to (B, H, T, T) (usually causal).
            memory_mask: mask for cross-attention, broadcastable to (B, H, T, S) (source padding).
            return_weights: also return the attention weights.

        Returns:
            x (B, T, D), or ``(x, self_weights (B, H, T, T), cross_weights (B, H, T, S))``.
        """
        check_tensor("x", x, ndim=3)
        check_tensor("memory", memory, ndim=3)

        def self_attend(h):
            if return_weights:
                return self.self_attn(h, mask=self_mask, return_weights=True)
            return self.self_attn(h, mask=self_mask), None

        def cross_attend(h):  # queries from the decoder, keys and values from the encoder
            if return_weights:
                return self.cross_attn(h, memory, memory, mask=memory_mask, return_weights=True)
            return self.cross_attn(h, memory, memory, mask=memory_mask), None

        x, self_weights = self._residual(x, self.norm1, self_attend, self.dropout1)
        x, cross_weights = self._residual(x, self.norm2, cross_attend, self.dropout2)
        x, _ = self._residual(x, self.norm3, lambda h: (self.ffn(h), None), self.dropout3)
        return (x, self_weights, cross_weights) if return_weights else x
