"""scaled_dot_product_attention and attention_steps against PyTorch's fused function.

Tolerances: max abs difference <= 1e-5 (float32), <= 1e-10 (float64).
"""
import math

import pytest
import torch
import torch.nn.functional as F
from _reference import TOL, max_diff
from hypothesis import given, settings
from hypothesis import strategies as st

import transformer_lib as tl


def _qkv(B=2, H=3, T=5, S=7, d_k=8, d_v=6, dtype=torch.float32, device="cpu"):
    q = torch.randn(B, H, T, d_k, dtype=dtype, device=device)
    k = torch.randn(B, H, S, d_k, dtype=dtype, device=device)
    v = torch.randn(B, H, S, d_v, dtype=dtype, device=device)
    return q, k, v


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("mask_kind", ["none", "causal", "padding", "random"])
def test_matches_torch_sdpa(device, dtype, mask_kind):
    q, k, v = _qkv(T=6, S=6, dtype=dtype, device=device)
    mask = {
        "none": None,
        "causal": tl.causal_mask(6, device=device),
        "padding": tl.padding_mask(torch.tensor([6, 3], device=device)),
        "random": torch.rand(2, 3, 6, 6, device=device) > 0.3,
    }[mask_kind]
    if mask is not None:
        mask = mask | torch.eye(6, dtype=torch.bool, device=device)  # every row keeps a key
    out, weights = tl.scaled_dot_product_attention(q, k, v, mask)
    ref = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    assert out.shape == (2, 3, 6, 6) and weights.shape == (2, 3, 6, 6)
    assert max_diff(out, ref) <= TOL[dtype]


def test_weights_are_softmax_rows_and_masked_positions_are_zero(device):
    q, k, v = _qkv(T=5, S=5, device=device)
    mask = tl.causal_mask(5, device=device)
    _, weights = tl.scaled_dot_product_attention(q, k, v, mask)
    assert torch.allclose(weights.sum(-1), torch.ones(2, 3, 5, device=device), atol=1e-6)
    assert torch.all(weights[..., ~mask] == 0)
    assert torch.all(weights >= 0)


def test_fully_masked_rows_give_zeros_not_nan(device):
    q, k, v = _qkv(T=3, S=4, device=device)
    mask = torch.ones(3, 4, dtype=torch.bool, device=device)
    mask[1] = False  # query 1 may attend to nothing
    out, weights = tl.scaled_dot_product_attention(q, k, v, mask)
    assert not torch.isnan(out).any() and not torch.isnan(weights).any()
    assert torch.all(weights[..., 1, :] == 0) and torch.all(out[..., 1, :] == 0)
    steps = tl.attention_steps(q, k, v, mask)
    assert torch.all(torch.isinf(steps.masked[..., 1, :]))


def test_fully_masked_rows_have_finite_gradients():
    q, k, v = (t.requires_grad_() for t in _qkv(T=3, S=4))
    mask = torch.zeros(3, 4, dtype=torch.bool)
    mask[0, 0] = True
    out, _ = tl.scaled_dot_product_attention(q, k, v, mask)
    out.sum().backward()
    for t in (q, k, v):
        assert torch.isfinite(t.grad).all()


def test_attention_steps_fields_follow_the_formula(device):
    q, k, v = _qkv(device=device)
    mask = tl.causal_mask(5, device=device, offset=2)  # (5, 7)
    s = tl.attention_steps(q, k, v, mask)
    assert torch.allclose(s.scores, q @ k.transpose(-2, -1))
    assert torch.allclose(s.scaled, s.scores / math.sqrt(8))
    assert torch.equal(s.masked[..., mask], s.scaled[..., mask])
    assert torch.all(s.masked[..., ~mask] == float("-inf"))
    assert torch.allclose(s.weights, torch.softmax(s.masked, -1))
    assert torch.allclose(s.output, s.weights @ v)
    out, weights = tl.scaled_dot_product_attention(q, k, v, mask)
    assert torch.equal(out, s.output) and torch.equal(weights, s.weights)


def test_unbatched_inputs_work():
    q, k, v = torch.randn(4, 8), torch.randn(6, 8), torch.randn(6, 3)
    out, weights = tl.scaled_dot_product_attention(q, k, v)
    assert out.shape == (4, 3) and weights.shape == (4, 6)
    assert max_diff(out, F.scaled_dot_product_attention(q[None], k[None], v[None])[0]) <= 1e-5


def test_gradcheck_float64():
    q, k, v = (t.requires_grad_() for t in _qkv(B=1, H=2, T=3, S=4, d_k=5, d_v=2, dtype=torch.float64))
    mask = torch.rand(3, 4) > 0.3
    mask[:, 0] = True
    assert torch.autograd.gradcheck(lambda q, k, v: tl.scaled_dot_product_attention(q, k, v, mask)[0], (q, k, v))
    assert torch.autograd.gradcheck(lambda q, k, v: tl.scaled_dot_product_attention(q, k, v)[0], (q, k, v))


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_half_precision(device, dtype):
    if device.type == "cpu" and dtype == torch.float16:
        pytest.skip("float16 matmul on CPU is slow/partial on some builds; checked on CUDA")
    q, k, v = _qkv(dtype=dtype, device=device)
    out, weights = tl.scaled_dot_product_attention(q, k, v, tl.causal_mask(5, device=device, offset=2))
    mask = tl.causal_mask(5, device=device, offset=2)
    ref = F.scaled_dot_product_attention(q.float(), k.float(), v.float(), attn_mask=mask)
    assert out.dtype == dtype
    assert max_diff(out.float(), ref) < 5e-2


def test_dropout_zeroes_some_weights_and_rescales():
    q, k, v = _qkv(B=4, H=4, T=16, S=16)
    torch.manual_seed(1)
    _, weights = tl.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    assert (weights == 0).float().mean() > 0.3
    assert torch.allclose(weights.sum(-1).mean(), torch.tensor(1.0), atol=0.1)


@settings(max_examples=40, deadline=None)
@given(B=st.integers(1, 3), H=st.integers(1, 4), T=st.integers(1, 7), S=st.integers(1, 7),
       d_k=st.integers(1, 9), d_v=st.integers(1, 5), seed=st.integers(0, 10_000))
def test_property_random_shapes_match_torch(B, H, T, S, d_k, d_v, seed):
    g = torch.Generator().manual_seed(seed)
    q, k, v = (torch.randn(B, H, n, d, generator=g) for n, d in ((T, d_k), (S, d_k), (S, d_v)))
    mask = torch.rand(B, 1, T, S, generator=g) > 0.4
    mask[..., 0] = True
    out, weights = tl.scaled_dot_product_attention(q, k, v, mask)
    assert max_diff(out, F.scaled_dot_product_attention(q, k, v, attn_mask=mask)) <= 1e-5
    assert torch.allclose(weights.sum(-1), torch.ones(B, H, T), atol=1e-5)


@pytest.mark.parametrize("args, error, message", [
    ((torch.randn(2, 3, 4), torch.randn(2, 5, 6), torch.randn(2, 5, 6)), ValueError,
     "q and k must have the same feature size d_k"),
    ((torch.randn(2, 3, 4), torch.randn(2, 5, 4), torch.randn(2, 6, 4)), ValueError,
     "k and v must have the same number of positions S"),
    ((torch.randn(3), torch.randn(2, 3), torch.randn(2, 3)), ValueError, "q must have at least 2 dimensions"),
    (([[1.0]], torch.randn(1, 1), torch.randn(1, 1)), TypeError, "q must be a torch.Tensor"),
])
def test_bad_qkv(args, error, message):
    with pytest.raises(error, match=message):
        tl.scaled_dot_product_attention(*args)


def test_bad_masks():
    q, k, v = _qkv(T=3, S=4)
    with pytest.raises(TypeError, match="mask must have dtype torch.bool"):
        tl.scaled_dot_product_attention(q, k, v, torch.ones(3, 4))
    message = r"mask of shape \(3, 3\) does not broadcast to the attention scores' shape \(2, 3, 3, 4\)"
    with pytest.raises(ValueError, match=message):
        tl.scaled_dot_product_attention(q, k, v, torch.ones(3, 3, dtype=torch.bool))
    with pytest.raises(ValueError, match=r"dropout_p must be in \[0, 1\), got 1.5"):
        tl.scaled_dot_product_attention(q, k, v, dropout_p=1.5)
