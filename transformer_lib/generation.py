"""Generating text one token at a time, with or without the KV cache.

Legend: B batch, T prompt length, N new tokens, V vocabulary.
"""
from __future__ import annotations

import torch

from ._checks import check_positive_int, check_tensor

__all__ = ["generate", "greedy_decode"]


def _next_token(logits: torch.Tensor, temperature: float, top_k: int | None, generator) -> torch.Tensor:
    """Pick the next id from last-position logits (B, V) -> (B, 1)."""
    if temperature == 0.0:
        return logits.argmax(dim=-1, keepdim=True)  # greedy
    logits = logits / temperature
    if top_k is not None:
        kth_best = torch.topk(logits, min(top_k, logits.shape[-1]), dim=-1).values[:, -1:]  # (B, 1)
        logits = logits.masked_fill(logits < kth_best, float("-inf"))
    probs = torch.softmax(logits, dim=-1)
    return torch.multinomial(probs, num_samples=1, generator=generator)  # (B, 1)


@torch.no_grad()
def generate(
    model,
    tokens: torch.Tensor,
    max_new_tokens: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    use_cache: bool = True,
    generator: torch.Generator | None = None,
    return_logits: bool = False,
):
    """Extend ``tokens`` by ``max_new_tokens`` ids sampled from a :class:`~transformer_lib.GPT`.

    Without the cache every step runs the whole sequence again. With the cache the
    prompt is run once, and each later step feeds only the newest token: earlier
    keys and values are read from each layer's :class:`~transformer_lib.KVCache`.

    Args:
        model: a GPT (anything with ``forward(tokens, cache=None)`` and ``new_cache()``).
        tokens: (B, T) prompt ids.
        max_new_tokens: N, how many ids to add.
        temperature: divides the logits; ``0`` means greedy (always the most likely id).
        top_k: sample only among the k most likely ids.
        use_cache: reuse keys and values of earlier tokens.
        generator: a ``torch.Generator`` for repeatable sampling.
        return_logits: also return the logits used at each step.

    Returns:
        (B, T + N) ids, or ``(ids, logits (B, N, V))`` with ``return_logits``.
    """
    check_tensor("tokens", tokens, ndim=2)
    check_positive_int("max_new_tokens", max_new_tokens)
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or temperature < 0:
        raise ValueError(f"temperature must be a number >= 0 (0 = greedy), got {temperature!r}")
    if top_k is not None:
        check_positive_int("top_k", top_k)
    max_len = model.config.max_len
    if tokens.shape[1] + max_new_tokens > max_len:
        raise ValueError(
            f"prompt length {tokens.shape[1]} + max_new_tokens {max_new_tokens} exceeds the model's "
            f"max_len={max_len}"
        )
    was_training = model.training
    model.eval()
    cache = model.new_cache() if use_cache else None
    step_logits = []
    next_input = tokens
    for _ in range(max_new_tokens):
        # With a cache: the whole prompt once, then one token. Without: everything, every time.
        logits = model(next_input, cache=cache)[:, -1, :]  # (B, T_in, V) -> (B, V)
        step_logits.append(logits)
        new_token = _next_token(logits, float(temperature), top_k, generator)  # (B, 1)
        tokens = torch.cat([tokens, new_token], dim=1)  # (B, T) -> (B, T + 1)
        next_input = new_token if use_cache else tokens
    model.train(was_training)
    if return_logits:
        return tokens, torch.stack(step_logits, dim=1)  # N x (B, V) -> (B, N, V)
    return tokens


@torch.no_grad()
def greedy_decode(model, src: torch.Tensor, max_len: int, bos_id: int, eos_id: int | None = None,
                  src_mask: torch.Tensor | None = None) -> torch.Tensor:
    """Greedy decoding with an encoder-decoder :class:`~transformer_lib.Transformer`.

    Args:
        model: a Transformer.
        src: (B, S) source ids.
        max_len: number of target tokens to produce (after the BOS token).
        bos_id: id that starts every target.
        eos_id: optional id after which a sequence is finished (later ids are eos_id).
        src_mask: optional source padding mask (B, 1, 1, S).

    Returns:
        (B, 1 + max_len) ids, starting with ``bos_id``.
    """
    check_tensor("src", src, ndim=2)
    check_positive_int("max_len", max_len)
    was_training = model.training
    model.eval()
    src_mask = model._src_mask(src, src_mask)
    memory = model.encode(src, src_mask)  # (B, S, D), computed once
    out = torch.full((src.shape[0], 1), bos_id, dtype=torch.long, device=src.device)
    finished = torch.zeros(src.shape[0], dtype=torch.bool, device=src.device)
    for _ in range(max_len):
        logits = model.decode(out, memory, src_mask)[:, -1]  # (B, T, V) -> (B, V)
        next_id = logits.argmax(dim=-1)  # (B,)
        if eos_id is not None:
            next_id = next_id.masked_fill(finished, eos_id)
            finished |= next_id == eos_id
        out = torch.cat([out, next_id[:, None]], dim=1)
    model.train(was_training)
    return out
