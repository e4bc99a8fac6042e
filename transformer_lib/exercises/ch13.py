"""Checkers for the exercises of chapter 13, "Training a Transformer on a CPU"."""
from __future__ import annotations

import math

from . import check_function, check_number, feedback, needs_answer

__all__ = ["check_exercise_1", "check_exercise_2", "check_exercise_3"]


def check_exercise_1(answer, vocab_size: int = 11) -> bool:
    """Cross-entropy of a uniform guess over ``vocab_size`` ids: ln V."""
    if answer is not None:
        try:
            value = float(answer)
        except (TypeError, ValueError):
            value = None
        if value is not None and math.isclose(value, math.log(vocab_size - 1), rel_tol=1e-3):
            print(f"Not yet. That is ln {vocab_size - 1}: the model's output layer has {vocab_size} ids "
                  "(the ten digits and BOS), and a uniform guess spreads over all of them.")
            return False
        if value is not None and math.isclose(value, 1 / vocab_size, rel_tol=1e-3):
            print("Not yet. That is the probability of the correct id; the loss is minus its logarithm.")
            return False
    return check_number(
        answer, math.log(vocab_size),
        success=f"-ln(1/{vocab_size}) = ln {vocab_size}: the loss of a model that knows nothing yet.",
        hint="Cross-entropy is -ln p(correct id). With every id equally likely, what is p?",
    )


def check_exercise_2(answer, length: int = 8) -> bool:
    """The source position read by each output position when reversing: [L-1, ..., 0]."""
    if needs_answer(answer):
        return False
    try:
        values = [int(v) for v in (answer.tolist() if hasattr(answer, "tolist") else answer)]
    except (TypeError, ValueError):
        print(f"Expected a list of {length} integers, got {answer!r}.")
        return False
    if len(values) != length:
        print(f"Not yet. Give one source position per output position: {length} numbers, got {len(values)}.")
        return False
    expected = list(range(length - 1, -1, -1))
    if values == list(range(length)):
        print("Not yet. That is the diagonal: output t reading source t copies the sequence. "
              "Which source digit comes first in the reversed output?")
        return False
    if values == list(range(length, 0, -1)):
        print("Not yet. Positions count from 0, so the last source position is "
              f"{length - 1}, not {length}.")
        return False
    return feedback(
        values == expected,
        "Output t reads source L-1-t: the anti-diagonal of the cross-attention map.",
        "Output position 0 must write the last source digit. Which position is that, and which does output 1 need?",
    )


def _target_batch(generator):
    """Random targets (N, L) over ten digits and a BOS id outside them."""
    import torch

    n = int(torch.randint(1, 6, (1,), generator=generator))
    length = int(torch.randint(1, 10, (1,), generator=generator))
    tokens = torch.randint(0, 10, (n, length), generator=generator)
    bos_id = int(torch.randint(10, 20, (1,), generator=generator))
    return tokens, bos_id


def check_exercise_3(shift_right) -> bool:
    """The reader's ``shift_right(tokens, bos_id)`` against :func:`transformer_lib.tasks.shift_right`."""
    from ..tasks import shift_right as reference

    return check_function(
        shift_right, reference, _target_batch,
        success="BOS first, then every target token but the last: the decoder input of "
                "teacher forcing.",
        hint="Position 0 holds bos_id and position t holds tokens[:, t - 1]: put a column of "
             "bos_id in front of tokens[:, :-1] (torch.cat along dim=1).",
    )
