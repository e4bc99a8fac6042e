"""Checkers for the end-of-chapter exercises, one module per chapter (``ch02.py``, ...).

Each checker prints a friendly verdict and returns True or False; a wrong answer
gets a hint that points at the idea to revisit rather than the solution.
"""
from __future__ import annotations

import math

__all__ = ["feedback", "check_number", "check_close"]


def feedback(correct: bool, success: str, hint: str) -> bool:
    """Print ``success`` or ``hint`` and return ``correct``."""
    print(("Correct! " + success) if correct else ("Not yet. " + hint))
    return bool(correct)


def check_number(answer, expected: float, success: str, hint: str, rel_tol: float = 1e-3, abs_tol: float = 1e-6) -> bool:
    """Compare a numeric ``answer`` with ``expected`` (None or a non-number gets a prompt)."""
    if answer is None:
        print("Replace None with your answer, then run the cell again.")
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

    if answer is None:
        print("Replace None with your answer, then run the cell again.")
        return False
    answer = torch.as_tensor(answer, dtype=torch.float64)
    expected = torch.as_tensor(expected, dtype=torch.float64)
    if answer.shape != expected.shape:
        print(f"Not yet. Your answer has shape {tuple(answer.shape)}, expected {tuple(expected.shape)}.")
        return False
    return feedback(bool(torch.allclose(answer, expected, atol=atol)), success, hint)
