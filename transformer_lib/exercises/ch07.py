"""Exercise checkers for chapter 7, "Residuals and Add & Norm"."""
from __future__ import annotations

import torch

from . import check_function, feedback, needs_answer

__all__ = ["check_exercise_1", "check_exercise_2", "check_exercise_3"]


def _vector(answer, n: int):
    """``answer`` as a float64 tensor of ``n`` numbers, or None after printing what is wrong."""
    if needs_answer(answer):
        return None
    try:
        v = torch.as_tensor(answer, dtype=torch.float64).flatten()
    except (TypeError, ValueError, RuntimeError):
        print(f"Not yet. Expected a list of {n} numbers, got {answer!r}.")
        return None
    if v.numel() != n:
        print(f"Not yet. Expected {n} numbers (one per feature of the token), got {v.numel()}.")
        return None
    return v


def _layer_norm(x: torch.Tensor) -> torch.Tensor:
    return (x - x.mean()) / x.std(unbiased=False)


def check_exercise_1(answer) -> bool:
    """LayerNorm of (2, 4, 6, 8) with gamma = 1, beta = 0, eps neglected."""
    x = torch.tensor([2.0, 4.0, 6.0, 8.0], dtype=torch.float64)
    v = _vector(answer, 4)
    if v is None:
        return False
    expected = _layer_norm(x)
    if torch.allclose(v, expected, atol=2e-3):
        return feedback(True, "Mean 5, variance 5: (x - 5) / sqrt(5) gives a vector with mean 0 and variance 1.", "")
    if torch.allclose(v, (x - x.mean()) / x.std(unbiased=True), atol=2e-3):
        return feedback(False, "", "Close: LayerNorm divides by the population variance (divide by d = 4, "
                                   "not d - 1 = 3).")
    if torch.allclose(v, x - x.mean(), atol=2e-3):
        return feedback(False, "", "You subtracted the mean; now divide by the standard deviation too.")
    if torch.allclose(v, (x - x.mean()) / ((x - x.mean()) ** 2).mean(), atol=2e-3):
        return feedback(False, "", "Divide by the standard deviation (the square root of the variance), "
                                   "not by the variance.")
    return feedback(False, "", "Take the mean and the variance of the four numbers of this token, then "
                               "compute (x - mean) / sqrt(variance). The result has mean 0 and variance 1.")


def check_exercise_2(answer) -> bool:
    """Pre-norm layer output when attention and FFN output zeros: x itself."""
    x = torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float64)
    v = _vector(answer, 4)
    if v is None:
        return False
    if torch.allclose(v, x, atol=2e-3):
        return feedback(True, "Pre-norm adds the sublayers' outputs to x, so x passes through unchanged. "
                              "A post-norm layer would return LayerNorm(x) instead.", "")
    if torch.allclose(v, _layer_norm(x), atol=2e-3):
        return feedback(False, "", "That is what a post-norm layer, LayerNorm(x + 0), returns. In pre-norm "
                                   "the LayerNorm sits on the branch: x + Sublayer(LayerNorm(x)).")
    if torch.allclose(v, torch.zeros(4, dtype=torch.float64), atol=2e-3):
        return feedback(False, "", "The sublayers output zeros, but the residual adds them to x.")
    return feedback(False, "", "Write the pre-norm update x + Sublayer(LayerNorm(x)) with Sublayer = 0, "
                               "once for attention and once for the FFN.")


def _add_norm_inputs(generator: torch.Generator):
    """Random x and sublayer output (T, D), and LayerNorm weights gamma, beta (D,)."""
    t, d = (int(n) for n in torch.randint(2, 9, (2,), generator=generator))
    return (3 * torch.randn(t, d, generator=generator) + 1, torch.randn(t, d, generator=generator),
            1 + 0.5 * torch.randn(d, generator=generator), torch.randn(d, generator=generator))


def _library_add_norm(x, sublayer_out, gamma, beta):
    return torch.nn.functional.layer_norm(x + sublayer_out, gamma.shape, gamma, beta, eps=1e-5)


def check_exercise_3(fn) -> bool:
    """"Implement it": post-norm Add & Norm, LayerNorm(x + sublayer_out), against PyTorch's."""
    return check_function(
        fn, _library_add_norm, _add_norm_inputs,
        success="Add, then normalise each row (mean 0, variance 1), then scale by gamma and "
                "shift by beta.",
        hint="Add first: h = x + sublayer_out. Then, per row (dim=-1, keepdim=True), subtract the "
             "mean and divide by sqrt(population variance + 1e-5); finally gamma * ... + beta.",
        atol=1e-4,
    )
