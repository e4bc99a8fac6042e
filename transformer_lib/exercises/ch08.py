"""Exercise checkers for chapter 8, multi-head attention."""
from __future__ import annotations

import torch

from . import check_function, check_number, feedback, needs_answer

__all__ = ["check_exercise_1", "check_exercise_2", "check_exercise_3"]


def check_exercise_1(answer) -> bool:
    """Where does ``x[1, 3, 200]`` land in ``split_heads(x, 12)`` for x of shape (2, 5, 768)?"""
    if needs_answer(answer):
        return False
    try:
        b, h, t, i = (int(a) for a in answer)
    except (TypeError, ValueError):
        print(f"Expected a tuple of four integers (b, h, t, i), got {answer!r}.")
        return False
    if (b, t) != (1, 3):
        return feedback(False, "", "Splitting never moves a number to another sentence or token: "
                        "b and t stay what they were in x[1, 3, 200].")
    if not 0 <= i < 64:
        return feedback(False, "", "Each of the 12 heads has d_k = 768 // 12 = 64 features, "
                                   "so i is between 0 and 63.")
    return feedback(
        (h, i) == (3, 8),
        "Feature 200 sits in head 200 // 64 = 3, at offset 200 % 64 = 8.",
        "Head h holds features h*64 .. h*64 + 63 of each token. Which block contains feature 200, "
        "and how far into the block is it?",
    )


def check_exercise_2(answer) -> bool:
    """Number of parameters of ``MultiHeadAttention(d_model=512, n_heads=8)``."""
    if answer is not None:
        try:
            if float(answer) == 4 * 512 * 512:
                print("Not yet. You counted the four weight matrices; each Linear layer also has "
                      "512 biases.")
                return False
        except (TypeError, ValueError):
            pass
    return check_number(
        answer,
        4 * (512 * 512 + 512),
        "w_q, w_k, w_v and w_o are each 512 x 512 weights plus 512 biases; the 8 heads only group "
        "the columns.",
        "Count the four Linear(512, 512) layers (w_q, w_k, w_v, w_o): weights and biases. "
        "Does the number of heads change the size of any of them?",
        rel_tol=0.0,
        abs_tol=0.5,
    )


def _split_inputs(generator: torch.Generator):
    """A random x (B, T, D) and a head count H that divides D."""
    b, t, heads, d_k = (int(n) for n in torch.randint(1, 6, (4,), generator=generator))
    return torch.randn(b, t, heads * d_k, generator=generator), heads


def _library_split(x, n_heads):
    from transformer_lib import split_heads

    return split_heads(x, n_heads)


def check_exercise_3(fn) -> bool:
    """"Implement it": split_heads(x, n_heads), (B, T, D) -> (B, H, T, d_k), against the library."""
    return check_function(
        fn, _library_split, _split_inputs,
        success="A view to (B, T, H, d_k), then the head axis moved in front of the tokens.",
        hint="First view x as (B, T, H, D // H) (each token's features cut into H blocks), then "
             "swap the T and H axes with transpose(1, 2). Reshaping straight to (B, H, T, d_k) "
             "mixes the tokens up.",
        atol=0.0,
    )
