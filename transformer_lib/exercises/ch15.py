"""Exercise checkers for chapter 15, from GPT-2 to a modern small LLM (SmolLM2-135M)."""
from __future__ import annotations

import torch

from . import check_function, check_number

__all__ = ["check_exercise_1", "check_exercise_2", "check_exercise_3", "cache_bytes_per_token"]


def _rms_inputs(generator: torch.Generator):
    """Random vectors x (B, T, D) of varied scale and a learned scale ``weight`` (D,)."""
    B, T, D = (int(n) for n in torch.randint(1, 7, (3,), generator=generator))
    scale = float(torch.rand((), generator=generator)) * 10 + 0.1
    x = torch.randn(B, T, D, generator=generator) * scale
    weight = torch.randn(D, generator=generator)
    return x, weight


def _library_rms_norm(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    from ..norms import RMSNorm

    norm = RMSNorm(weight.shape[0], eps=1e-5)
    with torch.no_grad():
        norm.weight.copy_(weight)
        return norm(x)


def check_exercise_1(fn) -> bool:
    """"Implement it": ``rms_norm(x, weight)`` with eps = 1e-5, against ``tl.RMSNorm``."""
    return check_function(
        fn, _library_rms_norm, _rms_inputs,
        success="Divide by the root of the mean of the squares (plus eps), then scale: no mean "
                "subtracted, no bias.",
        hint="Over the last axis only: rms = sqrt(mean(x ** 2) + 1e-5), kept as (..., 1) with "
             "keepdim=True; return x / rms * weight. Subtracting the mean is LayerNorm, not RMSNorm.",
    )


def _kv_inputs(generator: torch.Generator):
    """Random keys (B, H_kv, S, d_k) and a group size (query heads per key/value head)."""
    B, H_kv, S, d_k = (int(n) for n in torch.randint(1, 5, (4,), generator=generator))
    group = int(torch.randint(1, 5, (1,), generator=generator))
    return torch.randn(B, H_kv, S, d_k, generator=generator), group


def check_exercise_2(fn) -> bool:
    """"Implement it": ``repeat_kv(x, group)``, (B, H_kv, S, d_k) -> (B, H_kv * group, S, d_k)."""
    from ..multi_head import repeat_kv

    return check_function(
        fn, repeat_kv, _kv_inputs,
        success="Query head h reads key/value head h // group: each key/value head appears "
                "group times in a row.",
        hint="The order matters: heads 0..group-1 must all be copies of key/value head 0, the "
             "next group copies of head 1, and so on (repeat_interleave on the head axis, or "
             "x[:, h // group] for each query head h). x.repeat(1, group, 1, 1) gives the "
             "order 0, 1, 2, 0, 1, 2, ... instead.",
        atol=0.0,
    )


def cache_bytes_per_token(n_layers: int, n_kv_heads: int, d_k: int, bytes_per_number: int) -> int:
    """Bytes a KV cache holds per token: keys and values of every layer's key/value heads."""
    return n_layers * 2 * n_kv_heads * d_k * bytes_per_number


def check_exercise_3(answer) -> bool:
    """Cache bytes per token of SmolLM2-135M with one key/value head, in bfloat16."""
    if answer is not None:
        try:
            value = float(answer)
        except (TypeError, ValueError):
            value = None
        if value == cache_bytes_per_token(30, 1, 64, 2) / 2:
            print("Not yet. You counted the keys only: the cache stores a value vector beside "
                  "every key vector.")
            return False
        if value == cache_bytes_per_token(30, 1, 64, 4):
            print("Not yet. That is float32 (4 bytes a number); bfloat16 takes 2 bytes.")
            return False
    return check_number(
        answer,
        cache_bytes_per_token(30, 1, 64, 2),
        "30 layers x (key + value) x 1 head x 64 numbers x 2 bytes: a ninth of the cache that "
        "9 key/value heads would need.",
        "Per token and per layer the cache keeps one key and one value vector of d_k = 64 numbers "
        "for each key/value head; multiply by the layers and by the bytes of one number.",
        rel_tol=0.0,
        abs_tol=0.5,
    )
