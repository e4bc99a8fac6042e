"""Exercise checkers for chapter 10, "One token at a time: GPT-2 and the KV cache"."""
from __future__ import annotations

from . import check_function, feedback

__all__ = ["check_exercise_1", "check_exercise_2", "check_exercise_3", "GPT2_SMALL_D_MODEL"]

#: GPT-2 small's model width.
GPT2_SMALL_D_MODEL = 768


def _as_int_pair(answer, what: str):
    """Return ``answer`` as a tuple of two ints, or print why it is not one and return None."""
    if answer is None:
        print(f"Replace None with your answer {what}, then run the cell again.")
        return None
    try:
        pair = tuple(answer)
    except TypeError:
        print(f"Expected a tuple of two numbers {what}, got {answer!r}.")
        return None
    if len(pair) != 2:
        print(f"Expected two numbers {what}, got {len(pair)}: {answer!r}.")
        return None
    try:
        ints = tuple(int(a) for a in pair)
    except (TypeError, ValueError):
        print(f"Expected two whole numbers {what}, got {answer!r}.")
        return None
    if ints != tuple(float(a) for a in pair):
        print(f"Expected two whole numbers {what}, got {answer!r}.")
        return None
    return ints


def check_exercise_1(answer) -> bool:
    """Shape of GPT-2 small's fused ``c_attn`` weight, stored (inputs, outputs)."""
    shape = _as_int_pair(answer, "(rows, columns)")
    if shape is None:
        return False
    d = GPT2_SMALL_D_MODEL
    expected = (d, 3 * d)
    if shape == expected:
        return feedback(True, f"Each token's {d} numbers go in, {3 * d} = q, k and v of {d} each come out.", "")
    if shape == (expected[1], expected[0]):
        return feedback(False, "", "Those are the right sizes in the wrong order: GPT-2 stores the weight "
                        "with the input size first (x @ W), unlike nn.Linear's (out, in).")
    if shape == (d, d):
        return feedback(False, "", "That is the shape of one of W_Q, W_K, W_V. The fused matrix produces all "
                        "three at once: how long is its output?")
    return feedback(False, "", "One row per input feature (d_model of them), and the output is q, k and v "
                    "written one after the other.")


def check_exercise_2(answer, prompt_length: int = 5, new_tokens: int = 3) -> bool:
    """Key vectors computed by one head of one layer, without and with the KV cache."""
    pair = _as_int_pair(answer, "(without_cache, with_cache)")
    if pair is None:
        return False
    without_cache = sum(prompt_length + step for step in range(new_tokens))
    with_cache = prompt_length + new_tokens - 1
    uncached, cached = pair
    if (uncached, cached) == (without_cache, with_cache):
        return feedback(True, "Without the cache every step recomputes everything it has seen; with it the "
                        "prompt is processed once and then one token per step.", "")
    hints = []
    if uncached != without_cache:
        if uncached == (prompt_length + new_tokens) * new_tokens or uncached == sum(
                prompt_length + step for step in range(1, new_tokens + 1)):
            hints.append("without the cache: the token chosen at the last step is never fed back in, and "
                         "step 1 reads the prompt alone")
        else:
            hints.append("without the cache: each step feeds the whole sequence so far; add up those lengths")
    if cached != with_cache:
        if cached == prompt_length + new_tokens:
            hints.append("with the cache: the last chosen token is never fed to the model (generation stops "
                         "once it is picked)")
        elif cached == new_tokens:
            hints.append("with the cache: the first step still has to compute keys for the whole prompt")
        else:
            hints.append("with the cache: the prompt is fed once, then only the newest token at each later step")
    return feedback(False, "", "; ".join(hints).capitalize() + ".")


def _top_p_inputs(generator):
    """Random logits (B, V) with B in 1..3, V in 5..40, and a p in [0.05, 0.95]."""
    import torch

    B = int(torch.randint(1, 4, (1,), generator=generator))
    V = int(torch.randint(5, 41, (1,), generator=generator))
    scale = 0.5 + 3 * float(torch.rand(1, generator=generator))  # flat or peaked
    logits = torch.randn(B, V, generator=generator) * scale
    p = round(0.05 + 0.9 * float(torch.rand(1, generator=generator)), 2)
    return logits, p


def check_exercise_3(fn) -> bool:
    """"Implement it": the reader's top-p filter ``fn(logits, p)`` against the library's.

    Both outputs go through a softmax, so the sampling probabilities are compared (the
    dropped tokens must get probability 0, the kept ones their renormalised share).
    """
    import torch

    from ..generation import _nucleus

    def probabilities(filter_fn):
        def run(logits, p):
            filtered = filter_fn(logits, p)
            if filtered is None:
                return None
            return torch.softmax(torch.as_tensor(filtered, dtype=logits.dtype), dim=-1)

        return run

    wrapped = probabilities(fn) if callable(fn) else fn
    return check_function(
        wrapped,
        probabilities(_nucleus),
        _top_p_inputs,
        "You keep the smallest set of most likely tokens whose probabilities reach p, "
        "exactly as tl.generate(..., top_p=p) does.",
        "Compare the sampling probabilities with the library's: sort the probabilities in "
        "descending order, keep a token while the more likely tokens before it add up to "
        "less than p (the best token is always kept), set the others to -inf, and put the "
        "result back in vocabulary order.",
        trials=8,
        atol=1e-6,
    )
