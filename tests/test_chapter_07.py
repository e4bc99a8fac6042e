"""Chapter 7 (residuals and Add & Norm): the exercise checkers.

The chapter's hand-written formulas (LayerNorm, post-norm and pre-norm layers) are checked against the
library inside the notebook (run by nbval), together with its measured claims; the library's layers
have their own tests in test_layers.py.
"""
import torch

from transformer_lib.exercises import ch07


def test_exercise_1(capsys):
    assert ch07.check_exercise_1([-1.3416, -0.4472, 0.4472, 1.3416])
    assert not ch07.check_exercise_1(None)
    assert "Replace None" in capsys.readouterr().out
    assert not ch07.check_exercise_1([-3, -1, 1, 3])
    assert "divide by the standard deviation" in capsys.readouterr().out
    x = torch.tensor([2.0, 4.0, 6.0, 8.0])
    assert not ch07.check_exercise_1((x - 5) / x.std(unbiased=True))
    assert "d = 4" in capsys.readouterr().out
    assert not ch07.check_exercise_1([1, 2])


def test_exercise_2(capsys):
    assert ch07.check_exercise_2([1, 2, 3, 4])
    assert not ch07.check_exercise_2(None)
    assert not ch07.check_exercise_2([-1.3416, -0.4472, 0.4472, 1.3416])
    assert "post-norm" in capsys.readouterr().out
    assert not ch07.check_exercise_2([0, 0, 0, 0])


def test_exercise_3(capsys):
    def right(x, sublayer_out, gamma, beta):
        h = x + sublayer_out
        mu, var = h.mean(-1, keepdim=True), h.var(-1, unbiased=False, keepdim=True)
        return gamma * (h - mu) / torch.sqrt(var + 1e-5) + beta

    def unbiased(x, sublayer_out, gamma, beta):
        h = x + sublayer_out
        return gamma * (h - h.mean(-1, keepdim=True)) / h.std(-1, keepdim=True) + beta

    def norm_only(x, sublayer_out, gamma, beta):
        return right(x, torch.zeros_like(x), gamma, beta)

    assert ch07.check_exercise_3(right)
    assert "Correct" in capsys.readouterr().out
    assert not ch07.check_exercise_3(None)
    assert "Replace None" in capsys.readouterr().out
    assert not ch07.check_exercise_3(unbiased)
    assert not ch07.check_exercise_3(norm_only)
    assert "Add first" in capsys.readouterr().out
