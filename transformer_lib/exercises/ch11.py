"""Exercise checkers for chapter 11, "Positional encoding"."""
from __future__ import annotations

import math

from . import check_function, check_number, feedback, needs_answer

__all__ = ["check_exercise_1", "check_exercise_2", "check_exercise_3"]


def check_exercise_1(answer, pos: int = 5, d_model: int = 4) -> bool:
    """The sinusoidal vector of position ``pos`` for ``d_model`` (interleaved layout)."""
    import torch

    from ..positional import sinusoidal_encoding

    if needs_answer(answer):
        return False
    try:
        value = torch.as_tensor(answer, dtype=torch.float64).flatten()
    except (TypeError, ValueError, RuntimeError):
        print(f"Expected {d_model} numbers (a list or a tensor), got {answer!r}.")
        return False
    expected = sinusoidal_encoding(pos + 1, d_model)[pos].double()
    if value.shape != expected.shape:
        print(f"Not yet. Expected {d_model} numbers, one per dimension, got {value.numel()}.")
        return False
    if torch.allclose(value, expected, atol=1e-4):
        return feedback(True, "Pair 0 turns by one radian per position, pair 1 a hundred times slower.", "")
    concatenated = sinusoidal_encoding(pos + 1, d_model, layout="concatenated")[pos].double()
    if torch.allclose(value, concatenated, atol=1e-4):
        return feedback(False, "", "That is the concatenated layout (all sines, then all cosines). The formula "
                        "puts the sine of each pair at 2i and its cosine right after, at 2i + 1.")
    swapped = expected.view(-1, 2).flip(-1).flatten()
    if torch.allclose(value, swapped, atol=1e-4):
        return feedback(False, "", "Sine and cosine are swapped: even dimensions (2i) hold the sine.")
    return feedback(False, "", "Compute the angle pos / 10000^(2i/d_model) for i = 0 and i = 1 (in radians), "
                    "then write sin and cos of each angle.")


def check_exercise_2(answer, two_i: int = 256, d_model: int = 512) -> bool:
    """Wavelength, in positions, of dimensions (two_i, two_i + 1) of the sinusoidal table."""
    expected = 2 * math.pi * 10000 ** (two_i / d_model)
    if answer is not None:
        try:
            value = float(answer)
        except (TypeError, ValueError):
            value = None
        if value is not None and math.isclose(value, expected / (2 * math.pi), rel_tol=1e-3):
            return feedback(False, "", "That is 10000^(2i/d_model), the number of positions per radian. "
                            "A full period of sin is 2 pi radians.")
        if value is not None and math.isclose(value, 2 * math.pi * 10000 ** (two_i / 2 / d_model), rel_tol=1e-3):
            return feedback(False, "", "The exponent uses 2i (the dimension number), not i: here 2i = "
                            f"{two_i}.")
    return check_number(answer, expected, "sin(pos * w) repeats when pos * w grows by 2 pi, so the wavelength is "
                        "2 pi / w = 2 pi * 10000^(2i/d_model).",
                        "The angle is pos / 10000^(2i/d_model). How many positions does it take to grow by "
                        "a full turn of 2 pi?")


def _table_size(generator):
    """A random (max_len, d_model): 1 to 60 positions, an even width 2 to 64."""
    import torch

    max_len = int(torch.randint(1, 61, (1,), generator=generator))
    d_model = 2 * int(torch.randint(1, 33, (1,), generator=generator))
    return max_len, d_model


def check_exercise_3(sinusoidal) -> bool:
    """The reader's ``sinusoidal(max_len, d_model) -> (max_len, d_model)`` against the library's."""
    from ..positional import sinusoidal_encoding

    return check_function(
        sinusoidal, sinusoidal_encoding, _table_size,
        success="Your table is the paper's formula, the same as tl.sinusoidal_encoding.",
        hint="Row pos, columns 2i and 2i + 1 hold sin and cos of pos / 10000^(2i/d_model); "
             "build the angles as a (max_len, d_model/2) table (positions times frequencies) "
             "and fill the even columns with sin, the odd ones with cos.",
    )
