"""Chapter 3 (queries, keys and values): W_Q/W_K/W_V are learned nn.Linear layers, and the
exercise checkers. The chapter's hand-made walk-through is asserted equal to the library in the
notebook itself (run by nbval)."""
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


def test_exercise_3_implement_attention(capsys):
    def right(q, k, v):
        return torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), dim=-1) @ v

    assert ch03.check_exercise_3(right)
    assert not ch03.check_exercise_3(None)
    assert "Replace None" in capsys.readouterr().out
    assert not ch03.check_exercise_3(lambda q, k, v: torch.softmax(q @ k.transpose(-2, -1), -1) @ v)
    assert "largest difference" in capsys.readouterr().out
    assert not ch03.check_exercise_3(lambda q, k, v: q @ k.transpose(-2, -1))
    assert "shape" in capsys.readouterr().out
