"""Checkers for the end-of-chapter exercises, one module per chapter (``ch02.py``, ...).

Each checker prints a friendly verdict and returns True or False; a wrong answer
gets a hint that points at the idea to revisit rather than the solution.
"""
from __future__ import annotations

import math

__all__ = ["feedback", "needs_answer", "check_number", "check_close", "check_function"]


def feedback(correct: bool, success: str, hint: str) -> bool:
    """Print ``success`` or ``hint`` and return ``correct``."""
    print(("Correct! " + success) if correct else ("Not yet. " + hint))
    return bool(correct)


def needs_answer(answer) -> bool:
    """True (and a prompt printed) while the reader's cell still holds ``None``."""
    if answer is None:
        print("Replace None with your answer, then run the cell again.")
        return True
    return False


def check_number(
    answer, expected: float, success: str, hint: str, rel_tol: float = 1e-3, abs_tol: float = 1e-6
) -> bool:
    """Compare a numeric ``answer`` with ``expected`` (None or a non-number gets a prompt)."""
    if needs_answer(answer):
        return False
    try:
        value = float(answer)
    except (TypeError, ValueError):
        print(f"Expected a number, got {answer!r}.")
        return False
    return feedback(math.isclose(value, expected, rel_tol=rel_tol, abs_tol=abs_tol), success, hint)


def check_close(answer, expected, success: str, hint: str, atol: float = 1e-4) -> bool:
    """Compare a tensor/array ``answer`` with ``expected`` (shape first, then values)."""
    import torch

    if needs_answer(answer):
        return False
    answer = torch.as_tensor(answer, dtype=torch.float64)
    expected = torch.as_tensor(expected, dtype=torch.float64)
    if answer.shape != expected.shape:
        print(f"Not yet. Your answer has shape {tuple(answer.shape)}, expected {tuple(expected.shape)}.")
        return False
    return feedback(bool(torch.allclose(answer, expected, atol=atol)), success, hint)


def check_function(
    fn,
    reference,
    make_inputs,
    success: str,
    hint: str,
    trials: int = 5,
    atol: float = 1e-5,
    seed: int = 0,
) -> bool:
    """"Implement it" exercises: run the reader's ``fn`` and the library's ``reference``
    on ``trials`` random inputs and compare the results.

    ``make_inputs(generator)`` returns a tuple of positional arguments (tensors made with
    the ``torch.Generator`` it is given, so every trial is reproducible). The first
    input on which the two differ is described in the hint: its shapes, and the largest
    difference or the shape mismatch.
    """
    import torch

    if needs_answer(fn):
        return False
    if not callable(fn):
        print(f"Expected a function, got {type(fn).__name__}.")
        return False
    generator = torch.Generator().manual_seed(seed)
    for trial in range(trials):
        args = make_inputs(generator)
        shapes = ", ".join(str(tuple(a.shape)) if isinstance(a, torch.Tensor) else repr(a)
                           for a in args)  # a number (e.g. a length) is shown as itself
        expected = reference(*args)
        try:
            got = fn(*[a.clone() if isinstance(a, torch.Tensor) else a for a in args])
        except Exception as error:  # the reader's code: report, do not crash the notebook
            print(f"Not yet. Your function raised {type(error).__name__}: {error} "
                  f"(inputs of shapes {shapes}).")
            return False
        if got is None:
            print("Not yet. Your function returned None: did you forget `return`?")
            return False
        got = torch.as_tensor(got)
        if tuple(got.shape) != tuple(expected.shape):
            print(f"Not yet. On inputs of shapes {shapes} your function returned shape "
                  f"{tuple(got.shape)}, expected {tuple(expected.shape)}.")
            return False
        got, expected = got.double(), expected.double()
        # Equal entries match (also equal infinities, e.g. masked scores); the rest within atol.
        close = (got == expected) | ((got - expected).abs() <= atol)
        if not bool(close.all()):
            differences = (got - expected).abs()[~close]
            finite = differences[differences.isfinite()]
            worst = finite.max().item() if finite.numel() == differences.numel() else float("inf")
            return feedback(False, success, f"{hint} (trial {trial + 1}: inputs of shapes {shapes}, "
                                            f"largest difference {worst:.3g})")
    return feedback(True, success, hint)
