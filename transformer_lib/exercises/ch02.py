"""Exercise checkers for chapter 2, "Attention as a weighted update"."""
from __future__ import annotations

import torch

from . import check_function, feedback, needs_answer

__all__ = [
    "EXERCISE_1_WEIGHTS", "EXERCISE_2_QUERY", "EXERCISE_2_KEYS",
    "check_exercise_1", "check_exercise_2", "check_exercise_3",
]

#: Exercise 1: the weights that 汉堡 gives to 今天, 晚上, 吃, 汉堡.
EXERCISE_1_WEIGHTS = (0.1, 0.2, 0.3, 0.4)
#: Exercise 2: one query and three keys (2-D).
EXERCISE_2_QUERY = (1.0, 0.0)
EXERCISE_2_KEYS = ((2.0, 0.0), (0.0, 3.0), (-1.0, 0.0))


def _as_vector(answer, size: int, what: str):
    if needs_answer(answer):
        return None
    try:
        t = torch.as_tensor(answer, dtype=torch.float64).flatten()
    except (TypeError, ValueError, RuntimeError):
        print(f"Not yet. Expected {what} ({size} numbers), got {answer!r}.")
        return None
    if t.numel() != size:
        print(f"Not yet. Expected {what} with {size} numbers, got {t.numel()}.")
        return None
    return t


def check_exercise_1(answer, vectors) -> bool:
    """The new vector of 汉堡: 0.1, 0.2, 0.3, 0.4 of the rows of ``vectors`` (4 x 2)."""
    vectors = torch.as_tensor(vectors, dtype=torch.float64)
    if vectors.shape != (4, 2):
        print(f"Pass the chapter's 4 x 2 word vectors as `vectors`, got shape {tuple(vectors.shape)}.")
        return False
    t = _as_vector(answer, 2, "a 2-D vector")
    if t is None:
        return False
    w = torch.tensor(EXERCISE_1_WEIGHTS, dtype=torch.float64)
    expected = w @ vectors
    if torch.allclose(t, expected, atol=1e-3):
        return feedback(True, "The new 汉堡 is 10% of 今天 + 20% of 晚上 + 30% of 吃 + 40% of 汉堡.", "")
    if torch.allclose(t, w.flip(0) @ vectors, atol=1e-3):
        return feedback(False, "", "The weights are in the order 今天, 晚上, 吃, 汉堡: "
            "0.1 goes to 今天, 0.4 to 汉堡.")
    if torch.allclose(t, vectors.mean(0), atol=1e-3):
        return feedback(False, "", "That is the plain average (25% each); use the "
            "weights 0.1, 0.2, 0.3, 0.4.")
    if torch.allclose(t, w @ vectors * 4, atol=1e-3) or torch.allclose(t, vectors.sum(0), atol=1e-3):
        return feedback(False, "", "Multiply each word's vector by its weight, then add "
            "the four products (no extra factor).")
    return feedback(False, "", "Multiply each row of the word vectors by its weight and "
        "add the four rows: weights @ vectors.")


def check_exercise_2(answer) -> bool:
    """Softmax weights of the query (1, 0) over the keys (2, 0), (0, 3), (-1, 0)."""
    t = _as_vector(answer, 3, "three weights")
    if t is None:
        return False
    q = torch.tensor(EXERCISE_2_QUERY, dtype=torch.float64)
    k = torch.tensor(EXERCISE_2_KEYS, dtype=torch.float64)
    scores = k @ q
    expected = torch.softmax(scores, dim=0)
    if torch.allclose(t, expected, atol=1e-3):
        return feedback(True, "The aligned key wins, the orthogonal one gets exp(0) = "
            "1 share, the opposite one the least.", "")
    if torch.allclose(t, scores, atol=1e-3):
        return feedback(False, "", "Those are the dot products (scores). Turn them into "
            "weights with softmax: exp(s) / sum(exp(s)).")
    if abs(float(t.sum()) - 1.0) > 1e-3:
        return feedback(False, "", f"Your weights add up to {float(t.sum()):.3f}; "
            f"softmax weights always add up to 1.")
    if torch.allclose(t, scores / scores.sum(), atol=1e-3):
        return feedback(False, "", "Dividing by the sum is not softmax; exponentiate each score first.")
    return feedback(False, "", "Compute the three dot products q·k (the second key is "
        "orthogonal to q), then softmax them.")


def _library_simple_attention(X: torch.Tensor) -> torch.Tensor:
    """softmax(X X^T) X computed by the library's attention (its 1/sqrt(d_k) undone)."""
    from ..attention import scaled_dot_product_attention

    d = X.shape[-1]
    return scaled_dot_product_attention(X, X * d ** 0.5, X)[0]


def _simple_attention_inputs(generator: torch.Generator):
    T = int(torch.randint(2, 7, (1,), generator=generator))
    D = int(torch.randint(2, 6, (1,), generator=generator))
    return (torch.randn(T, D, generator=generator),)


def check_exercise_3(simple_attention) -> bool:
    """``simple_attention(X)``: softmax of the dot products X X^T, row by row, times X."""
    return check_function(
        simple_attention, _library_simple_attention, _simple_attention_inputs,
        success="Your function gives the library's attention on random sentences: scores "
                "X @ X.T, a softmax in every row, then weights @ X.",
        hint="Score every pair with X @ X.T (shape (T, T)), softmax each row (dim=-1), "
             "then mix the rows of X with weights @ X.",
    )
