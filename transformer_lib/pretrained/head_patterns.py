"""What attention heads look at: the share of attention each head puts on simple targets.

:func:`attention_pattern_scores` takes the per-layer attention weights of an
encoder (``BertEncoder(..., return_weights=True)``) and measures, for every layer
and head, how much weight a query gives to the previous token, the next token,
itself, other copies of its own word, ``[CLS]`` and ``[SEP]`` (chapter 14).

Legend: N layers, B batch, H heads, T query length, S key length (S = T here).
"""
from __future__ import annotations

import torch

__all__ = ["ATTENTION_PATTERNS", "attention_pattern_scores"]


#: The patterns measured by :func:`attention_pattern_scores`, with what each one means.
ATTENTION_PATTERNS = {
    "previous token": "the key just before the query",
    "next token": "the key just after the query",
    "itself": "the query's own position",
    "same word": "other positions holding the query's token id",
    "[CLS]": "the first token, [CLS]",
    "[SEP]": "the separator token(s), [SEP]",
}


@torch.no_grad()
def attention_pattern_scores(weights, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                             cls_id: int, sep_id: int) -> dict[str, torch.Tensor]:
    """How much attention each head puts on a few simple targets, averaged over queries.

    For every pattern of :data:`ATTENTION_PATTERNS`, and for every real query
    token that is neither [CLS] nor [SEP] and has at least one key of that kind,
    add up the attention weight the query gives to those keys; average over
    those queries (all sentences together).

    Args:
        weights: list of N tensors (B, H, T, T), as ``BertEncoder(..., return_weights=True)`` returns.
        input_ids: (B, T) token ids.
        attention_mask: (B, T), 1 on real tokens.
        cls_id, sep_id: ids of [CLS] and [SEP].

    Returns:
        dict pattern name -> (N, H) tensor of average attention mass in [0, 1].
    """
    weights = list(weights)
    if not weights or not all(isinstance(w, torch.Tensor) for w in weights):
        raise ValueError("weights must be a non-empty list of (B, H, T, T) tensors, one per layer")
    for name, value in (("input_ids", input_ids), ("attention_mask", attention_mask)):
        if not isinstance(value, torch.Tensor) or value.dim() != 2:
            raise ValueError(f"{name} must be a (B, T) tensor, got {getattr(value, 'shape', type(value).__name__)}")
    if attention_mask.shape != input_ids.shape:
        raise ValueError(
            f"attention_mask must have the shape of input_ids {tuple(input_ids.shape)}, "
            f"got {tuple(attention_mask.shape)}"
        )
    B, T = input_ids.shape
    if any(w.dim() != 4 or w.shape[0] != B or w.shape[2:] != (T, T) or w.shape != weights[0].shape for w in weights):
        raise ValueError(
            f"weights must be a list of (B, H, T, T) tensors matching input_ids {tuple(input_ids.shape)}, "
            f"got {[tuple(w.shape) for w in weights]}"
        )
    stacked = torch.stack(weights, dim=0)  # N x (B, H, T, S) -> (N, B, H, T, S)
    # [book: pattern-scores]
    T = input_ids.shape[1]
    real = attention_mask.bool()  # (B, T)
    special = (input_ids == cls_id) | (input_ids == sep_id)  # (B, T)
    query_pos = torch.arange(T, device=input_ids.device)[:, None]  # (T, 1)
    key_pos = torch.arange(T, device=input_ids.device)[None, :]  # (1, S)
    real_keys = real[:, None, :]  # (B, 1, S)
    targets = {  # which keys count, per query: (B, T, S) booleans
        "previous token": (key_pos == query_pos - 1)[None] & real_keys,
        "next token": (key_pos == query_pos + 1)[None] & real_keys,
        "itself": (key_pos == query_pos)[None] & real_keys,
        "same word": (input_ids[:, :, None] == input_ids[:, None, :]) & (key_pos != query_pos)[None] & real_keys,
        "[CLS]": (input_ids == cls_id)[:, None, :].expand(-1, T, -1) & real_keys,
        "[SEP]": (input_ids == sep_id)[:, None, :].expand(-1, T, -1) & real_keys,
    }
    scores = {}
    for name, keys in targets.items():
        mass = (stacked * keys[None, :, None].to(stacked.dtype)).sum(-1)  # (N, B, H, T): weight on those keys
        counted = real & ~special & keys.any(-1)  # (B, T): queries that have such a key
        n = counted.sum().clamp(min=1)
        scores[name] = (mass * counted[None, :, None].to(mass.dtype)).sum(dim=(1, 3)) / n  # (N, H)
    return scores
    # [/book: pattern-scores]
