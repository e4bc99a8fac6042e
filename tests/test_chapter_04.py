"""Chapter 4 (why divide by sqrt(d_k)): the measured facts the chapter relies on, the library's
scaling, the softmax gradient measurement, and the exercise checkers."""
import math

import torch

import transformer_lib as tl
from transformer_lib.exercises import ch04


def test_variance_of_dot_product_grows_like_d_k():
    gen = torch.Generator().manual_seed(0)
    for d_k in (4, 64, 512):
        q = torch.randn(4000, d_k, generator=gen)
        k = torch.randn(4000, d_k, generator=gen)
        dots = (q * k).sum(-1)
        assert abs(dots.var().item() / d_k - 1) < 0.15
        assert abs((dots / math.sqrt(d_k)).var().item() - 1) < 0.15


def test_library_scales_by_sqrt_d_k():
    q, k, v = torch.randn(3, 32), torch.randn(5, 32), torch.randn(5, 2)
    steps = tl.attention_steps(q, k, v)
    torch.testing.assert_close(steps.scores, q @ k.T)
    torch.testing.assert_close(steps.scaled, q @ k.T / math.sqrt(32))
    torch.testing.assert_close(steps.weights, torch.softmax(q @ k.T / math.sqrt(32), dim=-1))


def test_autograd_softmax_jacobian_matches_formula_and_vanishes_when_saturated():
    jac = torch.func.vmap(torch.func.jacrev(lambda s: torch.softmax(s, dim=-1)))
    s = torch.randn(10, 8, dtype=torch.float64)
    p = torch.softmax(s, dim=-1)
    formula = torch.diag_embed(p) - p[:, :, None] * p[:, None, :]
    torch.testing.assert_close(jac(s), formula)
    gen = torch.Generator().manual_seed(0)
    q = torch.randn(200, 1, 1024, generator=gen)
    k = torch.randn(200, 8, 1024, generator=gen)
    steps = tl.attention_steps(q, k, torch.zeros(200, 8, 1))
    unscaled = jac(steps.scores[:, 0]).flatten(1).norm(dim=-1).mean()
    scaled = jac(steps.scaled[:, 0]).flatten(1).norm(dim=-1).mean()
    assert unscaled < scaled / 3
    assert torch.softmax(steps.scores[:, 0], -1).max(-1).values.mean() > 0.8


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
