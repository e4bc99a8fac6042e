"""Encoder and decoder layers: attention and feed-forward, each inside a residual connection.

Legend: B batch, T target length, S source length, D d_model, H heads.

Where the normalisation sits is a named choice, ``norm_first``:

* post-norm (``norm_first=False``, the paper and the source documents), "Add & Norm":
      x = Norm(x + Sublayer(x))
* pre-norm (``norm_first=True``, GPT-2 and most modern models):
      x = x + Sublayer(Norm(x))

Either way the residual ``x + ...`` keeps the input, so each sublayer only has to
learn a correction to it. ``Norm`` is a LayerNorm, or an RMSNorm (``norm="rmsnorm"``,
Llama-style models); see :mod:`transformer_lib.norms`.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from ._checks import check_input, check_positive_int, check_probability
from .cache import KVCache
from .feed_forward import make_feed_forward
from .multi_head import MultiHeadAttention
from .norms import make_norm

__all__ = ["EncoderLayer", "DecoderLayer"]


class _ResidualLayer(nn.Module):
    """Shared plumbing of both layers: run a sublayer inside a residual connection, with a norm."""

    norm_first: bool

    def _residual(self, x: torch.Tensor, norm: nn.Module, sublayer, dropout: nn.Dropout):
        """Return (new x, whatever extra the sublayer returned)."""
        # [book: residual]
        if self.norm_first:
            out, extra = sublayer(norm(x))
            return x + dropout(out), extra  # pre-norm: x + Sublayer(Norm(x))
        out, extra = sublayer(x)
        return norm(x + dropout(out)), extra  # post-norm, Add & Norm: Norm(x + Sublayer(x))
        # [/book: residual]


def _check_layer_sizes(d_model, n_heads, d_ff, dropout, layer_norm_eps):
    check_positive_int("d_model", d_model)
    check_positive_int("n_heads", n_heads)
    check_positive_int("d_ff", d_ff)
    check_probability("dropout", dropout)
    if isinstance(layer_norm_eps, bool) or not isinstance(layer_norm_eps, (int, float)) or not layer_norm_eps > 0:
        raise ValueError(f"layer_norm_eps must be > 0, got {layer_norm_eps!r}")


class EncoderLayer(_ResidualLayer):
    """Self-attention then feed-forward, each with a residual connection and a norm.

    Also the block of a decoder-only model (GPT): called with ``is_causal=True``.

    Args:
        d_model: width D.
        n_heads: attention (query) heads H.
        d_ff: feed-forward hidden width.
        dropout: dropout on attention weights, inside the FFN and on each sublayer output.
        activation: "relu", "gelu", "gelu_tanh" (two-layer MLP) or "swiglu" (gated).
        norm_first: False = post-norm (paper), True = pre-norm (GPT-2, Llama).
        layer_norm_eps: epsilon of the norms.
        bias: biases in the linear layers and the LayerNorms.
        use_sdpa: run attention through PyTorch's fused kernel.
        rotary: optional RotaryEmbedding for the self-attention.
        norm: "layernorm" or "rmsnorm".
        n_kv_heads: key/value heads H_kv (grouped-query attention); None = H.

    Every argument after ``d_ff`` is keyword-only.

    Attributes:
        self_attn (MultiHeadAttention), ffn (FeedForward or SwiGLUFeedForward),
        norm1 (before/after attention), norm2 (before/after the FFN), dropout1, dropout2.
    """

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        d_ff: int,
        *,
        dropout: float = 0.0,
        activation: str = "relu",
        norm_first: bool = False,
        layer_norm_eps: float = 1e-5,
        bias: bool = True,
        use_sdpa: bool = False,
        rotary: nn.Module | None = None,
        norm: str = "layernorm",
        n_kv_heads: int | None = None,
    ):
        super().__init__()
        _check_layer_sizes(d_model, n_heads, d_ff, dropout, layer_norm_eps)
        self.d_model = d_model
        self.norm_first = bool(norm_first)
        self.self_attn = MultiHeadAttention(d_model, n_heads, bias=bias, dropout=dropout, use_sdpa=use_sdpa,
                                            rotary=rotary, n_kv_heads=n_kv_heads)
        self.ffn = make_feed_forward(d_model, d_ff, activation=activation, dropout=dropout, bias=bias)
        self.norm1 = make_norm(norm, d_model, eps=layer_norm_eps, bias=bias)
        self.norm2 = make_norm(norm, d_model, eps=layer_norm_eps, bias=bias)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)

    def forward(
        self,
        x: torch.Tensor,
        mask: torch.Tensor | None = None,
        return_weights: bool = False,
        cache: KVCache | None = None,
        is_causal: bool = False,
    ):
        """(B, T, D) -> (B, T, D), or ``(x, weights (B, H, T, S))`` with ``return_weights``.

        ``mask`` is a BoolTensor broadcastable to (B, H, T, S), True = may attend;
        ``is_causal=True`` hides the future (this layer then is a GPT block);
        ``cache`` is this layer's :class:`KVCache` when generating token by token.
        """
        check_input("x", x, self, ndim=3, d_model=self.d_model)

        def attend(h):
            out = self.self_attn(h, mask=mask, return_weights=return_weights, cache=cache, is_causal=is_causal)
            return out if return_weights else (out, None)

        x, weights = self._residual(x, self.norm1, attend, self.dropout1)
        x, _ = self._residual(x, self.norm2, lambda h: (self.ffn(h), None), self.dropout2)
        return (x, weights) if return_weights else x


class DecoderLayer(_ResidualLayer):
    """Masked self-attention, cross-attention over the encoder output, feed-forward.

    Args:
        d_model: width D.
        n_heads: attention heads H (self- and cross-attention).
        d_ff: feed-forward hidden width.
        dropout: dropout on attention weights, inside the FFN and on each sublayer output.
        activation: "relu", "gelu", "gelu_tanh" or "swiglu".
        norm_first: False = post-norm (paper), True = pre-norm.
        layer_norm_eps: epsilon of the norms.
        bias: biases in the linear layers and the LayerNorms.
        use_sdpa: run attention through PyTorch's fused kernel.
        norm: "layernorm" or "rmsnorm".
        n_kv_heads: key/value heads H_kv of both attentions; None = H.

    (No ``rotary``: positions of the encoder-decoder are added to the embeddings.)
    Every argument after ``d_ff`` is keyword-only.

    Attributes:
        self_attn, cross_attn (MultiHeadAttention), ffn, norm1, norm2, norm3, dropout1..3.
    """

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        d_ff: int,
        *,
        dropout: float = 0.0,
        activation: str = "relu",
        norm_first: bool = False,
        layer_norm_eps: float = 1e-5,
        bias: bool = True,
        use_sdpa: bool = False,
        norm: str = "layernorm",
        n_kv_heads: int | None = None,
    ):
        super().__init__()
        _check_layer_sizes(d_model, n_heads, d_ff, dropout, layer_norm_eps)
        self.d_model = d_model
        self.norm_first = bool(norm_first)
        attention = dict(bias=bias, dropout=dropout, use_sdpa=use_sdpa, n_kv_heads=n_kv_heads)
        self.self_attn = MultiHeadAttention(d_model, n_heads, **attention)
        self.cross_attn = MultiHeadAttention(d_model, n_heads, **attention)
        self.ffn = make_feed_forward(d_model, d_ff, activation=activation, dropout=dropout, bias=bias)
        self.norm1 = make_norm(norm, d_model, eps=layer_norm_eps, bias=bias)
        self.norm2 = make_norm(norm, d_model, eps=layer_norm_eps, bias=bias)
        self.norm3 = make_norm(norm, d_model, eps=layer_norm_eps, bias=bias)
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
        is_causal: bool = False,
    ):
        """Decode one layer.

        Args:
            x: (B, T, D) target-side vectors.
            memory: (B, S, D) encoder output.
            self_mask: mask for self-attention, broadcastable to (B, H, T, T) (usually causal).
            memory_mask: mask for cross-attention, broadcastable to (B, H, T, S) (source padding).
            return_weights: also return the attention weights.
            is_causal: hide the future in self-attention (combined with ``self_mask``).

        Returns:
            x (B, T, D), or ``(x, self_weights (B, H, T, T), cross_weights (B, H, T, S))``.
        """
        # [book: decoder-forward]
        check_input("x", x, self, ndim=3, d_model=self.d_model)
        check_input("memory", memory, self, ndim=3)

        def self_attend(h):
            if return_weights:
                return self.self_attn(h, mask=self_mask, return_weights=True, is_causal=is_causal)
            return self.self_attn(h, mask=self_mask, is_causal=is_causal), None

        def cross_attend(h):  # queries from the decoder, keys and values from the encoder
            if return_weights:
                return self.cross_attn(h, memory, memory, mask=memory_mask, return_weights=True)
            return self.cross_attn(h, memory, memory, mask=memory_mask), None

        x, self_weights = self._residual(x, self.norm1, self_attend, self.dropout1)
        x, cross_weights = self._residual(x, self.norm2, cross_attend, self.dropout2)
        x, _ = self._residual(x, self.norm3, lambda h: (self.ffn(h), None), self.dropout3)
        return (x, self_weights, cross_weights) if return_weights else x
        # [/book: decoder-forward]
