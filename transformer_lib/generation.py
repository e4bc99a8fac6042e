"""Generating text one token at a time, with or without the KV cache.

Legend: B batch, T prompt length, G generated (new) tokens, V vocabulary.

Choosing the next token from the last position's logits (B, V):

* ``temperature=0``: greedy, always the most likely id;
* otherwise sample from softmax(logits / temperature), optionally restricted to the
  ``top_k`` most likely ids and then to the nucleus: the smallest set of most likely
  ids whose probabilities sum to at least ``top_p`` (always at least one id).
"""
from __future__ import annotations

import inspect
import math
import numbers

import torch

from ._checks import check_positive_int, check_tensor, check_token_ids

__all__ = ["generate", "greedy_decode"]


def _check_sampling(temperature, top_k, top_p) -> tuple[float, int | None, float | None]:
    """Validate the sampling settings; return them as (float, int | None, float | None)."""
    if isinstance(temperature, bool) or not isinstance(temperature, numbers.Real):
        raise TypeError(
            f"temperature must be a number >= 0 (0 = greedy), got {temperature!r} "
            f"of type {type(temperature).__name__}"
        )
    if not math.isfinite(temperature) or temperature < 0:
        raise ValueError(f"temperature must be a number >= 0 (0 = greedy) and finite, got {temperature!r}")
    if top_k is not None:
        check_positive_int("top_k", top_k)
    if top_p is not None:
        if isinstance(top_p, bool) or not isinstance(top_p, numbers.Real):
            raise TypeError(f"top_p must be a number in (0, 1], got {top_p!r} of type {type(top_p).__name__}")
        if not 0.0 < top_p <= 1.0:  # also refuses nan
            raise ValueError(f"top_p must be in (0, 1] (1 = no nucleus filtering), got {top_p!r}")
        top_p = float(top_p)
    return float(temperature), top_k, top_p


def _nucleus(logits: torch.Tensor, top_p: float) -> torch.Tensor:
    """Keep the smallest set of most likely ids whose probabilities sum to >= ``top_p``.

    (B, V) -> (B, V) logits with the other ids at -inf. The most likely id is always kept.
    """
    probs = torch.softmax(logits, dim=-1)
    sorted_probs, order = probs.sort(dim=-1, descending=True, stable=True)  # ties: lower id first
    mass_before = sorted_probs.cumsum(dim=-1) - sorted_probs  # probability of the more likely ids
    drop_sorted = mass_before >= top_p  # the set already reached top_p without this id
    drop = drop_sorted.scatter(-1, order, drop_sorted)  # back to vocabulary order
    return logits.masked_fill(drop, float("-inf"))


def _next_token(logits: torch.Tensor, temperature: float, top_k: int | None, top_p: float | None,
                generator) -> torch.Tensor:
    """Pick the next id from last-position logits (B, V) -> (B, 1)."""
    if temperature == 0.0:
        return logits.argmax(dim=-1, keepdim=True)  # greedy
    if logits.dtype in (torch.float16, torch.bfloat16):
        logits = logits.float()  # sample from float32 probabilities
    # Subtracting the row's maximum changes no probability, and keeps logits / temperature
    # finite for tiny temperatures: the best id gets 0, the others a large negative number
    # (or -inf), so a temperature near 0 samples (almost) greedily instead of giving NaN.
    logits = logits - logits.amax(dim=-1, keepdim=True)  # the best id gets 0, the others < 0
    # 0 / temperature stays 0 even when the temperature underflows to 0 in the logits' dtype.
    logits = torch.where(logits == 0, 0.0, logits / temperature)
    if top_k is not None:
        kth_best = torch.topk(logits, min(top_k, logits.shape[-1]), dim=-1).values[:, -1:]  # (B, 1)
        logits = logits.masked_fill(logits < kth_best, float("-inf"))
    if top_p is not None and top_p < 1.0:
        logits = _nucleus(logits, top_p)
    probs = torch.softmax(logits, dim=-1)
    return torch.multinomial(probs, num_samples=1, generator=generator)  # (B, 1)


def _check_finite(logits: torch.Tensor, step: int) -> None:
    """Refuse NaN or inf logits: sampling from them would give garbage ids (or fail inside torch)."""
    if not torch.isfinite(logits).all():
        raise ValueError(
            f"the model produced non-finite logits (NaN or inf) at generation step {step}; "
            "check its weights and inputs"
        )


def _accepts(model, argument: str) -> bool:
    """Whether ``model``'s forward takes the keyword ``argument``."""
    try:
        return argument in inspect.signature(model.forward).parameters
    except (TypeError, ValueError, AttributeError):
        return False


def _check_model(model, tokens: torch.Tensor, use_cache: bool):
    """The model's config after checking what ``generate`` needs from it."""
    config = getattr(model, "config", None)
    if config is None or not callable(model):
        raise TypeError(f"model must be a GPT-like module with a .config, got {type(model).__name__}")
    if use_cache and not callable(getattr(model, "new_cache", None)):
        raise TypeError(f"model {type(model).__name__} has no new_cache(); pass use_cache=False")
    params = next(model.parameters(), None) if hasattr(model, "parameters") else None
    if params is not None and params.device != tokens.device:
        raise ValueError(
            f"tokens are on {tokens.device} but the model is on {params.device}; "
            f"move them with tokens.to({str(params.device)!r})"
        )
    return config


def _check_prompt(name: str, tokens, vocab_size: int | None) -> torch.Tensor:
    """A (B, T) integer prompt with B >= 1, T >= 1 and ids inside the vocabulary."""
    check_tensor(name, tokens, ndim=2)
    if vocab_size is None:
        vocab_size = torch.iinfo(torch.int64).max
    check_token_ids(name, tokens, vocab_size)
    if tokens.shape[0] == 0 or tokens.shape[1] == 0:
        raise ValueError(
            f"{name} must hold at least one sequence of at least one token, got shape {tuple(tokens.shape)}"
        )
    return tokens


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
    top_p: float | None = None,
):
    """Extend ``tokens`` by ``max_new_tokens`` ids sampled from a :class:`~transformer_lib.GPT`.

    Without the cache every step runs the whole sequence again. With the cache the
    prompt is run once, and each later step feeds only the newest token: earlier
    keys and values are read from each layer's :class:`~transformer_lib.KVCache`.

    Args:
        model: a GPT (anything with ``forward(tokens, cache=None)``, ``config.max_len``
            and ``new_cache()``). Its train/eval mode is restored afterwards, also when
            a step raises.
        tokens: (B, T) prompt ids (any integer dtype), B >= 1, T >= 1.
        max_new_tokens: G >= 1, how many ids to add; T + G must fit in ``max_len``.
        temperature: divides the logits; ``0`` means greedy (always the most likely
            id). Must be finite and >= 0; a tiny positive value samples like greedy.
        top_k: sample only among the ``top_k`` most likely ids (an int >= 1).
        use_cache: reuse keys and values of earlier tokens.
        generator: a ``torch.Generator`` for repeatable sampling.
        return_logits: also return the logits used at each step.
        top_p: nucleus sampling, in (0, 1]: sample only among the smallest set of
            most likely ids whose probabilities (after ``temperature`` and ``top_k``)
            sum to at least ``top_p``; the most likely id is always kept, so a tiny
            ``top_p`` is greedy and ``top_p=1`` filters nothing.

    Returns:
        (B, T + G) int64 ids, or ``(ids, logits (B, G, V))`` with ``return_logits``.
    """
    temperature, top_k, top_p = _check_sampling(temperature, top_k, top_p)
    check_positive_int("max_new_tokens", max_new_tokens)
    check_tensor("tokens", tokens, ndim=2)
    config = _check_model(model, tokens, use_cache)
    _check_prompt("tokens", tokens, getattr(config, "vocab_size", None))
    for name, flag in (("use_cache", use_cache), ("return_logits", return_logits)):
        if not isinstance(flag, bool):
            raise TypeError(f"{name} must be True or False, got {flag!r}")
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
    if generator is not None and generator.device.type != tokens.device.type:
        raise ValueError(
            f"generator is on {generator.device} but tokens are on {tokens.device}; "
            f"create it with torch.Generator(device={str(tokens.device)!r})"
        )
    max_len = config.max_len
    T = tokens.shape[1]
    if T > max_len:
        raise ValueError(
            f"the prompt has T={T} tokens, more than the model's max_len={max_len}; "
            f"keep its last {max_len - 1} tokens (tokens[:, -{max_len - 1}:]) to generate at least one"
        )
    if T + max_new_tokens > max_len:
        raise ValueError(
            f"prompt length {T} + max_new_tokens {max_new_tokens} exceeds the model's "
            f"max_len={max_len}; at most {max_len - T} new tokens fit"
        )
    tokens = tokens.long()  # ids of any integer dtype; int64 cannot overflow for any vocabulary
    was_training = model.training
    model.eval()
    # Only the last position's logits are needed: models that can skip the others do (GPT).
    head_kwargs = {"last_only": True} if _accepts(model, "last_only") else {}
    try:
        # [book: generate-loop]
        cache = model.new_cache() if use_cache else None
        step_logits = []
        next_input = tokens
        for step in range(max_new_tokens):
            # With a cache: the whole prompt once, then one token. Without: everything, every time.
            logits = model(next_input, cache=cache, **head_kwargs)[:, -1, :]  # (B, ., V) -> (B, V)
            _check_finite(logits, step)
            step_logits.append(logits)
            new_token = _next_token(logits, temperature, top_k, top_p, generator)  # (B, 1)
            tokens = torch.cat([tokens, new_token], dim=1)  # (B, T) -> (B, T + 1)
            next_input = new_token if use_cache else tokens
        # [/book: generate-loop]
    finally:
        model.train(was_training)
    if return_logits:
        return tokens, torch.stack(step_logits, dim=1)  # G x (B, V) -> (B, G, V)
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
    if not all(callable(getattr(model, name, None)) for name in ("source_mask", "encode", "decode")):
        raise TypeError(
            f"greedy_decode needs an encoder-decoder Transformer (with source_mask, encode and decode), "
            f"got {type(model).__name__}; for a decoder-only model such as GPT use generate"
        )
    check_positive_int("max_len", max_len)
    config = getattr(model, "config", None)
    vocab_size = getattr(config, "tgt_vocab_size", None) or getattr(config, "vocab_size", None)
    _check_prompt("src", src, getattr(config, "src_vocab_size", None) or getattr(config, "vocab_size", None))
    for name, value in (("bos_id", bos_id), ("eos_id", eos_id)):
        if value is None and name == "eos_id":
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 0 or (
                vocab_size is not None and value >= vocab_size):
            raise ValueError(
                f"{name} must be an int id in [0, {vocab_size - 1 if vocab_size else 'V - 1'}], got {value!r}"
            )
    model_max = getattr(config, "max_len", None)
    if model_max is not None and max_len > model_max:
        # The decoder reads BOS + the first max_len - 1 produced tokens: max_len positions.
        raise ValueError(
            f"max_len={max_len} target tokens need {max_len} decoder positions, more than the "
            f"model's max_len={model_max}"
        )
    was_training = model.training
    model.eval()
    try:
        src_mask = model.source_mask(src, src_mask)  # (B, 1, 1, S) or None
        memory = model.encode(src, src_mask)  # (B, S, D), computed once
        out = torch.full((src.shape[0], 1), bos_id, dtype=torch.long, device=src.device)
        finished = torch.zeros(src.shape[0], dtype=torch.bool, device=src.device)
        for _ in range(max_len):
            logits = model.decode(out, memory, src_mask)[:, -1]  # (B, T, V) -> (B, V)
            next_id = logits.argmax(dim=-1)  # (B,)
            if eos_id is not None:
                next_id = next_id.masked_fill(finished, eos_id)
                finished |= next_id == eos_id
            out = torch.cat([out, next_id[:, None]], dim=1)  # (B, T) -> (B, T + 1)
    finally:
        model.train(was_training)
    return out
