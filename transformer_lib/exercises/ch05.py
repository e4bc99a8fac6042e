"""Exercise checkers for chapter 5, "The matrix view"."""
from __future__ import annotations

import torch

from . import check_function, check_number, feedback, needs_answer

__all__ = ["check_exercise_1", "check_exercise_2", "check_exercise_3"]


def check_exercise_1(answer) -> bool:
    """Attention weights computed by GPT-2 small (12 layers x 12 heads) for T = 512 tokens."""
    layers, heads, n = 12, 12, 512
    expected = layers * heads * n * n
    if answer is not None:
        try:
            value = float(answer)
        except (TypeError, ValueError):
            value = None
        if value == layers * heads * n:
            print("Not yet. That counts one weight per token; each head's score matrix is T x T, "
                  "one weight per (query, key) pair.")
            return False
        if value == n * n:
            print("Not yet. That is one score matrix; every head of every layer computes its own.")
            return False
        if value in (heads * n * n, layers * n * n):
            print("Not yet. Count both the heads of a layer and all the layers.")
            return False
    return check_number(
        answer, expected,
        success=f"{layers} x {heads} score matrices of {n} x {n} entries each.",
        hint="Each head of each layer computes one T x T matrix of weights; multiply the counts.",
        rel_tol=0, abs_tol=0.5,
    )


def _shape(x):
    try:
        return tuple(int(d) for d in x)
    except TypeError:
        return None


def check_exercise_2(answer) -> bool:
    """Shapes of weights and output for q (10, 64), k (7, 64), v (7, 32)."""
    if needs_answer(answer):
        return False
    try:
        weights_shape, output_shape = answer
    except (TypeError, ValueError):
        print(f"Not yet. Give a pair of shapes (weights_shape, output_shape), got {answer!r}.")
        return False
    weights_shape, output_shape = _shape(weights_shape), _shape(output_shape)
    if weights_shape is None or output_shape is None:
        print("Not yet. Each shape should be a tuple of integers such as (10, 7).")
        return False
    if weights_shape != (10, 7):
        if weights_shape == (7, 10):
            hint = "Rows of the weights are queries and columns are keys: (T queries, S keys)."
        elif weights_shape in ((10, 10), (7, 7)):
            hint = ("The weights pair every query with every key; queries and keys have "
                    "different counts here.")
        else:
            hint = "The weights come from q @ k^T: (T, d_k) @ (d_k, S) -> (T, S)."
        return feedback(False, "", hint)
    if output_shape != (10, 32):
        hint = ("The output is weights @ v: (T, S) @ (S, d_v). It has one row per query "
                "and the width of the values, not of the keys.")
        return feedback(False, "", hint)
    return feedback(True, "The weights are (queries x keys) = (10, 7); the output has one row per query "
                          "and the width of v: (10, 32).", "")


def _attention_inputs(generator: torch.Generator):
    """Random q (T, d_k), k (S, d_k), v (S, d_v) and a bool mask (T, S), every row with a key."""
    t, s, d_k, d_v = (int(n) for n in torch.randint(2, 9, (4,), generator=generator))
    q = torch.randn(t, d_k, generator=generator)
    k = torch.randn(s, d_k, generator=generator)
    v = torch.randn(s, d_v, generator=generator)
    mask = torch.rand(t, s, generator=generator) < 0.7
    mask[:, 0] = True  # every query may attend to at least one key
    return q, k, v, mask


def _library_attention(q, k, v, mask):
    from transformer_lib import scaled_dot_product_attention

    return scaled_dot_product_attention(q, k, v, mask=mask)[0]


def check_exercise_3(fn) -> bool:
    """"Implement it": attention(q, k, v, mask) in matrix form, against the library."""
    return check_function(
        fn, _library_attention, _attention_inputs,
        success="softmax(q k^T / sqrt(d_k), masked) v, for every query at once.",
        hint="Divide the scores q @ k.T by sqrt(d_k) (the width of q), set the entries where "
             "the mask is False to -inf, take the softmax of each row (dim=-1), multiply by v.",
    )
