"""Chapter 4 (why divide by sqrt(d_k)): the library's scaling and the exercise checkers.

The chapter's measurements (variance d_k, vanishing softmax gradients) are asserted in the
notebook itself, which nbval runs."""
import math

import torch

import transformer_lib as tl
from transformer_lib.exercises import ch04


def test_library_scales_by_sqrt_d_k():
    q, k, v = torch.randn(3, 32), torch.randn(5, 32), torch.randn(5, 2)
    steps = tl.attention_steps(q, k, v)
    torch.testing.assert_close(steps.scores, q @ k.T)
    torch.testing.assert_close(steps.scaled, q @ k.T / math.sqrt(32))
    torch.testing.assert_close(steps.weights, torch.softmax(q @ k.T / math.sqrt(32), dim=-1))


def test_exercise_1_accepts_right_and_rejects_wrong(capsys):
    assert ch04.check_exercise_1(8)
    assert ch04.check_exercise_1(8.0)
    assert not ch04.check_exercise_1(None)
    assert not ch04.check_exercise_1(64)
    assert "square root" in capsys.readouterr().out
    assert not ch04.check_exercise_1(1)
    assert "after" in capsys.readouterr().out
    assert not ch04.check_exercise_1(5)
    assert not ch04.check_exercise_1("eight")


def test_exercise_2_accepts_right_and_rejects_wrong(capsys):
    assert ch04.check_exercise_2(16)
    assert not ch04.check_exercise_2(None)
    assert not ch04.check_exercise_2(4)
    assert "variance 1" in capsys.readouterr().out
    assert not ch04.check_exercise_2(256)
    assert "square root" in capsys.readouterr().out
    assert not ch04.check_exercise_2(8)
    assert not ch04.check_exercise_2(3)


def test_exercise_3_implement_softmax_jacobian(capsys):
    def right(s):
        p = torch.softmax(s, dim=-1)
        return torch.diag(p) - p[:, None] * p[None, :]

    assert ch04.check_exercise_3(right)
    assert not ch04.check_exercise_3(None)
    assert "Replace None" in capsys.readouterr().out
    assert not ch04.check_exercise_3(lambda s: torch.diag(torch.softmax(s, dim=-1)))
    assert "largest difference" in capsys.readouterr().out
