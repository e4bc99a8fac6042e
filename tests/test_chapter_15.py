"""Chapter 15 (from GPT-2 to a modern small LLM): library properties the chapter relies on, and the
checkers of its exercises. Runs without SmolLM2's weights (random small modules); the chapter
itself checks its hand-built pieces against the real model.
"""
import torch
import torch.nn.functional as F

import transformer_lib as tl
from transformer_lib.exercises import ch15
from transformer_lib.positional import half_to_interleaved, interleaved_to_half


def test_rope_scores_depend_only_on_the_offset():
    torch.manual_seed(0)
    rotary = tl.RotaryEmbedding(16, max_len=32, base=100000.0)
    q, k = torch.randn(16, dtype=torch.float64), torch.randn(16, dtype=torch.float64)
    scores = rotary.rotate(q.expand(20, 16)) @ rotary.rotate(k.expand(20, 16)).T  # (20, 20)
    for offset in range(-19, 20):
        diagonal = torch.diagonal(scores, offset=-offset)
        assert torch.allclose(diagonal, diagonal[0].expand_as(diagonal), atol=1e-12)


def test_layouts_are_a_row_permutation_of_w_q():
    torch.manual_seed(0)
    w = torch.randn(3 * 8, 5)
    assert torch.equal(half_to_interleaved(interleaved_to_half(w, 3), 3), w)
    x = torch.randn(4, 5)
    inter = tl.RotaryEmbedding(8, max_len=8, layout="interleaved")
    half = tl.RotaryEmbedding(8, max_len=8, layout="half")
    a = inter.rotate(tl.split_heads((x @ w.T)[None], 3))
    b = half.rotate(tl.split_heads((x @ interleaved_to_half(w, 3).T)[None], 3))
    assert torch.allclose(a @ a.transpose(-2, -1), b @ b.transpose(-2, -1), atol=1e-5)


def test_swiglu_with_eight_thirds_width_has_the_gelu_mlp_parameter_count():
    ffn = tl.SwiGLUFeedForward(576, 1536)
    assert sum(p.numel() for p in ffn.parameters()) == 2 * 576 * 4 * 576


def test_rms_norm_matches_torch():
    torch.manual_seed(0)
    norm = tl.RMSNorm(6)
    with torch.no_grad():
        norm.weight.copy_(torch.randn(6))
    x = torch.randn(2, 3, 6)
    assert torch.allclose(norm(x), F.rms_norm(x, (6,), norm.weight, eps=1e-5), atol=1e-6)


def test_checker_1_accepts_rms_norm_and_refuses_layer_norm(capsys):
    def rms(x, weight):
        return x / torch.sqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight

    def layer(x, weight):
        return F.layer_norm(x, x.shape[-1:], weight, eps=1e-5)

    assert ch15.check_exercise_1(rms)
    assert not ch15.check_exercise_1(layer)
    assert not ch15.check_exercise_1(None)
    assert "Replace None" in capsys.readouterr().out


def test_checker_2_wants_the_grouped_order(capsys):
    assert ch15.check_exercise_2(lambda x, group: x.repeat_interleave(group, dim=1))
    assert ch15.check_exercise_2(
        lambda x, group: x[:, torch.arange(x.shape[1] * group) // group])
    assert not ch15.check_exercise_2(lambda x, group: x.repeat(1, group, 1, 1))
    assert "order" in capsys.readouterr().out


def test_checker_3_and_its_traps(capsys):
    assert ch15.cache_bytes_per_token(30, 3, 64, 4) == 46080
    assert ch15.check_exercise_3(30 * 2 * 64 * 2)
    assert not ch15.check_exercise_3(30 * 64 * 2)          # keys only
    assert "value" in capsys.readouterr().out
    assert not ch15.check_exercise_3(30 * 2 * 64 * 4)      # float32
    assert "bfloat16" in capsys.readouterr().out
    assert not ch15.check_exercise_3(None)
