"""Explicit attention attacked as a hostile user would (issue 10): wrong types, edge dtypes,
empty tensors, devices, and no host synchronisation on the hot path.

Tolerances against PyTorch's fused function: float64 1e-10, float32 1e-5,
float16 2e-3, bfloat16 2e-2 (max abs difference, inputs of unit scale).
"""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import transformer_lib as tl

HALF_TOL = {torch.float64: 1e-10, torch.float32: 1e-5, torch.float16: 2e-3, torch.bfloat16: 2e-2}


def _qkv(lead=(2, 3), T=5, S=7, d_k=8, d_v=6, dtype=torch.float32, device="cpu"):
    g = torch.Generator().manual_seed(0)
    q = torch.randn(*lead, T, d_k, generator=g, dtype=torch.float64)
    k = torch.randn(*lead, S, d_k, generator=g, dtype=torch.float64)
    v = torch.randn(*lead, S, d_v, generator=g, dtype=torch.float64)
    return tuple(t.to(dtype=dtype, device=device) for t in (q, k, v))


# ---- refusals with the library's own message --------------------------------------------------

@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.uint8, torch.bool])
@pytest.mark.parametrize("fn", [tl.scaled_dot_product_attention, tl.attention_steps])
def test_integer_or_bool_qkv_is_refused_up_front(fn, dtype):
    q = torch.ones(2, 3, 4, dtype=dtype)
    with pytest.raises(TypeError, match=rf"q must be a floating-point tensor.*{dtype}"):
        fn(q, q, q)


def test_integer_v_alone_is_named():
    q = torch.randn(2, 3, 4)
    with pytest.raises(TypeError, match="v must be a floating-point tensor.*torch.int64"):
        tl.scaled_dot_product_attention(q, q, torch.ones(2, 3, 4, dtype=torch.long))


@pytest.mark.parametrize("bad", [None, [[1.0, 2.0]], np.ones((2, 2), dtype=np.float32), 3.0])
def test_non_tensor_inputs_are_refused(bad):
    x = torch.randn(2, 2)
    with pytest.raises(TypeError, match="q must be a torch.Tensor"):
        tl.scaled_dot_product_attention(bad, x, x)


def test_numpy_input_hints_at_conversion():
    x = torch.randn(2, 2)
    with pytest.raises(TypeError, match="torch.as_tensor"):
        tl.scaled_dot_product_attention(np.ones((2, 2), dtype=np.float32), x, x)


def test_mixed_dtypes_are_refused():
    q, k, v = _qkv()
    with pytest.raises(TypeError, match="share one dtype"):
        tl.scaled_dot_product_attention(q, k.double(), v)


def test_zero_head_width_is_refused():
    q = torch.randn(2, 3, 0)
    with pytest.raises(ValueError, match="d_k >= 1"):
        tl.scaled_dot_product_attention(q, q, torch.randn(2, 3, 4))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.int64, torch.uint8])
def test_non_boolean_masks_are_refused_with_a_conversion_rule(dtype):
    q, k, v = _qkv(T=4, S=4)
    mask = torch.ones(4, 4, dtype=dtype)
    rule = "m == 0" if dtype.is_floating_point else "m != 0"
    with pytest.raises(TypeError, match=rf"mask must have dtype torch.bool.*{dtype}.*{rule}"):
        tl.scaled_dot_product_attention(q, k, v, mask)


@pytest.mark.parametrize("bad", [None, "causal", 1, 0])
def test_is_causal_must_be_a_bool(bad):
    q, k, v = _qkv(T=4, S=4)
    with pytest.raises(TypeError, match="is_causal must be True or False"):
        tl.scaled_dot_product_attention(q, k, v, is_causal=bad)


def test_is_causal_with_fewer_keys_than_queries_is_refused():
    q, k, v = _qkv(T=5, S=3)
    with pytest.raises(ValueError, match="T=5 queries and S=3 keys"):
        tl.scaled_dot_product_attention(q, k, v, is_causal=True)


@pytest.mark.parametrize("p", [-0.1, 1.0, float("nan"), "0.1", None])
def test_bad_dropout_is_refused(p):
    q, k, v = _qkv()
    with pytest.raises((TypeError, ValueError), match="dropout_p"):
        tl.scaled_dot_product_attention(q, k, v, dropout_p=p)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a second device")
def test_mixed_devices_are_refused():
    q, k, v = _qkv()
    with pytest.raises(ValueError, match="k is on cuda.*q is on cpu"):
        tl.scaled_dot_product_attention(q, k.cuda(), v)
    with pytest.raises(ValueError, match="mask is on cuda"):
        tl.scaled_dot_product_attention(q, k, v, torch.ones(5, 7, dtype=torch.bool, device="cuda"))


def test_mask_on_another_device_is_refused_by_name():
    # A CPU-only check of the same rule: the meta device stands in for a second device.
    q, k, v = _qkv(T=4, S=4)
    with pytest.raises(ValueError, match="mask is on meta"):
        tl.scaled_dot_product_attention(q, k, v, torch.ones(4, 4, dtype=torch.bool, device="meta"))


# ---- one explicit path ----------------------------------------------------------------------

@pytest.mark.parametrize("dropout_p", [0.0, 0.5])
def test_sdpa_is_attention_steps(dropout_p):
    q, k, v = _qkv()
    mask = tl.causal_mask(5, offset=2)
    g1, g2 = torch.manual_seed(3), None
    out, weights = tl.scaled_dot_product_attention(q, k, v, mask, dropout_p)
    torch.manual_seed(3)
    steps = tl.attention_steps(q, k, v, mask, dropout_p=dropout_p)
    assert torch.equal(out, steps.output) and torch.equal(weights, steps.weights)
    del g1, g2


def test_no_in_place_copy_of_the_math_remains():
    import inspect

    from transformer_lib import attention

    source = inspect.getsource(attention)
    for in_place in ("div_(", "masked_fill_(", "mul_("):
        assert in_place not in source


@pytest.mark.parametrize("T,S", [(6, 6), (3, 7), (1, 4)])
def test_is_causal_equals_the_causal_mask(device, T, S):
    q, k, v = _qkv(T=T, S=S, device=device)
    mask = tl.causal_mask(T, device=device, offset=S - T)
    out, w = tl.scaled_dot_product_attention(q, k, v, is_causal=True)
    ref_out, ref_w = tl.scaled_dot_product_attention(q, k, v, mask)
    assert torch.equal(out, ref_out) and torch.equal(w, ref_w)


def test_is_causal_with_square_inputs_matches_torch(device):
    q, k, v = _qkv(T=6, S=6, device=device)
    out, _ = tl.scaled_dot_product_attention(q, k, v, is_causal=True)
    ref = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    assert (out - ref).abs().max() <= 1e-5


def test_is_causal_combines_with_a_padding_mask(device):
    q, k, v = _qkv(lead=(2, 1), T=4, S=4, device=device)
    pad = tl.padding_mask(torch.tensor([4, 2], device=device))
    out, w = tl.scaled_dot_product_attention(q, k, v, pad, is_causal=True)
    ref_out, ref_w = tl.scaled_dot_product_attention(q, k, v, pad & tl.causal_mask(4, device=device))
    assert torch.equal(out, ref_out) and torch.equal(w, ref_w)


# ---- no host synchronisation --------------------------------------------------------------

def _forbid_host_reads(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("attention read a tensor value on the host")

    for name in ("__bool__", "__int__", "__float__", "__index__", "item", "tolist"):
        monkeypatch.setattr(torch.Tensor, name, refuse)
    monkeypatch.setattr(torch, "equal", refuse)


@pytest.mark.parametrize("kind", ["none", "causal", "padding", "fully masked row", "is_causal"])
def test_attention_never_reads_values_on_the_host(monkeypatch, kind):
    q, k, v = _qkv(T=4, S=4)
    fully = torch.ones(4, 4, dtype=torch.bool)
    fully[1] = False
    mask = {"none": None, "causal": tl.causal_mask(4), "padding": tl.padding_mask([4, 2]),
            "fully masked row": fully, "is_causal": None}[kind]
    _forbid_host_reads(monkeypatch)
    out, weights = tl.scaled_dot_product_attention(q, k, v, mask, is_causal=kind == "is_causal")
    monkeypatch.undo()
    assert torch.isfinite(out).all()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA sync debug mode")
def test_attention_does_not_synchronise_cuda():
    q, k, v = _qkv(T=4, S=4, device="cuda")
    mask = torch.ones(4, 4, dtype=torch.bool, device="cuda")
    mask[1] = False
    torch.cuda.set_sync_debug_mode("error")
    try:
        tl.scaled_dot_product_attention(q, k, v, mask)
        tl.scaled_dot_product_attention(q, k, v, is_causal=True)
    finally:
        torch.cuda.set_sync_debug_mode(0)


# ---- fully masked rows ------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.float16, torch.bfloat16])
def test_fully_masked_rows_are_zero_with_finite_gradients_in_every_dtype(device, dtype):
    q, k, v = (t.requires_grad_() for t in _qkv(T=3, S=4, dtype=dtype, device=device))
    mask = torch.zeros(3, 4, dtype=torch.bool, device=device)
    mask[0, :2] = True  # rows 1 and 2 may attend to nothing
    out, weights = tl.scaled_dot_product_attention(q, k, v, mask)
    assert torch.all(out[..., 1:, :] == 0) and torch.all(weights[..., 1:, :] == 0)
    out.float().sum().backward()
    for t in (q, k, v):
        assert torch.isfinite(t.grad.float()).all()


def test_every_row_masked():
    q, k, v = _qkv(T=3, S=4)
    out, weights = tl.scaled_dot_product_attention(q, k, v, torch.zeros(3, 4, dtype=torch.bool))
    assert torch.all(out == 0) and torch.all(weights == 0)


# ---- empty tensors ------------------------------------------------------------------------

@pytest.mark.parametrize("lead,T,S", [((0, 2), 3, 3), ((2, 3), 0, 4), ((2, 3), 3, 0), ((2, 3), 0, 0)])
@pytest.mark.parametrize("masked", [False, True])
def test_empty_batches_and_sequences(lead, T, S, masked):
    q, k, v = _qkv(lead=lead, T=T, S=S)
    mask = torch.zeros(T, S, dtype=torch.bool) if masked else None
    out, weights = tl.scaled_dot_product_attention(q, k, v, mask)
    assert out.shape == (*lead, T, 6) and weights.shape == (*lead, T, S)
    assert torch.all(out == 0) or out.numel() == 0  # no keys: a zero output, never NaN


# ---- dtypes at their edges -------------------------------------------------------------

@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.float16, torch.bfloat16])
@pytest.mark.parametrize("mask_kind", ["none", "causal", "padding"])
def test_matches_torch_in_every_float_dtype(device, dtype, mask_kind):
    if device.type == "cpu" and dtype == torch.float16 and not _cpu_half_matmul():
        pytest.skip("this CPU build has no float16 matmul")
    q, k, v = _qkv(T=6, S=6, dtype=dtype, device=device)
    mask = {"none": None, "causal": tl.causal_mask(6, device=device),
            "padding": tl.padding_mask(torch.tensor([6, 3], device=device))}[mask_kind]
    out, weights = tl.scaled_dot_product_attention(q, k, v, mask)
    assert out.dtype == dtype and weights.dtype == dtype
    ref = F.scaled_dot_product_attention(q.double(), k.double(), v.double(), attn_mask=mask)
    assert (out.double() - ref).abs().max() <= HALF_TOL[dtype]


def _cpu_half_matmul() -> bool:
    try:
        torch.ones(2, 2, dtype=torch.float16) @ torch.ones(2, 2, dtype=torch.float16)
        return True
    except RuntimeError:
        return False


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_scores_do_not_overflow(device, dtype):
    # |q . k| = 300 * 300 * 64 = 5.8e6 > 65504, the largest float16: scores in float32.
    q = torch.full((1, 4, 64), 300.0, dtype=dtype, device=device)
    q[0, 1] = -300.0
    v = torch.randn(1, 4, 3, device=device).to(dtype)
    out, weights = tl.scaled_dot_product_attention(q, q, v)
    ref, _ = tl.scaled_dot_product_attention(q.double(), q.double(), v.double())
    assert torch.isfinite(out).all() and torch.isfinite(weights).all()
    assert (out.double() - ref).abs().max() <= HALF_TOL[dtype] * 10


def test_float64_gradients_match_finite_differences():
    q, k, v = (t.requires_grad_() for t in _qkv(lead=(2,), T=3, S=4, d_k=4, d_v=2, dtype=torch.float64))
    mask = torch.ones(3, 4, dtype=torch.bool)
    mask[1] = False
    assert torch.autograd.gradcheck(
        lambda q, k, v: tl.scaled_dot_product_attention(q, k, v, mask)[0], (q, k, v))
    assert torch.autograd.gradcheck(
        lambda q, k, v: tl.scaled_dot_product_attention(q, k, v, is_causal=True)[0],
        (q[:, :3], k[:, :3], v[:, :3]))


def test_huge_finite_values_give_a_one_hot_row_not_nan():
    q = torch.tensor([[1e30, 0.0]])
    k = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    out, weights = tl.scaled_dot_product_attention(q, k, k)
    assert torch.equal(weights, torch.tensor([[1.0, 0.0]]))


def test_nan_in_one_batch_item_does_not_spread_to_another():
    q, k, v = _qkv(lead=(2,), T=3, S=3)
    q[0, 0, 0] = float("nan")
    out, _ = tl.scaled_dot_product_attention(q, k, v, tl.causal_mask(3))
    assert torch.isnan(out[0]).any() and torch.isfinite(out[1]).all()


def test_inputs_are_not_modified():
    q, k, v = _qkv()
    copies = [t.clone() for t in (q, k, v)]
    tl.scaled_dot_product_attention(q, k, v, tl.causal_mask(5, offset=2), is_causal=True)
    assert all(torch.equal(a, b) for a, b in zip((q, k, v), copies))


def test_non_contiguous_inputs(device):
    q, k, v = _qkv(T=6, S=6, d_k=8, d_v=8, device=device)
    qt, kt, vt = (t.transpose(-2, -1) for t in (q, k, v))  # (..., 8, 6): non-contiguous views
    assert not qt.is_contiguous()
    out, _ = tl.scaled_dot_product_attention(qt, kt, vt)
    ref, _ = tl.scaled_dot_product_attention(qt.contiguous(), kt.contiguous(), vt.contiguous())
    assert torch.allclose(out, ref, atol=1e-6)


def test_expanded_broadcast_mask_and_values():
    q, k, v = _qkv(lead=(3,), T=4, S=4)
    v2 = torch.randn(2, 3, 4, 6)  # v adds a batch dimension
    mask = tl.causal_mask(4).expand(2, 3, 4, 4)
    out, w = tl.scaled_dot_product_attention(q, k, v2, mask)
    assert out.shape == (2, 3, 4, 6) and w.shape == (2, 3, 4, 4)


# ---- properties -----------------------------------------------------------------------------

@settings(max_examples=40, deadline=None)
@given(T=st.integers(1, 6), S=st.integers(1, 6), d_k=st.integers(1, 5), seed=st.integers(0, 10_000),
       density=st.floats(0.0, 1.0))
def test_rows_are_distributions_or_zero(T, S, d_k, seed, density):
    g = torch.Generator().manual_seed(seed)
    q, k = torch.randn(2, T, d_k, generator=g), torch.randn(2, S, d_k, generator=g)
    v = torch.randn(2, S, 3, generator=g)
    mask = torch.rand(2, T, S, generator=g) < density
    out, w = tl.scaled_dot_product_attention(q, k, v, mask)
    sums = w.sum(-1)
    has_key = mask.any(-1)
    assert torch.allclose(sums[has_key], torch.ones_like(sums[has_key]), atol=1e-5)
    assert torch.all(sums[~has_key] == 0) and torch.all(w[~mask] == 0)
    ref = F.scaled_dot_product_attention(q.double(), k.double(), v.double(), attn_mask=mask)
    ref = ref.masked_fill(~has_key[..., None], 0.0)
    assert (out.double() - ref).abs().max() <= 1e-5


@settings(max_examples=25, deadline=None)
@given(T=st.integers(1, 6), extra=st.integers(0, 4), seed=st.integers(0, 10_000))
def test_scaling_q_by_c_is_temperature(T, extra, seed):
    g = torch.Generator().manual_seed(seed)
    S = T + extra
    q, k, v = (torch.randn(1, n, 4, generator=g, dtype=torch.float64) for n in (T, S, S))
    w = tl.attention_steps(q, k, v, is_causal=True).weights
    manual = torch.softmax((q @ k.transpose(-2, -1) / math.sqrt(4)).masked_fill(
        ~tl.causal_mask(T, offset=S - T), float("-inf")), -1)
    assert torch.allclose(w, manual, atol=1e-12)


# ---- both attention paths of MultiHeadAttention ------------------------------------------------

PATH_TOL = {torch.float64: 1e-10, torch.float32: 1e-5, torch.float16: 5e-3, torch.bfloat16: 3e-2}


def _pair(dtype, device, d_model=16, n_heads=4):
    torch.manual_seed(0)
    explicit = tl.MultiHeadAttention(d_model, n_heads).eval()
    fused = tl.MultiHeadAttention(d_model, n_heads, use_sdpa=True).eval()
    fused.load_state_dict(explicit.state_dict())
    return explicit.to(device=device, dtype=dtype), fused.to(device=device, dtype=dtype)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.float16, torch.bfloat16])
@pytest.mark.parametrize("mask_kind", ["none", "causal", "padding", "fully masked row"])
def test_explicit_and_fused_paths_agree(device, dtype, mask_kind):
    if device.type == "cpu" and dtype == torch.float16 and not _cpu_half_matmul():
        pytest.skip("this CPU build has no float16 matmul")
    explicit, fused = _pair(dtype, device)
    x = torch.randn(2, 6, 16, device=device).to(dtype)
    fully = torch.ones(6, 6, dtype=torch.bool, device=device)
    fully[2] = False
    mask = {"none": None, "causal": tl.causal_mask(6, device=device),
            "padding": tl.padding_mask(torch.tensor([6, 3], device=device)), "fully masked row": fully}[mask_kind]
    a, b = explicit(x, mask=mask), fused(x, mask=mask)
    assert a.dtype == b.dtype == dtype and torch.isfinite(a).all() and torch.isfinite(b).all()
    assert (a.double() - b.double()).abs().max() <= PATH_TOL[dtype]
    if mask_kind == "fully masked row":  # the output there is w_o(0) = the bias, in both paths
        assert torch.allclose(a[:, 2].double(), explicit.w_o.bias.double().expand(2, 16))


@pytest.mark.parametrize("use_sdpa", [False, True])
def test_gpt_paths_agree_and_cache_equals_full(device, use_sdpa):
    torch.manual_seed(0)
    cfg = tl.TransformerConfig(vocab_size=30, d_model=16, n_heads=4, n_layers=2, d_ff=32, max_len=16,
                               use_sdpa=use_sdpa)
    model = tl.GPT(cfg).to(device).double().eval()
    tokens = torch.randint(0, 30, (2, 9), device=device)
    full = model(tokens)
    cache = model.new_cache()
    pieces = [model(tokens[:, :4], cache=cache)] + [model(tokens[:, t:t + 1], cache=cache) for t in range(4, 9)]
    assert (torch.cat(pieces, dim=1) - full).abs().max() <= 1e-10


@settings(max_examples=30, deadline=None)
@given(T=st.integers(1, 5), S=st.integers(1, 6), seed=st.integers(0, 10_000))
def test_permuting_keys_with_their_values_changes_nothing(T, S, seed):
    g = torch.Generator().manual_seed(seed)
    q, k, v = (torch.randn(2, n, 4, generator=g, dtype=torch.float64) for n in (T, S, S))
    mask = torch.rand(2, T, S, generator=g) < 0.7
    perm = torch.randperm(S, generator=g)
    out, w = tl.scaled_dot_product_attention(q, k, v, mask)
    out_p, w_p = tl.scaled_dot_product_attention(q, k[:, perm], v[:, perm], mask[..., perm])
    assert torch.allclose(out, out_p, atol=1e-12) and torch.allclose(w[..., perm], w_p, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(T=st.integers(1, 5), S=st.integers(1, 6), shift=st.floats(-50, 50), seed=st.integers(0, 10_000))
def test_output_is_a_convex_combination_of_values(T, S, shift, seed):
    g = torch.Generator().manual_seed(seed)
    q, k = (torch.randn(1, n, 3, generator=g, dtype=torch.float64) for n in (T, S))
    v = torch.randn(1, S, 2, generator=g, dtype=torch.float64) + shift
    out, _ = tl.scaled_dot_product_attention(q, k, v)
    assert torch.all(out <= v.amax(dim=1, keepdim=True) + 1e-9)
    assert torch.all(out >= v.amin(dim=1, keepdim=True) - 1e-9)


def test_fully_masked_rows_put_no_nan_even_inside_the_backward_pass():
    q, k, v = (t.requires_grad_() for t in _qkv(T=3, S=3))
    mask = torch.ones(3, 3, dtype=torch.bool)
    mask[1] = False
    with torch.autograd.detect_anomaly():  # raises if any backward step produces NaN
        tl.scaled_dot_product_attention(q, k, v, mask)[0].sum().backward()
    assert all(torch.isfinite(t.grad).all() for t in (q, k, v))
