"""Exercise checkers for chapter 5, "The matrix view"."""
from __future__ import annotations

from . import check_number, feedback

__all__ = ["check_exercise_1", "check_exercise_2"]


def check_exercise_1(answer) -> bool:
    """Attention weights computed by GPT-2 small (12 layers x 12 heads) for N = 512 tokens."""
    layers, heads, n = 12, 12, 512
    expected = layers * heads * n * n
    if answer is not None:
        try:
            value = float(answer)
        except (TypeError, ValueError):
            value = None
        if value == layers * heads * n:
            print("Not yet. That counts one weight per token; each head's score matrix is N x N, "
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
        hint="Each head of each layer computes one N x N matrix of weights; multiply the counts.",
        rel_tol=0, abs_tol=0.5,
    )


def _shape(x):
    try:
        return tuple(int(d) for d in x)
    except TypeError:
        return None


def check_exercise_2(answer) -> bool:
    """Shapes of weights and output for q (10, 64), k (7, 64), v (7, 32)."""
    if answer is None:
        print("Replace None with a pair (weights_shape, output_shape), e.g. ((2, 3), (4, 5)), then run the cell again.")
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
            hint = "The weights pair every query with every key; queries and keys have different counts here."
        else:
            hint = "The weights come from q @ k^T: (T, d_k) @ (d_k, S) -> (T, S)."
        return feedback(False, "", hint)
    if output_shape != (10, 32):
        hint = ("The output is weights @ v: (T, S) @ (S, d_v). It has one row per query "
                "and the width of the values, not of the keys.")
        return feedback(False, "", hint)
    return feedback(True, "The weights are (queries x keys) = (10, 7); the output has one row per query "
                          "and the width of v: (10, 32).", "")
