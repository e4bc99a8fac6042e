"""Chapter 6 (attention vs feed-forward): position-wise FFN vs mixing attention, and the checkers.

The chapter's curve-fitting claims are asserted inside the notebook (run by nbval).
"""
import torch

import transformer_lib as tl
from transformer_lib.exercises import ch06


def test_ffn_is_position_wise_and_attention_mixes():
    x_a = torch.randn(1, 4, 16)
    x_b = x_a.clone()
    x_b[0, 3] = torch.randn(16)  # replace the last word only
    attention, ffn = tl.MultiHeadAttention(16, n_heads=2), tl.FeedForward(16, 64)
    with torch.no_grad():
        attn_change = (attention(x_a) - attention(x_b)).norm(dim=-1)[0]
        ffn_change = (ffn(x_a) - ffn(x_b)).norm(dim=-1)[0]
        one_at_a_time = torch.stack([ffn(x_a[0, i]) for i in range(4)])
    assert torch.all(attn_change > 0)
    assert torch.equal(ffn_change[:3], torch.zeros(3)) and ffn_change[3] > 0
    torch.testing.assert_close(one_at_a_time, ffn(x_a)[0])


def test_ffn_jacobian_is_block_diagonal():
    ffn = tl.FeedForward(8, 32)
    x = torch.randn(5, 8)
    jac = torch.autograd.functional.jacobian(lambda z: ffn(z[None])[0], x).norm(dim=(1, 3))
    off_diagonal = jac[~torch.eye(5, dtype=bool)]
    assert torch.all(off_diagonal == 0) and torch.all(jac.diagonal() > 0)


def test_ffn_formula_matches_library():
    ffn = tl.FeedForward(6, 12)
    z = torch.randn(3, 6)
    by_hand = torch.relu(z @ ffn.linear1.weight.T + ffn.linear1.bias) @ ffn.linear2.weight.T + ffn.linear2.bias
    torch.testing.assert_close(by_hand, ffn(z))


def test_exercise_1(capsys):
    assert ch06.check_exercise_1(sum(p.numel() for p in tl.FeedForward(768, 3072).parameters()))
    assert not ch06.check_exercise_1(None)
    assert not ch06.check_exercise_1(2 * 768 * 3072)
    assert "biases" in capsys.readouterr().out
    assert not ch06.check_exercise_1(768 * 3072 + 3072)
    assert "one linear layer" in capsys.readouterr().out
    assert not ch06.check_exercise_1(12345)


def test_exercise_2(capsys):
    assert ch06.check_exercise_2([2])
    assert not ch06.check_exercise_2(None)
    assert not ch06.check_exercise_2([0, 1, 2, 3, 4])
    assert "attention" in capsys.readouterr().out
    assert not ch06.check_exercise_2([1])
    assert not ch06.check_exercise_2("x")


def test_exercise_3(capsys):
    def right(z, w1, b1, w2, b2):
        return torch.relu(z @ w1 + b1) @ w2 + b2

    def no_relu(z, w1, b1, w2, b2):
        return (z @ w1 + b1) @ w2 + b2

    assert ch06.check_exercise_3(right)
    assert "Correct" in capsys.readouterr().out
    assert not ch06.check_exercise_3(None)
    assert "Replace None" in capsys.readouterr().out
    assert not ch06.check_exercise_3(no_relu)
    assert "torch.relu" in capsys.readouterr().out
    assert not ch06.check_exercise_3(lambda z, w1, b1, w2, b2: z @ w1)
    assert "shape" in capsys.readouterr().out
