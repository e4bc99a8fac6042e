"""Exercise checkers for chapter 3, "Queries, keys and values"."""
from __future__ import annotations

import math

import torch

from . import check_function, check_number, feedback, needs_answer

__all__ = ["EXERCISE_1", "check_exercise_1", "check_exercise_2", "check_exercise_3"]

#: Exercise 1: one query, two keys and two values (d_k = 2).
EXERCISE_1 = {
    "q": (1.0, 2.0),
    "k1": (1.0, 0.0),
    "k2": (0.0, 1.0),
    "v1": (10.0, 0.0),
    "v2": (0.0, 10.0),
}


def _exercise_1_parts():
    e = {name: torch.tensor(v, dtype=torch.float64) for name, v in EXERCISE_1.items()}
    scores = torch.stack([e["q"] @ e["k1"], e["q"] @ e["k2"]])
    values = torch.stack([e["v1"], e["v2"]])
    return scores, values


def check_exercise_1(answer) -> bool:
    """The attention output z for the query q over (k1, v1), (k2, v2), with the 1/sqrt(d_k) scaling."""
    if needs_answer(answer):
        return False
    try:
        t = torch.as_tensor(answer, dtype=torch.float64).flatten()
    except (TypeError, ValueError, RuntimeError):
        print(f"Not yet. Expected a vector of 2 numbers, got {answer!r}.")
        return False
    if t.numel() != 2:
        print(f"Not yet. The output has the size of a value vector (2 numbers), got {t.numel()} numbers.")
        return False
    scores, values = _exercise_1_parts()
    weights = torch.softmax(scores / math.sqrt(2), dim=0)
    expected = weights @ values
    if torch.allclose(t, expected, atol=1e-3):
        return feedback(True, "z = softmax([q·k1, q·k2] / sqrt(2)) @ [v1; v2].", "")
    if torch.allclose(t, torch.softmax(scores, dim=0) @ values, atol=1e-3):
        return feedback(False, "", "Close: you forgot to divide the scores by "
            "sqrt(d_k) = sqrt(2) before the softmax.")
    if torch.allclose(t, weights, atol=1e-3) or torch.allclose(t, scores, atol=1e-3):
        return feedback(False, "", "Those are scores or weights; the output is the "
            "weighted sum of the values v1 and v2.")
    if torch.allclose(t, scores / math.sqrt(2) @ values, atol=1e-3) or torch.allclose(t, scores @ values, atol=1e-3):
        return feedback(False, "", "Turn the scaled scores into weights with "
            "softmax before weighting the values.")
    return feedback(False, "", "Steps: scores q·k1 and q·k2, divide by sqrt(2), softmax, then w1*v1 + w2*v2.")


def check_exercise_2(answer) -> bool:
    """Parameters in w_q, w_k and w_v of tl.MultiHeadAttention(d_model=512, n_heads=8) (with biases)."""
    d = 512
    expected = 3 * (d * d + d)
    if answer is not None:
        try:
            value = int(answer)
        except (TypeError, ValueError):
            value = None
        hints = {
            3 * d * d: "You counted the weight matrices; each nn.Linear also has a bias of 512 numbers.",
            4 * (d * d + d): "That includes w_o, the output projection; count only w_q, w_k and w_v.",
            3 * (d * 64 + 64): "The heads do not shrink the layers: each projection "
                "maps 512 -> 512 and is split afterwards.",
            3 * d * 64: "The heads do not shrink the layers: each projection "
                "maps 512 -> 512 and is split afterwards.",
            d * d + d: "That is one projection; there are three (w_q, w_k, w_v).",
        }
        if value in hints:
            return feedback(False, "", hints[value])
    return check_number(
        answer, expected,
        "Three nn.Linear(512, 512) layers: 3 x (512 x 512 + 512) numbers, whatever the number of heads.",
        "Each of w_q, w_k, w_v is an nn.Linear(512, 512): count its "
            "weight matrix and its bias, then times 3. "
        "You can check with sum(p.numel() for p in layer.parameters()).",
        rel_tol=0, abs_tol=0.5,
    )


def _library_attention(q, k, v):
    from ..attention import scaled_dot_product_attention

    return scaled_dot_product_attention(q, k, v)[0]


def _attention_inputs(generator: torch.Generator):
    def size(low, high):
        return int(torch.randint(low, high, (1,), generator=generator))

    B, T, S, d_k, d_v = size(1, 3), size(1, 6), size(1, 7), size(2, 9), size(1, 6)
    return (torch.randn(B, T, d_k, generator=generator),
            torch.randn(B, S, d_k, generator=generator),
            torch.randn(B, S, d_v, generator=generator))


def check_exercise_3(attention) -> bool:
    """``attention(q, k, v)``: softmax(q k^T / sqrt(d_k)) v, compared with the library."""
    return check_function(
        attention, _library_attention, _attention_inputs,
        success="Your attention matches tl.scaled_dot_product_attention on random batches, "
                "including queries and keys of different lengths.",
        hint="Scores q @ k.transpose(-2, -1) (shape (..., T, S)), divided by sqrt(d_k) = "
             "sqrt(q.shape[-1]), softmax over the last dimension (the keys), then @ v.",
    )
