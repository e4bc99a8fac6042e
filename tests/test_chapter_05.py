"""Chapter 5 (the matrix view): the hand-written formula equals the library, and the exercise checkers."""
import math

import torch

import transformer_lib as tl
from transformer_lib.exercises import ch05


def test_one_line_formula_equals_attention_steps():
    # The chapter's one-line formula, on the chapter's shapes (N = 6 tokens, d_model = 8).
    x = torch.randn(6, 8)
    attn = tl.MultiHeadAttention(8, n_heads=1, bias=False)
    with torch.no_grad():
        q, k, v = attn.w_q(x), attn.w_k(x), attn.w_v(x)
        mask = tl.causal_mask(6)
        by_hand = torch.softmax((q @ k.T / math.sqrt(8)).masked_fill(~mask, float("-inf")), dim=-1) @ v
        steps = tl.attention_steps(q, k, v, mask=mask)
        torch.testing.assert_close(by_hand, steps.output)
        torch.testing.assert_close(attn(x[None], mask=mask)[0], attn.w_o(steps.output))
    assert steps.scores.shape == (6, 6) and steps.output.shape == (6, 8)


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
    assert "N x N" in capsys.readouterr().out


def test_exercise_2(capsys):
    assert ch05.check_exercise_2(((10, 7), (10, 32)))
    assert ch05.check_exercise_2((torch.Size([10, 7]), [10, 32]))
    assert not ch05.check_exercise_2(None)
    assert not ch05.check_exercise_2(((7, 10), (10, 32)))
    assert "Rows of the weights are queries" in capsys.readouterr().out.split("\n", 2)[-1]
    assert not ch05.check_exercise_2(((10, 7), (10, 64)))
    assert "width of the values" in capsys.readouterr().out
    assert not ch05.check_exercise_2("abc")
