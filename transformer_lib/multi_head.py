"""Multi-head attention: several attention "heads" side by side.

Legend: B batch, T queries, S keys, D d_model, H heads, K = D // H.

    Q = query W_q, K = key W_k, V = value W_v        (B, *, D)
    split each into H heads                          (B, H, *, K)
    attend in every head at once                     (B, H, T, K)
    merge the heads back and project with W_o        (B, T, D)
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from ._checks import check_divisible, check_mask, check_positive_int, check_probability, check_tensor
from .attention import scaled_dot_product_attention
from .cache import KVCache
from .heads import merge_heads, split_heads
from .masks import causal_mask

__all__ = ["MultiHeadAttention"]


def _is_causal(mask: torch.Tensor | None, T: int, S: int) -> bool:
    """Is ``mask`` exactly ``causal_mask(T)`` (no cached keys)? Then the fused kernel's
    ``is_causal=True`` gives the same result without reading a (T, S) mask."""
    return (mask is not None and T == S and T > 1 and mask.shape == (T, T)
            and torch.equal(mask, causal_mask(T, device=mask.device)))


class MultiHeadAttention(nn.Module):
    """Multi-head attention with four ``nn.Linear(d_model, d_model)``: w_q, w_k, w_v, w_o.

    Args:
        d_model: model width D (must be divisible by ``n_heads``).
        n_heads: number of heads H; each head has width K = D // H.
        bias: whether the four projections have biases.
        dropout: dropout on the attention weights during training.
        use_sdpa: run PyTorch's fused ``F.scaled_dot_product_attention`` instead of
            the explicit math (same output; weights are then not materialised, so
            ``return_weights=True`` falls back to the explicit path).
        rotary: optional :class:`~transformer_lib.positional.RotaryEmbedding` applied
            to queries and keys (RoPE); None for none.
    """

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        bias: bool = True,
        dropout: float = 0.0,
        use_sdpa: bool = False,
        rotary: nn.Module | None = None,
    ):
        super().__init__()
        check_positive_int("d_model", d_model)
        check_positive_int("n_heads", n_heads)
        check_divisible("d_model", d_model, "n_heads", n_heads)
        self.dropout = check_probability("dropout", dropout)
        self.d_model = d_model
        self.n_heads = n_heads
        self.d_head = d_model // n_heads
        self.use_sdpa = bool(use_sdpa)
        self.w_q = nn.Linear(d_model, d_model, bias=bias)
        self.w_k = nn.Linear(d_model, d_model, bias=bias)
        self.w_v = nn.Linear(d_model, d_model, bias=bias)
        self.w_o = nn.Linear(d_model, d_model, bias=bias)
        self.rotary = rotary

    def forward(
        self,
        query: torch.Tensor,
        key: torch.Tensor | None = None,
        value: torch.Tensor | None = None,
        mask: torch.Tensor | None = None,
        return_weights: bool = False,
        cache: KVCache | None = None,
    ):
        """Attend from ``query`` to ``key``/``value``.

        Args:
            query: (B, T, D).
            key: (B, S, D), or None for self-attention (key = value = query).
            value: (B, S, D), or None to use ``key``.
            mask: BoolTensor broadcastable to (B, H, T, S), True = may attend.
                With a cache, S counts the cached positions too.
            return_weights: also return the attention weights.
            cache: a :class:`KVCache`; the new keys/values are appended and the
                queries attend over everything cached.

        Returns:
            output (B, T, D), or ``(output, weights (B, H, T, S))``.
        """
        check_tensor("query", query, ndim=3)
        if query.shape[-1] != self.d_model:
            raise ValueError(
                f"query must have d_model={self.d_model} features, got shape {tuple(query.shape)}"
            )
        if key is None:
            key = query
        if value is None:
            value = key
        for name, x in (("key", key), ("value", value)):
            check_tensor(name, x, ndim=3)
            if x.shape[-1] != self.d_model or x.shape[0] != query.shape[0]:
                raise ValueError(
                    f"{name} must have shape (B={query.shape[0]}, S, D={self.d_model}), "
                    f"got {tuple(x.shape)}"
                )
        if key.shape[1] != value.shape[1]:
            raise ValueError(f"key {tuple(key.shape)} and value {tuple(value.shape)} differ in length S")

        q = split_heads(self.w_q(query), self.n_heads)  # (B, T, D) -> (B, H, T, K)
        k = split_heads(self.w_k(key), self.n_heads)  # (B, S, D) -> (B, H, S, K)
        v = split_heads(self.w_v(value), self.n_heads)  # (B, S, D) -> (B, H, S, K)
        if self.rotary is not None:
            offset = len(cache) if cache is not None else 0
            q, k = self.rotary(q, k, offset=offset)
        if cache is not None:
            k, v = cache.append(k, v)  # (B, H, S_cached + S, K)

        B, H, T, _ = q.shape
        if mask is not None:
            check_mask(mask, (B, H, T, k.shape[2]))
        dropout_p = self.dropout if self.training else 0.0

        if self.use_sdpa and not return_weights:
            if _is_causal(mask, T, k.shape[2]):
                # The kernel builds the causal mask itself and skips the blocks above the diagonal.
                out = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p, is_causal=True)
            else:
                out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout_p)
            if mask is not None:
                # A query with no allowed key gets zeros (the fused kernel may give NaN).
                any_key = mask.any(dim=-1, keepdim=True)  # (..., T, 1)
                if not bool(any_key.all()):
                    out = out.masked_fill(~any_key, 0.0)
            weights = None
        else:
            out, weights = scaled_dot_product_attention(q, k, v, mask=mask, dropout_p=dropout_p)

        out = self.w_o(merge_heads(out))  # (B, H, T, K) -> (B, T, D) -> (B, T, D)
        return (out, weights) if return_weights else out

    def extra_repr(self) -> str:
        return f"d_model={self.d_model}, n_heads={self.n_heads}, d_head={self.d_head}, use_sdpa={self.use_sdpa}"
