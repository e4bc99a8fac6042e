"""Chapter 8 (multi-head attention): library properties the chapter relies on, and the checkers.

The chapter's hand-built multi-head attention is checked against the library inside the notebook.
"""
import pytest
import torch

import transformer_lib as tl
from transformer_lib.exercises import ch08


def test_split_is_a_view_of_consecutive_column_blocks():
    torch.manual_seed(0)
    x = torch.randn(1, 4, 200)
    heads = tl.split_heads(x, 2)
    assert heads.shape == (1, 2, 4, 100)
    assert torch.equal(heads[0, 0], x[0, :, :100]) and torch.equal(heads[0, 1], x[0, :, 100:])
    assert heads.untyped_storage().data_ptr() == x.untyped_storage().data_ptr()
    assert torch.equal(tl.merge_heads(heads), x)


def test_gpt2_small_shapes():
    assert tl.split_heads(torch.zeros(2, 10, 768), 12).shape == (2, 12, 10, 64)


@pytest.mark.parametrize("n_heads", [1, 2, 3, 4, 6, 12])
def test_parameter_count_does_not_depend_on_heads(n_heads):
    m = tl.MultiHeadAttention(768, n_heads)
    assert sum(p.numel() for p in m.parameters()) == 4 * (768 * 768 + 768)


def test_non_divisor_heads_are_refused_with_the_allowed_values():
    with pytest.raises(ValueError, match=r"\[1, 2, 4, 5, 8, 10, 20, 25, 40, 50, 100, 200\]"):
        tl.MultiHeadAttention(200, 3)


@pytest.mark.parametrize("n_heads", [1, 4, 64])
def test_loop_over_heads_equals_all_heads_at_once(n_heads):
    torch.manual_seed(0)
    q, k, v = (tl.split_heads(torch.randn(2, 8, 128), n_heads) for _ in range(3))
    loop = torch.stack([tl.scaled_dot_product_attention(q[:, h], k[:, h], v[:, h])[0]
                        for h in range(n_heads)], dim=1)
    once, _ = tl.scaled_dot_product_attention(q, k, v)
    torch.testing.assert_close(loop, once)


def test_exercise_1(capsys):
    assert ch08.check_exercise_1((1, 3, 3, 8))
    assert not ch08.check_exercise_1(None)
    assert not ch08.check_exercise_1((1, 3, 8, 3))
    assert not ch08.check_exercise_1((0, 3, 3, 8))
    assert not ch08.check_exercise_1("abc")
    out = capsys.readouterr().out
    assert "Correct!" in out and "Not yet." in out and "Replace None" in out
    x = torch.arange(2 * 5 * 768).reshape(2, 5, 768)
    assert tl.split_heads(x, 12)[1, 3, 3, 8] == x[1, 3, 200]


def test_exercise_2(capsys):
    assert ch08.check_exercise_2(sum(p.numel() for p in tl.MultiHeadAttention(512, 8).parameters()))
    assert not ch08.check_exercise_2(None)
    assert not ch08.check_exercise_2(4 * 512 * 512)
    assert "biases" in capsys.readouterr().out
    assert not ch08.check_exercise_2(12345)


def test_exercise_3(capsys):
    def right(x, n_heads):
        B, T, D = x.shape
        return x.view(B, T, n_heads, D // n_heads).transpose(1, 2)

    def reshaped(x, n_heads):
        B, T, D = x.shape
        return x.reshape(B, n_heads, T, D // n_heads)

    assert ch08.check_exercise_3(right)
    assert "Correct" in capsys.readouterr().out
    assert not ch08.check_exercise_3(None)
    assert "Replace None" in capsys.readouterr().out
    assert not ch08.check_exercise_3(reshaped)
    assert "transpose" in capsys.readouterr().out
    assert not ch08.check_exercise_3(lambda x, n_heads: x)
    assert "shape" in capsys.readouterr().out
