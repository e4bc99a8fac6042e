"""Exercise checkers for chapter 9, masked self-attention."""
from __future__ import annotations

import torch

from . import check_function, check_number, feedback

__all__ = ["check_exercise_1", "check_exercise_2", "check_exercise_3"]


def check_exercise_1(answer) -> bool:
    """Number of True entries in ``causal_mask(10)``."""
    if answer is not None:
        try:
            value = float(answer)
        except (TypeError, ValueError):
            value = None
        if value == 45:
            print("Not yet. 45 leaves out the diagonal: every token may attend to itself.")
            return False
        if value == 100:
            print("Not yet. 100 is every entry; the mask forbids the keys after each query.")
            return False
    return check_number(
        answer,
        55,
        "Row t allows keys 0..t, so 1 + 2 + ... + 10 = 55 of the 100 entries.",
        "Count row by row: how many keys may the first query see, the second, ..., the tenth?",
        rel_tol=0.0,
        abs_tol=0.5,
    )


def check_exercise_2(answer) -> bool:
    """The causal-and-padding mask for lengths [3, 5], shape (2, 1, 5, 5)."""
    from ..masks import causal_mask, padding_mask

    if answer is None:
        print("Replace None with your mask, then run the cell again.")
        return False
    if not isinstance(answer, torch.Tensor):
        print(f"Expected a torch tensor built with tl.causal_mask and tl.padding_mask, got {type(answer).__name__}.")
        return False
    if answer.dtype != torch.bool:
        print(f"Not yet. Masks in this book are boolean (True = may attend); yours has dtype {answer.dtype}.")
        return False
    causal = causal_mask(5)
    padding = padding_mask([3, 5])
    expected = causal & padding  # (2, 1, 5, 5)
    if tuple(answer.shape) != tuple(expected.shape):
        if torch.equal(answer, causal):
            hint = "this is the causal part only; the padding of the first sentence is not hidden."
        elif tuple(answer.shape) == tuple(padding.shape) and torch.equal(answer, padding):
            hint = "this is the padding part only; combine it with the causal mask using &."
        else:
            hint = ("combine a (5, 5) causal mask with a (2, 1, 1, 5) padding mask using &; "
                    "broadcasting gives (2, 1, 5, 5).")
        print(f"Not yet. Your mask has shape {tuple(answer.shape)}, expected (2, 1, 5, 5): {hint}")
        return False
    if torch.equal(answer, expected):
        return feedback(True, "Query t of sentence b may see key s only if s <= t and s < length[b].", "")
    if torch.equal(answer, ~expected):
        return feedback(False, "", "Your mask is inverted: in this book True means 'may attend'.")
    if (answer & ~causal).any():
        return feedback(False, "", "Some query may still see a later key: the causal part is missing or wrong.")
    return feedback(False, "", "Some query may still see a padding key, or a real key is hidden: "
                               "check the lengths [3, 5].")


def check_exercise_3(fn) -> bool:
    """"Implement it": the reader's ``fn(T)`` against ``tl.causal_mask(T)`` for random T."""
    from ..masks import causal_mask

    if callable(fn):
        try:
            sample = fn(3)
        except Exception:  # check_function reports the error with its inputs
            sample = None
        if isinstance(sample, torch.Tensor) and sample.dtype != torch.bool:
            print(f"Not yet. Masks in this book are boolean (True = may attend); yours has "
                  f"dtype {sample.dtype}: compare positions with <= to get booleans.")
            return False
    return check_function(
        fn,
        causal_mask,
        lambda generator: (int(torch.randint(1, 12, (1,), generator=generator)),),
        "Key s is allowed for query t exactly when s <= t: the lower triangle, diagonal included.",
        "Compare with tl.causal_mask(T): row t (the query) must be True for keys 0..t and "
        "False after. Is the diagonal included, and are rows queries?",
        trials=6,
        atol=0.0,
    )
