"""EncoderLayer / DecoderLayer against torch.nn.TransformerEncoderLayer / DecoderLayer.

Tolerances: max abs difference <= 1e-5 (float32), <= 1e-10 (float64).
"""
import pytest
import torch
import torch.nn as nn
from _reference import TOL, copy_decoder_layer, copy_encoder_layer, max_diff

import transformer_lib as tl

D, H, F_ = 32, 4, 64


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("use_sdpa", [False, True])
def test_encoder_layer_matches_torch(device, norm_first, activation, dtype, use_sdpa):
    ref = nn.TransformerEncoderLayer(D, H, F_, dropout=0.0, activation=activation, batch_first=True,
                                     norm_first=norm_first).to(device, dtype).eval()
    mine = tl.EncoderLayer(D, H, F_, activation=activation, norm_first=norm_first, use_sdpa=use_sdpa)
    mine = mine.to(device, dtype).eval()
    copy_encoder_layer(mine, ref)
    x = torch.randn(3, 6, D, device=device, dtype=dtype)
    padding = tl.padding_mask(torch.tensor([6, 4, 3], device=device))
    causal = tl.causal_mask(6, device=device)
    assert max_diff(mine(x), ref(x)) <= TOL[dtype]
    assert max_diff(mine(x, mask=causal), ref(x, src_mask=~causal)) <= TOL[dtype]
    expected = ref(x, src_key_padding_mask=~padding[:, 0, 0])
    got = mine(x, mask=padding)
    real = padding[:, 0, 0]  # PyTorch's fast path may zero padded positions: compare real tokens
    assert max_diff(got[real], expected[real]) <= TOL[dtype]


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_decoder_layer_matches_torch(device, norm_first, activation, dtype):
    ref = nn.TransformerDecoderLayer(D, H, F_, dropout=0.0, activation=activation, batch_first=True,
                                     norm_first=norm_first).to(device, dtype).eval()
    mine = tl.DecoderLayer(D, H, F_, activation=activation, norm_first=norm_first).to(device, dtype).eval()
    copy_decoder_layer(mine, ref)
    tgt, memory = torch.randn(2, 5, D, device=device, dtype=dtype), torch.randn(2, 7, D, device=device, dtype=dtype)
    causal = tl.causal_mask(5, device=device)
    src_pad = tl.padding_mask(torch.tensor([7, 4], device=device))
    expected = ref(tgt, memory, tgt_mask=~causal, memory_key_padding_mask=~src_pad[:, 0, 0])
    got = mine(tgt, memory, self_mask=causal, memory_mask=src_pad)
    assert max_diff(got, expected) <= TOL[dtype]
    x, self_w, cross_w = mine(tgt, memory, causal, src_pad, return_weights=True)
    assert max_diff(x, expected) <= TOL[dtype]
    assert self_w.shape == (2, H, 5, 5) and cross_w.shape == (2, H, 5, 7)
    assert torch.all(cross_w[1, ..., 4:] == 0)


def test_encoder_layer_returns_weights_and_is_permutation_equivariant(device):
    layer = tl.EncoderLayer(D, H, F_).to(device).eval()
    x = torch.randn(2, 5, D, device=device)
    out, weights = layer(x, return_weights=True)
    assert weights.shape == (2, H, 5, 5)
    perm = torch.tensor([3, 0, 4, 1, 2], device=device)
    assert max_diff(layer(x[:, perm]), out[:, perm]) <= 1e-5


def test_gelu_tanh_activation_matches_formula():
    ffn = tl.FeedForward(8, 16, activation="gelu_tanh")
    z = torch.randn(3, 8)
    h = ffn.linear1(z)
    manual = 0.5 * h * (1 + torch.tanh((2 / torch.pi) ** 0.5 * (h + 0.044715 * h ** 3)))
    assert max_diff(ffn(z), ffn.linear2(manual)) <= 1e-5


def test_feed_forward_acts_on_each_position_alone():
    ffn = tl.FeedForward(8, 16)
    x = torch.randn(1, 5, 8)
    y = x.clone()
    y[:, 1:] = torch.randn(1, 4, 8)
    assert torch.equal(ffn(x)[:, 0], ffn(y)[:, 0])
    assert torch.allclose(ffn(x)[0, 2], ffn(x[0, 2]))


@pytest.mark.parametrize("call, error, message", [
    (lambda: tl.EncoderLayer(10, 3, 20), ValueError, "d_model=10 must be divisible by n_heads=3"),
    (lambda: tl.EncoderLayer(8, 2, 0), ValueError, "d_ff must be a positive integer, got 0"),
    (lambda: tl.EncoderLayer(8, 2, 16, activation="swish"), ValueError,
     r"activation must be one of \['gelu', 'gelu_tanh', 'relu', 'swiglu'\], got 'swish'"),
    (lambda: tl.DecoderLayer(8, 2, 16, layer_norm_eps=0), ValueError, "layer_norm_eps must be > 0, got 0"),
    (lambda: tl.FeedForward(8, 16, activation="tanh"), ValueError, "activation must be one of"),
    (lambda: tl.EncoderLayer(8, 2, 16)(torch.randn(4, 8)), ValueError, r"x must have 3 dimensions, got shape \(4, 8\)"),
    (lambda: tl.DecoderLayer(8, 2, 16)(torch.randn(1, 4, 8), torch.randn(4, 8)), ValueError,
     "memory must have 3 dimensions"),
])
def test_bad_layer_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("make", [
    lambda: tl.EncoderLayer(8, 2, 16, norm_first=False),
    lambda: tl.EncoderLayer(8, 2, 16, norm_first=True),
    lambda: tl.EncoderLayer(8, 2, 16, norm_first=True, norm="rmsnorm", activation="swiglu"),
])
def test_wrong_width_gives_one_message_in_every_placement(make):
    with pytest.raises(ValueError, match=r"x must have d_model=8 features, got shape \(1, 3, 6\)"):
        make()(torch.randn(1, 3, 6))


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_layer_wrong_width(norm_first):
    layer = tl.DecoderLayer(8, 2, 16, norm_first=norm_first)
    with pytest.raises(ValueError, match=r"x must have d_model=8 features, got shape \(1, 3, 6\)"):
        layer(torch.randn(1, 3, 6), torch.randn(1, 4, 8))


def test_layer_options_are_keywords_and_choices_build_the_right_modules():
    with pytest.raises(TypeError):
        tl.EncoderLayer(8, 2, 16, 0.0, "relu")  # options after d_ff are keyword-only
    layer = tl.EncoderLayer(8, 4, 16, norm="rmsnorm", activation="swiglu", n_kv_heads=2, bias=False)
    assert isinstance(layer.norm1, tl.RMSNorm) and isinstance(layer.ffn, tl.SwiGLUFeedForward)
    assert layer.self_attn.n_kv_heads == 2 and layer.self_attn.w_q.bias is None
    assert tl.EncoderLayer(8, 2, 16, bias=False).norm1.bias is None


def test_residual_placements_written_out():
    torch.manual_seed(0)
    x = torch.randn(2, 5, 8)
    for norm_first in (False, True):
        layer = tl.EncoderLayer(8, 2, 16, norm_first=norm_first).eval()
        a, f = layer.self_attn, layer.ffn
        if norm_first:  # x + Sublayer(Norm(x))
            h = x + a(layer.norm1(x))
            expected = h + f(layer.norm2(h))
        else:  # Add & Norm: Norm(x + Sublayer(x))
            h = layer.norm1(x + a(x))
            expected = layer.norm2(h + f(h))
        assert (layer(x) - expected).abs().max() < 1e-6


@pytest.mark.parametrize("module, name", [
    (lambda: tl.MultiHeadAttention(8, 2), "query"),
    (lambda: tl.FeedForward(8, 16), "z"),
    (lambda: tl.SwiGLUFeedForward(8, 16), "z"),
    (lambda: tl.RMSNorm(8), "x"),
    (lambda: tl.EncoderLayer(8, 2, 16, norm_first=True), "x"),
])
@pytest.mark.parametrize("dtype", [torch.int64, torch.float64])
def test_wrong_dtype_is_refused_by_name(module, name, dtype):
    with pytest.raises(TypeError, match=f"{name} must be a floating-point tensor of the module's dtype torch.float32"):
        module()(torch.ones(2, 3, 8, dtype=dtype))
