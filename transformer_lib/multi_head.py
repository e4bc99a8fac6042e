"""Multi-head attention: several attention "heads" side by side.

Legend: B batch, T queries, S keys, D d_model, H query heads, H_kv key/value heads,
d_k = D // H head width.

    Q = query W_q, K = key W_k, V = value W_v        (B, T, H d_k), (B, S, H_kv d_k) twice
    split each into heads                            (B, H, T, d_k), (B, H_kv, S, d_k)
    share each key/value head among H / H_kv queries (B, H, S, d_k)
    attend in every head at once                     (B, H, T, d_k)
    merge the heads back and project with W_o        (B, T, D)

With H_kv = H (the paper, GPT-2) every query head has its own keys and values.
Grouped-query attention (Llama, SmolLM2) uses fewer key/value heads: query head h
reads key/value head h // (H / H_kv). W_k and W_v shrink by H / H_kv and, more
important when generating, so does the KV cache.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from ._checks import (
    check_divisible,
    check_input,
    check_mask,
    check_positive_int,
    check_probability,
    check_tensor,
)
from .attention import scaled_dot_product_attention
from .cache import KVCache
from .heads import merge_heads, split_heads
from .masks import causal_mask

__all__ = ["MultiHeadAttention", "repeat_kv"]


def repeat_kv(x: torch.Tensor, group: int) -> torch.Tensor:
    """Share each key/value head among ``group`` query heads: (B, H_kv, S, d_k) -> (B, H_kv * group, S, d_k).

    Query head h reads key/value head h // group (heads 0..group-1 read head 0, and so on),
    the order of transformers' ``repeat_kv`` and of llama.cpp.
    """
    check_tensor("x", x, ndim=4)
    check_positive_int("group", group)
    # [book: repeat-kv]
    return x.repeat_interleave(group, dim=1)  # (B, H_kv, S, d_k) -> (B, H_kv * group, S, d_k)
    # [/book: repeat-kv]


class MultiHeadAttention(nn.Module):
    """Multi-head attention with four linear projections w_q, w_k, w_v, w_o.

    Args:
        d_model: model width D (must be divisible by ``n_heads``).
        n_heads: number of query heads H; each head has width d_k = D // H.
        bias: whether the four projections have biases.
        dropout: dropout on the attention weights during training.
        use_sdpa: run PyTorch's fused ``F.scaled_dot_product_attention`` instead of
            the explicit math (same output; weights are then not materialised, so
            ``return_weights=True`` falls back to the explicit path).
        rotary: optional :class:`~transformer_lib.positional.RotaryEmbedding` applied
            to queries and keys (RoPE); None for none.
        n_kv_heads: number of key/value heads H_kv (grouped-query attention); must
            divide ``n_heads``. None means H_kv = H (ordinary multi-head attention).

    Attributes:
        w_q: ``nn.Linear(D, H * d_k)``; w_k, w_v: ``nn.Linear(D, H_kv * d_k)``;
        w_o: ``nn.Linear(H * d_k, D)``; rotary; dropout_p (float: the probability
        handed to the attention function, like ``F.scaled_dot_product_attention``'s
        ``dropout_p``; a ``.dropout`` attribute is always an ``nn.Dropout`` module).
    """

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        bias: bool = True,
        dropout: float = 0.0,
        use_sdpa: bool = False,
        rotary: nn.Module | None = None,
        n_kv_heads: int | None = None,
    ):
        super().__init__()
        check_positive_int("d_model", d_model)
        check_positive_int("n_heads", n_heads)
        check_divisible("d_model", d_model, "n_heads", n_heads)
        n_kv_heads = n_heads if n_kv_heads is None else check_positive_int("n_kv_heads", n_kv_heads)
        check_divisible("n_heads", n_heads, "n_kv_heads", n_kv_heads)
        self.dropout_p = check_probability("dropout", dropout)  # on the weights, inside attention
        self.d_model = d_model
        self.n_heads, self.n_kv_heads = n_heads, n_kv_heads
        self.d_head = d_model // n_heads
        self.use_sdpa = bool(use_sdpa)
        self.w_q = nn.Linear(d_model, n_heads * self.d_head, bias=bias)
        self.w_k = nn.Linear(d_model, n_kv_heads * self.d_head, bias=bias)
        self.w_v = nn.Linear(d_model, n_kv_heads * self.d_head, bias=bias)
        self.w_o = nn.Linear(n_heads * self.d_head, d_model, bias=bias)
        if rotary is not None and getattr(rotary, "d_head", self.d_head) != self.d_head:
            raise ValueError(f"rotary rotates heads of width {rotary.d_head}, but this attention's heads have "
                             f"d_k = d_model / n_heads = {d_model} / {n_heads} = {self.d_head}")
        self.rotary = rotary

    @classmethod
    def from_torch(cls, module: nn.MultiheadAttention, **kwargs) -> MultiHeadAttention:
        """A copy of PyTorch's ``nn.MultiheadAttention`` (same weights, dtype and device).

        PyTorch keeps W_q, W_k, W_v stacked in one ``in_proj_weight`` (3D, D): rows
        [0, D) are W_q, [D, 2D) W_k, [2D, 3D) W_v. ``kwargs`` (``use_sdpa``, ``rotary``)
        go to the constructor.
        """
        if not isinstance(module, nn.MultiheadAttention):
            raise TypeError(f"module must be a torch.nn.MultiheadAttention, got {type(module).__name__}")
        if not module._qkv_same_embed_dim or module.bias_k is not None or module.add_zero_attn:
            raise ValueError("from_torch needs kdim = vdim = embed_dim, add_bias_kv=False and add_zero_attn=False")
        D = module.embed_dim
        mine = cls(D, module.num_heads, bias=module.in_proj_bias is not None, dropout=module.dropout, **kwargs)
        weight = module.in_proj_weight
        mine.to(device=weight.device, dtype=weight.dtype)
        with torch.no_grad():
            for i, linear in enumerate((mine.w_q, mine.w_k, mine.w_v)):
                linear.weight.copy_(weight[i * D:(i + 1) * D])  # rows of W_q | W_k | W_v
                if linear.bias is not None:
                    linear.bias.copy_(module.in_proj_bias[i * D:(i + 1) * D])
            mine.w_o.weight.copy_(module.out_proj.weight)
            if mine.w_o.bias is not None:
                mine.w_o.bias.copy_(module.out_proj.bias)
        return mine.train(module.training)

    def _check_inputs(self, query, key, value):
        check_input("query", query, self, ndim=3, d_model=self.d_model)
        for name, x in (("key", key), ("value", value)):
            check_input(name, x, self, ndim=3)
            if x.shape[-1] != self.d_model or x.shape[0] != query.shape[0]:
                raise ValueError(
                    f"{name} must have shape (B={query.shape[0]}, S, D={self.d_model}), "
                    f"got {tuple(x.shape)}"
                )
        if key.shape[1] != value.shape[1]:
            raise ValueError(f"key {tuple(key.shape)} and value {tuple(value.shape)} differ in length S")

    def forward(
        self,
        query: torch.Tensor,
        key: torch.Tensor | None = None,
        value: torch.Tensor | None = None,
        mask: torch.Tensor | None = None,
        return_weights: bool = False,
        cache: KVCache | None = None,
        is_causal: bool = False,
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
            is_causal: each query may attend only to keys up to its own position;
                the queries are the last T of the S positions (after the cached
                ones), so this is ``causal_mask(T, offset=S - T)`` without building
                it when the fused kernel can skip it. Combined with ``mask`` by ``&``.

        Returns:
            output (B, T, D), or ``(output, weights (B, H, T, S))``.

        A call that raises leaves ``cache`` unchanged: everything is checked before
        the new keys and values are appended.
        """
        key = query if key is None else key
        value = key if value is None else value
        self._check_inputs(query, key, value)
        if not isinstance(is_causal, bool):
            raise TypeError(f"is_causal must be True or False, got {is_causal!r}")
        B, T, _ = query.shape
        offset = len(cache) if cache is not None else 0
        S = offset + key.shape[1]
        if is_causal and key.shape[1] != T:
            raise ValueError(f"is_causal=True needs self-attention (as many new keys as queries), "
                             f"got T={T} queries and {key.shape[1]} new keys")
        if mask is not None:
            check_mask(mask, (B, self.n_heads, T, S), device=query.device)  # before the cache changes

        # [book: project-split]
        q = split_heads(self.w_q(query), self.n_heads)  # (B, T, D) -> (B, T, H d_k) -> (B, H, T, d_k)
        k = split_heads(self.w_k(key), self.n_kv_heads)  # (B, S, D) -> (B, S, H_kv d_k) -> (B, H_kv, S, d_k)
        v = split_heads(self.w_v(value), self.n_kv_heads)  # (B, S, D) -> (B, H_kv, S, d_k)
        # [/book: project-split]
        if self.rotary is not None:
            q, k = self.rotary(q, k, offset=offset)
        # [book: cache-use]
        if cache is not None:
            k, v = cache.append(k, v)  # only the H_kv heads are stored: (B, H_kv, offset + S_new, d_k)
        # [/book: cache-use]
        dropout_p = self.dropout_p if self.training else 0.0

        if self.use_sdpa and not return_weights:
            out = self._fused(q, k, v, mask, is_causal, dropout_p)
            weights = None
        else:
            # [book: gqa-repeat]
            group = self.n_heads // self.n_kv_heads  # query heads per key/value head
            if group > 1:  # query head h reads key/value head h // group
                k = repeat_kv(k, group)  # (B, H_kv, S, d_k) -> (B, H, S, d_k)
                v = repeat_kv(v, group)  # (B, H_kv, S, d_k) -> (B, H, S, d_k)
            # [/book: gqa-repeat]
            out, weights = scaled_dot_product_attention(q, k, v, mask, dropout_p, is_causal=is_causal)

        # [book: merge-project]
        out = self.w_o(merge_heads(out))  # (B, H, T, d_k) -> (B, T, H d_k) -> (B, T, D)
        # [/book: merge-project]
        return (out, weights) if return_weights else out

    def _fused(self, q, k, v, mask, is_causal, dropout_p):
        """PyTorch's fused kernel; the same numbers as the explicit path, no host synchronisation.

        q (B, H, T, d_k), k and v (B, H_kv, S, d_k) -> (B, H, T, d_k).
        """
        T, S = q.shape[2], k.shape[2]
        fused_causal = False
        if is_causal:
            if mask is None and T == S:
                fused_causal = True  # the kernel skips the blocks above the diagonal itself
            elif T > 1 or mask is not None:  # a single new query may see every key: nothing to hide
                causal = causal_mask(T, device=q.device, offset=S - T)  # (T, S)
                mask = causal if mask is None else mask & causal
        # [book: fused-call]
        out = F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, dropout_p=dropout_p, is_causal=fused_causal,
            enable_gqa=self.n_kv_heads != self.n_heads,  # shares each key/value head, no copy
        )
        # [/book: fused-call]
        if mask is not None:
            # A query with no allowed key gets zeros (the fused kernel may give NaN).
            any_key = mask.any(dim=-1, keepdim=True)  # (..., T, S) -> (..., T, 1)
            out = out.masked_fill(~any_key, 0.0)
        return out

    def extra_repr(self) -> str:
        kv = "" if self.n_kv_heads == self.n_heads else f", n_kv_heads={self.n_kv_heads}"
        return f"d_model={self.d_model}, n_heads={self.n_heads}{kv}, d_head={self.d_head}, use_sdpa={self.use_sdpa}"
