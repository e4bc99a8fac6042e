"""Exercise checkers for chapter 8, multi-head attention."""
from __future__ import annotations

from . import check_number, feedback

__all__ = ["check_exercise_1", "check_exercise_2"]


def check_exercise_1(answer) -> bool:
    """Where does ``x[1, 3, 200]`` land in ``split_heads(x, 12)`` for x of shape (2, 5, 768)?"""
    if answer is None:
        print("Replace None with a tuple (b, h, t, k), then run the cell again.")
        return False
    try:
        b, h, t, k = (int(a) for a in answer)
    except (TypeError, ValueError):
        print(f"Expected a tuple of four integers (b, h, t, k), got {answer!r}.")
        return False
    if (b, t) != (1, 3):
        return feedback(False, "", "Splitting never moves a number to another sentence or token: "
                        "b and t stay what they were in x[1, 3, 200].")
    if not 0 <= k < 64:
        return feedback(False, "", "Each of the 12 heads has K = 768 // 12 = 64 features, so k is between 0 and 63.")
    return feedback(
        (h, k) == (3, 8),
        "Feature 200 sits in head 200 // 64 = 3, at offset 200 % 64 = 8.",
        "Head h holds features h*64 .. h*64 + 63 of each token. Which block contains feature 200, "
        "and how far into the block is it?",
    )


def check_exercise_2(answer) -> bool:
    """Number of parameters of ``MultiHeadAttention(d_model=512, n_heads=8)``."""
    if answer is not None:
        try:
            if float(answer) == 4 * 512 * 512:
                print("Not yet. You counted the four weight matrices; each Linear layer also has 512 biases.")
                return False
        except (TypeError, ValueError):
            pass
    return check_number(
        answer,
        4 * (512 * 512 + 512),
        "w_q, w_k, w_v and w_o are each 512 x 512 weights plus 512 biases; the 8 heads only group the columns.",
        "Count the four Linear(512, 512) layers (w_q, w_k, w_v, w_o): weights and biases. "
        "Does the number of heads change the size of any of them?",
        rel_tol=0.0,
        abs_tol=0.5,
    )
