"""Checkers for the exercises of chapter 12, "The decoder and the output"."""
from __future__ import annotations

import math

from . import check_function, check_number, feedback, needs_answer

__all__ = ["check_exercise_1", "check_exercise_2", "check_exercise_3"]


def check_exercise_1(answer) -> bool:
    """Cross-entropy of a token given probability 0.25: -ln 0.25 = ln 4."""
    if answer is not None:
        try:
            value = float(answer)
        except (TypeError, ValueError):
            value = None
        if value is not None and math.isclose(value, math.log(0.25), rel_tol=1e-3):
            print("Not yet. Close: a loss is never negative. Cross-entropy is MINUS the log of the probability.")
            return False
        if value is not None and math.isclose(value, -math.log10(0.25), rel_tol=1e-3):
            print("Not yet. That uses log base 10; cross-entropy uses the natural log (math.log).")
            return False
    return check_number(
        answer, -math.log(0.25),
        success="-ln 0.25 = ln 4: the same loss as a blind guess among 4 words.",
        hint="The loss of one token is -ln p(correct token). Try math.log.",
    )


def check_exercise_2(answer) -> bool:
    """Shape of cross-attention weights for B=3, H=2, T=6, S=5: (3, 2, 6, 5)."""
    if needs_answer(answer):
        return False
    try:
        shape = tuple(int(v) for v in answer)
    except (TypeError, ValueError):
        print(f"Expected a tuple of 4 integers, got {answer!r}.")
        return False
    if len(shape) != 4:
        print(f"Not yet. Attention weights have 4 dimensions (B, H, T, S); you gave {len(shape)}.")
        return False
    if shape == (3, 2, 5, 6):
        print("Not yet. Rows are queries and columns are keys: which side asks (queries) in cross-attention?")
        return False
    return feedback(
        shape == (3, 2, 6, 5),
        "(B, H, T, S): one row per target token, one column per source token, for every head.",
        "Order the dimensions as (batch, heads, queries, keys), and remember where the queries come from.",
    )


def _logits_and_targets(generator):
    """Random logits (B, T, V), some of them large, and correct ids (B, T)."""
    import torch

    B, T, V = (int(torch.randint(1, 5, (1,), generator=generator)),
               int(torch.randint(2, 7, (1,), generator=generator)),
               int(torch.randint(2, 20, (1,), generator=generator)))
    logits = 4 * torch.randn(B, T, V, generator=generator)
    targets = torch.randint(0, V, (B, T), generator=generator)
    return logits, targets


def check_exercise_3(per_token_loss) -> bool:
    """The reader's ``per_token_loss(logits, targets) -> (B, T)`` against the library's."""
    from ..losses import per_token_loss as library

    return check_function(
        per_token_loss, lambda logits, targets: library(logits, targets, shift=False),
        _logits_and_targets,
        success="Every token's loss is -ln p(correct token), as tl.per_token_loss computes.",
        hint="Turn each row of logits into log-probabilities (torch.log_softmax over the last "
             "axis), pick the entry of the correct id with gather, and negate it.",
    )
