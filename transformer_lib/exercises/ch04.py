"""Exercise checkers for chapter 4, "Why divide by sqrt(d_k)"."""
from __future__ import annotations

import math

import torch

from . import check_function, check_number, feedback

__all__ = ["check_exercise_1", "check_exercise_2", "check_exercise_3"]


def _value(answer):
    try:
        return float(answer)
    except (TypeError, ValueError):
        return None


def check_exercise_1(answer) -> bool:
    """Standard deviation of q·k for d_k = 64 and independent entries of mean 0, variance 1."""
    d_k = 64
    v = _value(answer) if answer is not None else None
    if v is not None:
        if math.isclose(v, d_k, rel_tol=1e-3):
            return feedback(False, "", "64 is the variance of q·k; the standard "
                "deviation is its square root.")
        if math.isclose(v, 1.0, rel_tol=1e-3):
            return feedback(False, "", "1 is the spread *after* dividing by "
                "sqrt(d_k); the question asks before.")
        if v == 0:
            return feedback(False, "", "The mean of q·k is 0, but its spread is not: add up "
                "the variances of the 64 products.")
    return check_number(
        answer, math.sqrt(d_k),
        "Var(q·k) = d_k = 64, so the standard deviation is sqrt(64) = 8: typical scores are around ±8.",
        "Each product q_i k_i has variance 1 and the 64 products are independent: add their variances, "
        "then take the square root.",
    )


def check_exercise_2(answer) -> bool:
    """Divisor that brings q·k back to variance 1 when d_k = 16 and every entry has variance 4."""
    d_k, var_entry = 16, 4.0
    variance = d_k * var_entry * var_entry          # Var(q_i k_i) = Var(q_i) Var(k_i)
    v = _value(answer) if answer is not None else None
    if v is not None:
        if math.isclose(v, math.sqrt(d_k), rel_tol=1e-3):
            return feedback(False, "", "sqrt(d_k) is right only for entries of variance 1; here "
                "each product q_i k_i has variance 4 x 4.")
        if math.isclose(v, variance, rel_tol=1e-3):
            return feedback(False, "", "256 is the variance of q·k; dividing by c divides the "
                "variance by c², so c is its square root.")
        if math.isclose(v, math.sqrt(d_k * var_entry), rel_tol=1e-3):
            return feedback(False, "", "Both q_i and k_i have variance 4, so each product "
                "has variance 4 x 4 = 16, not 4.")
    return check_number(
        answer, math.sqrt(variance),
        "Var(q·k) = 16 x 4 x 4 = 256, and dividing by sqrt(256) = 16 brings it back to 1.",
        "First find Var(q_i k_i) = Var(q_i) Var(k_i), multiply by d_k, then take the square root.",
    )


def _autograd_softmax_jacobian(s: torch.Tensor) -> torch.Tensor:
    """The (n, n) Jacobian of softmax at ``s``, computed by autograd."""
    return torch.func.jacrev(lambda x: torch.softmax(x, dim=-1))(s)


def _scores(generator: torch.Generator):
    n = int(torch.randint(2, 9, (1,), generator=generator))
    spread = float(torch.tensor([0.5, 3.0, 20.0])[torch.randint(0, 3, (1,), generator=generator)])
    return (spread * torch.randn(n, generator=generator),)


def check_exercise_3(softmax_jacobian) -> bool:
    """``softmax_jacobian(s) -> (n, n)``: dp_i/ds_j = p_i (delta_ij - p_j), p = softmax(s)."""
    return check_function(
        softmax_jacobian, _autograd_softmax_jacobian, _scores,
        success="Your Jacobian equals autograd's, for spread-out and for saturated scores; "
                "with saturated scores every entry is close to 0.",
        hint="Compute p = softmax(s), then diag(p) - (outer product of p with itself): "
             "p[:, None] * p[None, :].",
    )
