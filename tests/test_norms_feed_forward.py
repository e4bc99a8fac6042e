"""RMSNorm against torch.nn.RMSNorm, SwiGLU against its formula and transformers' LlamaMLP.

Tolerances (max absolute difference): float32 1e-5 (1e-6 for RMSNorm), float64 1e-12.
"""
import pytest
import torch
import torch.nn as nn
from _reference import max_diff

import transformer_lib as tl


@pytest.mark.parametrize("dtype, tol", [(torch.float32, 1e-6), (torch.float64, 1e-12)])
@pytest.mark.parametrize("eps", [1e-5, 1e-6, 0.5])
def test_rms_norm_matches_torch(device, dtype, tol, eps):
    ref = nn.RMSNorm(24, eps=eps).to(device, dtype)
    mine = tl.RMSNorm(24, eps=eps).to(device, dtype)
    with torch.no_grad():
        ref.weight.copy_(torch.randn(24))
    mine.load_state_dict(ref.state_dict())
    x = 3 * torch.randn(2, 5, 24, device=device, dtype=dtype)
    assert max_diff(mine(x), ref(x)) <= tol
    assert mine(x).dtype == dtype


def test_rms_norm_formula_and_low_precision():
    norm = tl.RMSNorm(8, eps=1e-5)
    x = torch.randn(4, 8)
    expected = x / torch.sqrt((x ** 2).mean(-1, keepdim=True) + 1e-5)
    assert max_diff(norm(x), expected) <= 1e-6
    assert torch.equal(norm(torch.zeros(1, 8)), torch.zeros(1, 8))  # eps keeps zeros finite
    big = torch.full((1, 8), 300.0, dtype=torch.float16)  # 300^2 overflows float16; float32 statistics do not
    out = norm.to(torch.float16)(big)
    assert out.dtype == torch.float16 and torch.allclose(out.float(), torch.ones(1, 8), atol=1e-3)
    with pytest.raises(ValueError, match=r"x must have d_model=8 features, got shape \(2, 7\)"):
        tl.RMSNorm(8)(torch.randn(2, 7))
    with pytest.raises(ValueError, match="eps must be a number > 0"):
        tl.RMSNorm(8, eps=0)


def test_make_norm_choices():
    from transformer_lib.norms import make_norm
    assert isinstance(make_norm("layernorm", 8, bias=False), nn.LayerNorm)
    assert make_norm("layernorm", 8, bias=False).bias is None
    assert isinstance(make_norm("rmsnorm", 8), tl.RMSNorm)
    with pytest.raises(ValueError, match=r"norm must be one of \['layernorm', 'rmsnorm'\], got 'batchnorm'"):
        make_norm("batchnorm", 8)


@pytest.mark.parametrize("dtype, tol", [(torch.float32, 1e-5), (torch.float64, 1e-12)])
@pytest.mark.parametrize("bias", [False, True])
def test_swiglu_matches_its_formula(device, dtype, tol, bias):
    ffn = tl.SwiGLUFeedForward(16, 40, bias=bias).to(device, dtype)
    z = torch.randn(3, 7, 16, device=device, dtype=dtype)
    gate = z @ ffn.w_gate.weight.T + (ffn.w_gate.bias if bias else 0)
    up = z @ ffn.w_up.weight.T + (ffn.w_up.bias if bias else 0)
    hidden = gate * torch.sigmoid(gate) * up  # silu(a) = a * sigmoid(a)
    expected = hidden @ ffn.w_down.weight.T + (ffn.w_down.bias if bias else 0)
    assert max_diff(ffn(z), expected) <= tol
    assert sum(p.numel() for p in ffn.parameters()) == 3 * 16 * 40 + (2 * 40 + 16 if bias else 0)


def test_swiglu_matches_transformers_llama_mlp():
    transformers = pytest.importorskip("transformers")
    from transformers.models.llama.modeling_llama import LlamaMLP
    config = transformers.LlamaConfig(hidden_size=16, intermediate_size=40, num_attention_heads=2,
                                      num_key_value_heads=2, hidden_act="silu", mlp_bias=False)
    ref = LlamaMLP(config).eval()
    mine = tl.SwiGLUFeedForward(16, 40)
    mine.load_state_dict({"w_gate.weight": ref.gate_proj.weight, "w_up.weight": ref.up_proj.weight,
                          "w_down.weight": ref.down_proj.weight})
    z = torch.randn(2, 5, 16)
    assert max_diff(mine(z), ref(z)) <= 1e-6


def test_feed_forward_choice_and_width_errors():
    from transformer_lib.feed_forward import make_feed_forward
    assert isinstance(make_feed_forward(8, 16, "swiglu"), tl.SwiGLUFeedForward)
    mlp = make_feed_forward(8, 16, "gelu")
    assert isinstance(mlp, tl.FeedForward) and mlp.activation_name == "gelu"
    for module in (tl.FeedForward(8, 16), tl.SwiGLUFeedForward(8, 16)):
        with pytest.raises(ValueError, match=r"z must have d_model=8 features, got shape \(2, 3, 5\)"):
            module(torch.randn(2, 3, 5))
    assert tl.SwiGLUFeedForward(3, 6)(torch.randn(2, 3)).shape == (2, 3)  # any leading shape


def test_integer_input_is_told_to_convert_itself_not_the_module():
    ffn = tl.FeedForward(8, 16)
    with pytest.raises(TypeError, match=r"convert with z.to\(torch.float32\)\)") as err:
        ffn(torch.ones(2, 8, dtype=torch.long))
    assert "the module with" not in str(err.value)
    with pytest.raises(TypeError, match=r"or the module with .to\(torch.float64\)"):
        ffn(torch.ones(2, 8, dtype=torch.float64))
