"""Chapter 11 (positional encoding): the properties the notebook shows, checked on the library."""
import math

import pytest
import torch

import transformer_lib as tl
from transformer_lib.exercises import ch11


@pytest.mark.parametrize("make", [
    lambda: tl.MultiHeadAttention(16, 2),
    lambda: tl.EncoderLayer(16, 2, 32),
    lambda: tl.EncoderLayer(16, 2, 32, norm_first=True),
])
def test_attention_without_positions_is_permutation_equivariant(make):
    module = make().eval()
    x = torch.randn(2, 5, 16)
    perm = torch.randperm(5)
    with torch.no_grad():
        torch.testing.assert_close(module(x[:, perm]), module(x)[:, perm], atol=1e-5, rtol=1e-5)


def test_positions_break_the_equivariance():
    attn = tl.MultiHeadAttention(16, 2)
    x = torch.randn(1, 4, 16)
    perm = [3, 2, 0, 1]
    pe = tl.sinusoidal_encoding(4, 16)
    with torch.no_grad():
        moved = (attn(x[:, perm] + pe) - attn(x + pe)[:, perm]).norm(dim=-1)
        assert (moved > 1e-3).all()
        rope_attn = tl.MultiHeadAttention(16, 2, rotary=tl.RotaryEmbedding(8))
        assert ((rope_attn(x[:, perm]) - rope_attn(x)[:, perm]).norm(dim=-1) > 1e-3).all()


def test_sinusoidal_formula_by_hand():
    table = tl.sinusoidal_encoding(7, 6)
    for pos in range(7):
        for i in range(3):
            angle = pos / 10000 ** (2 * i / 6)
            assert table[pos, 2 * i].item() == pytest.approx(math.sin(angle), abs=1e-6)
            assert table[pos, 2 * i + 1].item() == pytest.approx(math.cos(angle), abs=1e-6)


def test_sinusoidal_dot_product_depends_only_on_distance():
    table = tl.sinusoidal_encoding(100, 128).double()
    dots = table @ table.T
    for k in range(100):
        diagonal = dots.diagonal(k)
        assert (diagonal - diagonal[0]).abs().max().item() < 1e-6
    assert dots[0, 0].item() == pytest.approx(64.0)
    assert dots[0, 1] < dots[0, 0]


def test_layouts_are_a_column_permutation():
    inter = tl.sinusoidal_encoding(50, 64, layout="interleaved")
    concat = tl.sinusoidal_encoding(50, 64, layout="concatenated")
    order = torch.cat([torch.arange(0, 64, 2), torch.arange(1, 64, 2)])
    assert torch.equal(concat, inter[:, order])


def test_rope_scores_depend_only_on_relative_position():
    rope = tl.RotaryEmbedding(8, max_len=32)
    q, k = torch.randn(8), torch.randn(8)
    scores = rope.rotate(q.expand(32, 8)) @ rope.rotate(k.expand(32, 8)).T
    for d in range(-31, 32):
        diagonal = scores.diagonal(d)
        assert (diagonal - diagonal[0]).abs().max().item() < 1e-5
    # the same with offsets, the way a KV cache uses it
    q7 = rope.rotate(q[None], offset=7)[0]
    k3 = rope.rotate(k[None], offset=3)[0]
    assert (q7 @ k3).item() == pytest.approx(scores[4, 0].item(), abs=1e-5)


def test_exercise_1_checker(capsys):
    assert ch11.check_exercise_1(None) is False
    right = torch.tensor([math.sin(5), math.cos(5), math.sin(5 / 100), math.cos(5 / 100)])
    assert ch11.check_exercise_1(right) is True
    assert ch11.check_exercise_1(right.tolist()) is True
    capsys.readouterr()
    assert ch11.check_exercise_1(tl.sinusoidal_encoding(6, 4, layout="concatenated")[5]) is False
    assert "concatenated" in capsys.readouterr().out
    assert ch11.check_exercise_1(right.view(2, 2).flip(-1).flatten()) is False
    assert "swapped" in capsys.readouterr().out
    assert ch11.check_exercise_1([1.0, 2.0]) is False
    assert ch11.check_exercise_1("abc") is False


def test_exercise_2_checker(capsys):
    assert ch11.check_exercise_2(None) is False
    assert ch11.check_exercise_2(2 * math.pi * 100) is True
    assert ch11.check_exercise_2(100) is False
    assert "2 pi" in capsys.readouterr().out
    assert ch11.check_exercise_2(2 * math.pi * 10) is False
    assert ch11.check_exercise_2("far") is False


def test_rope_layouts_are_a_feature_permutation():
    d_k, n = 8, 16
    interleaved = tl.RotaryEmbedding(d_k, max_len=n)
    half = tl.RotaryEmbedding(d_k, max_len=n, layout="half")
    evens_first = torch.cat([torch.arange(0, d_k, 2), torch.arange(1, d_k, 2)])
    x = torch.randn(2, n, d_k)
    torch.testing.assert_close(half.rotate(x[..., evens_first]),
                               interleaved.rotate(x)[..., evens_first])


def test_exercise_3_checker(capsys):
    assert ch11.check_exercise_3(tl.sinusoidal_encoding)
    assert "Correct" in capsys.readouterr().out
    assert not ch11.check_exercise_3(None)
    assert "Replace None" in capsys.readouterr().out
    assert not ch11.check_exercise_3(
        lambda max_len, d_model: tl.sinusoidal_encoding(max_len, d_model, layout="concatenated"))
    assert "even columns" in capsys.readouterr().out
    assert not ch11.check_exercise_3(lambda max_len, d_model: torch.zeros(max_len, d_model + 1))
    assert "shape" in capsys.readouterr().out
