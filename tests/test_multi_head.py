"""MultiHeadAttention against torch.nn.MultiheadAttention with copied weights.

Tolerances: max abs difference <= 1e-5 (float32), <= 1e-10 (float64).
"""
import pytest
import torch
import torch.nn as nn
from _reference import TOL, copy_mha, max_diff
from hypothesis import given, settings
from hypothesis import strategies as st

import transformer_lib as tl

D, H = 32, 4


def _pair(device, dtype=torch.float32, use_sdpa=False, bias=True):
    ref = nn.MultiheadAttention(D, H, bias=bias, batch_first=True).to(device, dtype).eval()
    mine = tl.MultiHeadAttention(D, H, bias=bias, use_sdpa=use_sdpa).to(device, dtype).eval()
    copy_mha(mine, ref)
    return mine, ref


@pytest.mark.parametrize("use_sdpa", [False, True])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("mask_kind", ["none", "causal", "padding", "causal+padding"])
def test_self_attention_matches_torch(device, use_sdpa, dtype, mask_kind):
    mine, ref = _pair(device, dtype, use_sdpa)
    x = torch.randn(3, 6, D, device=device, dtype=dtype)
    lengths = torch.tensor([6, 4, 2], device=device)
    causal, padding = tl.causal_mask(6, device=device), tl.padding_mask(lengths)
    mask, ref_kwargs = {
        "none": (None, {}),
        "causal": (causal, {"attn_mask": ~causal}),  # PyTorch's boolean masks mean "blocked"
        "padding": (padding, {"key_padding_mask": ~padding[:, 0, 0]}),
        "causal+padding": (causal & padding, {"attn_mask": ~causal, "key_padding_mask": ~padding[:, 0, 0]}),
    }[mask_kind]
    expected, expected_w = ref(x, x, x, need_weights=True, average_attn_weights=False, **ref_kwargs)
    out = mine(x, mask=mask)
    got, weights = mine(x, mask=mask, return_weights=True)
    assert out.shape == (3, 6, D) and weights.shape == (3, H, 6, 6)
    assert max_diff(out, expected) <= TOL[dtype]
    assert max_diff(got, expected) <= TOL[dtype]
    assert max_diff(weights, expected_w) <= TOL[dtype]


@pytest.mark.parametrize("use_sdpa", [False, True])
def test_cross_attention_matches_torch(device, use_sdpa):
    mine, ref = _pair(device, use_sdpa=use_sdpa)
    query, memory = torch.randn(2, 3, D, device=device), torch.randn(2, 7, D, device=device)
    padding = tl.padding_mask(torch.tensor([7, 5], device=device))
    expected, _ = ref(query, memory, memory, key_padding_mask=~padding[:, 0, 0])
    out, weights = mine(query, memory, memory, mask=padding, return_weights=True)
    assert weights.shape == (2, H, 3, 7)
    assert max_diff(out, expected) <= 1e-5
    assert max_diff(mine(query, memory, mask=padding), expected) <= 1e-5  # value defaults to key


def test_without_bias_matches_torch(device):
    mine, ref = _pair(device, bias=False)
    x = torch.randn(2, 5, D, device=device)
    assert max_diff(mine(x), ref(x, x, x)[0]) <= 1e-5


def test_sdpa_and_explicit_paths_agree(device):
    explicit = tl.MultiHeadAttention(D, H).to(device).eval()
    fused = tl.MultiHeadAttention(D, H, use_sdpa=True).to(device).eval()
    fused.load_state_dict(explicit.state_dict())
    x = torch.randn(2, 9, D, device=device)
    lengths = torch.tensor([9, 0], device=device)  # sentence 2 fully masked
    mask = tl.causal_mask(9, device=device) & tl.padding_mask(lengths)
    a, b = explicit(x, mask=mask), fused(x, mask=mask)
    assert not torch.isnan(b).any()
    assert max_diff(a, b) <= 1e-5


def test_self_attention_is_permutation_equivariant(device):
    mha = tl.MultiHeadAttention(D, H).to(device).eval()
    x = torch.randn(2, 7, D, device=device)
    perm = torch.randperm(7, device=device)
    out, weights = mha(x, return_weights=True)
    out_p, weights_p = mha(x[:, perm], return_weights=True)
    assert max_diff(out_p, out[:, perm]) <= 1e-5
    assert max_diff(weights_p, weights[:, :, perm][:, :, :, perm]) <= 1e-6


def test_causal_attention_ignores_the_future(device):
    mha = tl.MultiHeadAttention(D, H).to(device).eval()
    x = torch.randn(1, 8, D, device=device)
    changed = x.clone()
    changed[:, 5:] = torch.randn(1, 3, D, device=device)
    mask = tl.causal_mask(8, device=device)
    a, b = mha(x, mask=mask), mha(changed, mask=mask)
    assert max_diff(a[:, :5], b[:, :5]) == 0.0
    assert max_diff(a[:, 5:], b[:, 5:]) > 1e-3


def test_cache_gives_the_same_output_as_the_full_sequence(device):
    for use_sdpa in (False, True):
        mha = tl.MultiHeadAttention(D, H, use_sdpa=use_sdpa).to(device).eval()
        x = torch.randn(2, 6, D, device=device)
        full = mha(x, mask=tl.causal_mask(6, device=device))
        cache = tl.KVCache(capacity=2)  # forces the buffer to grow
        first = mha(x[:, :3], mask=tl.causal_mask(3, device=device), cache=cache)
        steps = [mha(x[:, t:t + 1], cache=cache) for t in range(3, 6)]
        assert len(cache) == 6
        assert max_diff(torch.cat([first, *steps], dim=1), full) <= 1e-5


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_half_precision_runs(device, dtype):
    if device.type == "cpu" and dtype == torch.float16:
        pytest.skip("float16 is checked on CUDA")
    mine, ref = _pair(device)
    x = torch.randn(2, 5, D, device=device)
    expected = ref(x, x, x)[0]
    mine = mine.to(dtype)
    for use_sdpa in (False, True):
        mine.use_sdpa = use_sdpa
        out = mine(x.to(dtype), mask=tl.causal_mask(5, device=device) | True)
        assert out.dtype == dtype and max_diff(out.float(), expected) < 5e-2


@settings(max_examples=25, deadline=None)
@given(H=st.sampled_from([1, 2, 4, 8]), K=st.integers(1, 6), B=st.integers(1, 3), T=st.integers(1, 6),
       S=st.integers(1, 6),
       use_sdpa=st.booleans(), seed=st.integers(0, 1000))
def test_property_random_shapes_match_torch(H, K, B, T, S, use_sdpa, seed):
    torch.manual_seed(seed)
    d = H * K
    ref = nn.MultiheadAttention(d, H, batch_first=True).eval()
    mine = tl.MultiHeadAttention(d, H, use_sdpa=use_sdpa).eval()
    copy_mha(mine, ref)
    q, kv = torch.randn(B, T, d), torch.randn(B, S, d)
    assert max_diff(mine(q, kv), ref(q, kv, kv)[0]) <= 1e-5


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"d_model=30 must be divisible by n_heads=4; n_heads values that divide 30"):
        tl.MultiHeadAttention(30, 4)
    with pytest.raises(ValueError, match="d_model must be a positive integer, got -8"):
        tl.MultiHeadAttention(-8, 2)
    with pytest.raises(ValueError, match=r"dropout must be in \[0, 1\), got 2"):
        tl.MultiHeadAttention(8, 2, dropout=2)
    mha = tl.MultiHeadAttention(D, H)
    with pytest.raises(ValueError, match=r"query must have d_model=32 features, got shape \(2, 5, 16\)"):
        mha(torch.randn(2, 5, 16))
    with pytest.raises(ValueError, match=r"query must have 3 dimensions, got shape \(5, 32\)"):
        mha(torch.randn(5, D))
    with pytest.raises(ValueError, match=r"key must have shape \(B=2, S, D=32\), got \(3, 4, 32\)"):
        mha(torch.randn(2, 5, D), torch.randn(3, 4, D))
    scores = r"attention scores' shape \(2, 4, 5, 5\)"
    with pytest.raises(ValueError, match=r"mask of shape \(4, 4\) does not broadcast to the " + scores):
        mha(torch.randn(2, 5, D), mask=tl.causal_mask(4))
    with pytest.raises(TypeError, match="mask must have dtype torch.bool"):
        mha(torch.randn(2, 5, D), mask=torch.ones(5, 5))


# ----------------------------------------------------------------- grouped-query attention

def _as_full_heads(gqa):
    """The ordinary MultiHeadAttention that repeats each key/value head's weights for its group."""
    H, H_kv, d_k, D = gqa.n_heads, gqa.n_kv_heads, gqa.d_head, gqa.d_model
    full = tl.MultiHeadAttention(D, H, bias=gqa.w_q.bias is not None)
    state = dict(gqa.state_dict())
    for name in ("w_k", "w_v"):
        w = state[f"{name}.weight"].reshape(H_kv, d_k, D)  # (H_kv d_k, D) -> (H_kv, d_k, D)
        state[f"{name}.weight"] = w.repeat_interleave(H // H_kv, dim=0).reshape(H * d_k, D)
        if f"{name}.bias" in state:
            b = state[f"{name}.bias"].reshape(H_kv, d_k)
            state[f"{name}.bias"] = b.repeat_interleave(H // H_kv, dim=0).reshape(H * d_k)
    full.load_state_dict(state)
    return full.to(gqa.w_q.weight)


@pytest.mark.parametrize("use_sdpa", [False, True])
@pytest.mark.parametrize("n_kv_heads", [1, 2, 4])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_grouped_query_attention_equals_repeated_heads(device, use_sdpa, n_kv_heads, dtype):
    gqa = tl.MultiHeadAttention(D, H, n_kv_heads=n_kv_heads, use_sdpa=use_sdpa).to(device, dtype).eval()
    assert gqa.w_k.weight.shape == (n_kv_heads * D // H, D) and gqa.w_q.weight.shape == (D, D)
    full = _as_full_heads(gqa).eval()
    x = torch.randn(2, 7, D, device=device, dtype=dtype)
    padding = tl.padding_mask(torch.tensor([7, 4], device=device))
    for kwargs in (dict(), dict(is_causal=True), dict(mask=padding, is_causal=True), dict(mask=padding)):
        assert max_diff(gqa(x, **kwargs), full(x, **kwargs)) <= TOL[dtype]
    out, weights = gqa(x, is_causal=True, return_weights=True)
    assert weights.shape == (2, H, 7, 7)
    _, full_weights = full(x, is_causal=True, return_weights=True)
    assert max_diff(weights, full_weights) <= TOL[dtype]


def test_grouped_query_attention_explicit_repeat():
    gqa = tl.MultiHeadAttention(D, H, n_kv_heads=2).eval()
    x = torch.randn(2, 5, D)
    q = tl.split_heads(gqa.w_q(x), H)  # (B, H, T, d_k)
    k = tl.split_heads(gqa.w_k(x), 2).repeat_interleave(2, dim=1)  # query head h reads kv head h // 2
    v = tl.split_heads(gqa.w_v(x), 2).repeat_interleave(2, dim=1)
    out, _ = tl.scaled_dot_product_attention(q, k, v, tl.causal_mask(5))
    assert max_diff(gqa(x, is_causal=True), gqa.w_o(tl.merge_heads(out))) <= 1e-6


@pytest.mark.parametrize("use_sdpa", [False, True])
def test_grouped_query_cache_stores_only_kv_heads(device, use_sdpa):
    rope = tl.RotaryEmbedding(D // H, max_len=32, base=100000.0)
    gqa = tl.MultiHeadAttention(D, H, n_kv_heads=2, rotary=rope, use_sdpa=use_sdpa, bias=False).to(device).eval()
    x = torch.randn(2, 8, D, device=device)
    full = gqa(x, is_causal=True)
    cache = tl.KVCache()
    parts = [gqa(x[:, :5], cache=cache, is_causal=True)]
    parts += [gqa(x[:, t:t + 1], cache=cache, is_causal=True) for t in range(5, 8)]
    assert cache.keys.shape == (2, 2, 8, D // H)  # (B, H_kv, S, d_k)
    assert max_diff(torch.cat(parts, 1), full) <= 1e-5


@pytest.mark.parametrize("n_kv_heads", [1, 2])
def test_grouped_query_attention_matches_transformers_llama_attention(n_kv_heads):
    transformers = pytest.importorskip("transformers")
    from transformers.models.llama import modeling_llama
    config = transformers.LlamaConfig(hidden_size=D, num_attention_heads=H, num_key_value_heads=n_kv_heads,
                                      max_position_embeddings=32, rope_theta=100000.0, attention_bias=False)
    config._attn_implementation = "eager"
    ref = modeling_llama.LlamaAttention(config, layer_idx=0).eval()
    rotary = modeling_llama.LlamaRotaryEmbedding(config)
    mine = tl.MultiHeadAttention(D, H, n_kv_heads=n_kv_heads, bias=False,
                                 rotary=tl.RotaryEmbedding(D // H, 32, base=100000.0, layout="half")).eval()
    mine.load_state_dict({"w_q.weight": ref.q_proj.weight, "w_k.weight": ref.k_proj.weight,
                          "w_v.weight": ref.v_proj.weight, "w_o.weight": ref.o_proj.weight})
    x = torch.randn(2, 9, D)
    position_embeddings = rotary(x, torch.arange(9)[None].expand(2, 9))
    blocked = torch.full((9, 9), float("-inf")).triu(1)[None, None]  # additive causal mask
    with torch.no_grad():
        expected, expected_w = ref(x, position_embeddings=position_embeddings, attention_mask=blocked)
        out, weights = mine(x, is_causal=True, return_weights=True)
    assert max_diff(out, expected) <= 1e-5 and max_diff(weights, expected_w) <= 1e-5


def test_from_torch_copies_nn_multihead_attention(device):
    ref = nn.MultiheadAttention(D, H, batch_first=True, dropout=0.1).to(device, torch.float64).eval()
    mine = tl.MultiHeadAttention.from_torch(ref, use_sdpa=True)
    assert mine.w_q.weight.dtype == torch.float64 and not mine.training and mine.dropout_p == 0.1
    x = torch.randn(2, 5, D, device=device, dtype=torch.float64)
    assert max_diff(mine(x), ref(x, x, x)[0]) <= 1e-10
    with pytest.raises(ValueError, match="kdim = vdim = embed_dim"):
        tl.MultiHeadAttention.from_torch(nn.MultiheadAttention(D, H, kdim=8, vdim=8))
    with pytest.raises(TypeError, match="must be a torch.nn.MultiheadAttention"):
        tl.MultiHeadAttention.from_torch(nn.Linear(4, 4))


def test_grouped_query_bad_arguments():
    with pytest.raises(ValueError, match="n_heads=4 must be divisible by n_kv_heads=3"):
        tl.MultiHeadAttention(D, H, n_kv_heads=3)
    with pytest.raises(ValueError, match="n_kv_heads must be a positive integer"):
        tl.MultiHeadAttention(D, H, n_kv_heads=0)
    mha = tl.MultiHeadAttention(D, H)
    with pytest.raises(ValueError, match="is_causal=True needs self-attention"):
        mha(torch.randn(1, 3, D), torch.randn(1, 5, D), is_causal=True)
    with pytest.raises(TypeError, match="is_causal must be True or False"):
        mha(torch.randn(1, 3, D), is_causal=1)


def test_repeat_kv_matches_transformers_order():
    x = torch.arange(2 * 3 * 4 * 5, dtype=torch.float32).reshape(2, 3, 4, 5)  # (B, H_kv, S, d_k)
    out = tl.repeat_kv(x, 3)
    assert out.shape == (2, 9, 4, 5)
    for h in range(9):
        assert torch.equal(out[:, h], x[:, h // 3])
    expanded = x[:, :, None].expand(2, 3, 3, 4, 5).reshape(2, 9, 4, 5)  # transformers' repeat_kv
    assert torch.equal(out, expanded)
    with pytest.raises(ValueError, match="group must be a positive integer"):
        tl.repeat_kv(x, 0)


@pytest.mark.parametrize("dtype, tol", [(torch.bfloat16, 2e-2), (torch.float16, 2e-3), (torch.float32, 1e-6),
                                        (torch.float64, 1e-12)])
def test_both_paths_agree_with_grouped_heads_in_every_dtype(dtype, tol):
    explicit = tl.MultiHeadAttention(D, H, n_kv_heads=2).to(dtype).eval()
    fused = tl.MultiHeadAttention(D, H, n_kv_heads=2, use_sdpa=True).to(dtype).eval()
    fused.load_state_dict(explicit.state_dict())
    x = torch.randn(2, 7, D).to(dtype)
    padding = tl.padding_mask([7, 0])  # the second sentence is all padding: zeros, not NaN
    for kwargs in (dict(is_causal=True), dict(mask=padding, is_causal=True), dict(mask=padding)):
        a, b = explicit(x, **kwargs), fused(x, **kwargs)
        assert not b.isnan().any() and max_diff(a.float(), b.float()) <= tol


@settings(max_examples=20, deadline=None)
@given(H_kv=st.sampled_from([1, 2, 4]), d_k=st.sampled_from([2, 4]), B=st.integers(1, 2),
       chunks=st.lists(st.integers(1, 3), min_size=1, max_size=4), use_sdpa=st.booleans(), seed=st.integers(0, 99))
def test_property_cached_chunks_equal_one_causal_pass(H_kv, d_k, B, chunks, use_sdpa, seed):
    torch.manual_seed(seed)
    rope = tl.RotaryEmbedding(d_k, max_len=16)
    mha = tl.MultiHeadAttention(4 * d_k, 4, n_kv_heads=H_kv, rotary=rope, use_sdpa=use_sdpa).eval()
    x = torch.randn(B, sum(chunks), 4 * d_k)
    full = mha(x, is_causal=True)
    cache, parts, start = tl.KVCache(capacity=1), [], 0
    for n in chunks:
        parts.append(mha(x[:, start:start + n], cache=cache, is_causal=True))
        start += n
    assert cache.keys.shape == (B, H_kv, sum(chunks), d_k)
    assert max_diff(torch.cat(parts, 1), full) <= 1e-5


def test_rotary_of_another_head_width_is_refused_when_built():
    message = r"rotary rotates heads of width 16, but .* d_k = d_model / n_heads = 32 / 4 = 8"
    with pytest.raises(ValueError, match=message):
        tl.MultiHeadAttention(D, H, rotary=tl.RotaryEmbedding(16))
