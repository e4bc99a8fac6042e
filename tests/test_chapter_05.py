"""Chapter 5 (the matrix view): library properties the chapter relies on, and the exercise checkers.

The chapter's hand-built formulas are checked against the library inside the notebook (run by nbval).
"""
import math

import torch

import transformer_lib as tl
from transformer_lib.exercises import ch05


def test_identical_tokens_give_identical_unmasked_rows():
    x = torch.randn(6, 8)
    x[4] = x[0]  # "the ... the"
    steps = tl.attention_steps(x, x, x)
    torch.testing.assert_close(steps.weights[4], steps.weights[0])
    masked = tl.attention_steps(x, x, x, mask=tl.causal_mask(6))
    assert not torch.allclose(masked.weights[4], masked.weights[0])


def test_score_matrix_memory_is_quadratic():
    sizes = []
    for n in (64, 128, 256):
        q = torch.randn(n, 16)
        sizes.append(tl.attention_steps(q, q, q).scores.untyped_storage().nbytes())
    assert sizes == [4 * n * n for n in (64, 128, 256)]


def test_exercise_1(capsys):
    assert ch05.check_exercise_1(12 * 12 * 512 * 512)
    assert "Correct" in capsys.readouterr().out
    assert not ch05.check_exercise_1(None)
    assert "Replace None" in capsys.readouterr().out
    assert not ch05.check_exercise_1(512 * 512)
    assert "every head" in capsys.readouterr().out
    assert not ch05.check_exercise_1(12 * 12 * 512)
    assert "T x T" in capsys.readouterr().out


def test_exercise_2(capsys):
    assert ch05.check_exercise_2(((10, 7), (10, 32)))
    assert ch05.check_exercise_2((torch.Size([10, 7]), [10, 32]))
    assert not ch05.check_exercise_2(None)
    assert "Replace None" in capsys.readouterr().out
    assert not ch05.check_exercise_2(((7, 10), (10, 32)))
    assert "Rows of the weights are queries" in capsys.readouterr().out
    assert not ch05.check_exercise_2(((10, 7), (10, 64)))
    assert "width of the values" in capsys.readouterr().out
    assert not ch05.check_exercise_2("abc")


def test_exercise_3(capsys):
    def right(q, k, v, mask):
        scores = (q @ k.T / math.sqrt(q.shape[-1])).masked_fill(~mask, float("-inf"))
        return torch.softmax(scores, dim=-1) @ v

    def unscaled(q, k, v, mask):
        return torch.softmax((q @ k.T).masked_fill(~mask, float("-inf")), dim=-1) @ v

    def no_mask(q, k, v, mask):
        return torch.softmax(q @ k.T / math.sqrt(q.shape[-1]), dim=-1) @ v

    assert ch05.check_exercise_3(right)
    assert "Correct" in capsys.readouterr().out
    assert not ch05.check_exercise_3(None)
    assert "Replace None" in capsys.readouterr().out
    assert not ch05.check_exercise_3(unscaled)
    assert "sqrt(d_k)" in capsys.readouterr().out
    assert not ch05.check_exercise_3(no_mask)
    assert not ch05.check_exercise_3(lambda q, k, v, mask: q)
    assert "shape" in capsys.readouterr().out
