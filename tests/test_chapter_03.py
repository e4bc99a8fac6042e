"""Chapter 3 (queries, keys and values): the hand-made two-token walk-through equals the library,
W_Q/W_K/W_V are learned nn.Linear layers, and the exercise checkers."""
import math

import torch
import torch.nn as nn

import transformer_lib as tl
from transformer_lib.exercises import ch03


def test_projections_are_learned_linear_layers():
    attn = tl.MultiHeadAttention(d_model=4, n_heads=1, bias=False)
    for layer in (attn.w_q, attn.w_k, attn.w_v):
        assert isinstance(layer, nn.Linear)
        assert layer.weight.shape == (4, 4) and layer.weight.requires_grad


def test_two_token_walk_through_equals_library():
    # The same seeds and steps as the chapter.
    torch.manual_seed(0)
    attn = tl.MultiHeadAttention(d_model=4, n_heads=1, bias=False)
    torch.manual_seed(11)
    x = torch.randn(2, 4)
    x1, x2 = x
    with torch.no_grad():
        q1 = attn.w_q(x1)
        k1, k2 = attn.w_k(x1), attn.w_k(x2)
        v1, v2 = attn.w_v(x1), attn.w_v(x2)
        scaled = torch.stack([q1 @ k1, q1 @ k2]) / math.sqrt(4)
        e = scaled.exp()
        a11, a12 = e / e.sum()
        z1 = a11 * v1 + a12 * v2
        out, weights = tl.scaled_dot_product_attention(attn.w_q(x), attn.w_k(x), attn.w_v(x))
        torch.testing.assert_close(out[0], z1)
        torch.testing.assert_close(weights[0], torch.stack([a11, a12]))
        torch.testing.assert_close(attn(x[None])[0], attn.w_o(out))


def test_raw_scores_symmetric_projected_not():
    torch.manual_seed(0)
    x = torch.randn(4, 8)
    attn = tl.MultiHeadAttention(8, 1)
    raw = tl.attention_steps(x, x, x)
    torch.testing.assert_close(raw.scores, raw.scores.T)
    with torch.no_grad():
        proj = tl.attention_steps(attn.w_q(x), attn.w_k(x), attn.w_v(x))
    assert (proj.scores - proj.scores.T).abs().max() > 1e-3


def test_exercise_1_accepts_right_and_rejects_wrong(capsys):
    e = {n: torch.tensor(v) for n, v in ch03.EXERCISE_1.items()}
    k = torch.stack([e["k1"], e["k2"]])
    v = torch.stack([e["v1"], e["v2"]])
    out, w = tl.scaled_dot_product_attention(e["q"][None], k, v)
    assert ch03.check_exercise_1(out[0])
    assert not ch03.check_exercise_1(None)
    unscaled = torch.softmax(k @ e["q"], 0) @ v
    assert not ch03.check_exercise_1(unscaled)
    assert "sqrt" in capsys.readouterr().out.split("Replace None")[-1]
    assert not ch03.check_exercise_1(w[0])
    assert "weighted sum" in capsys.readouterr().out
    assert not ch03.check_exercise_1([1.0, 2.0, 3.0])
    assert not ch03.check_exercise_1([5.0, 5.0])


def test_exercise_2_accepts_right_and_rejects_wrong(capsys):
    mha = tl.MultiHeadAttention(512, 8)
    right = sum(p.numel() for layer in (mha.w_q, mha.w_k, mha.w_v) for p in layer.parameters())
    assert ch03.check_exercise_2(right)
    assert not ch03.check_exercise_2(None)
    assert not ch03.check_exercise_2(3 * 512 * 512)
    assert "bias" in capsys.readouterr().out
    assert not ch03.check_exercise_2(sum(p.numel() for p in mha.parameters()))
    assert "w_o" in capsys.readouterr().out
    assert not ch03.check_exercise_2(12345)
