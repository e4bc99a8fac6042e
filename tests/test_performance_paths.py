"""The fast paths added for the benchmarks (issue 7) give the same results as before.

* ``scaled_dot_product_attention`` returns what ``attention_steps`` computes (the math
  is written once): the output and weights must be bit-for-bit the same.
* ``MultiHeadAttention(use_sdpa=True, ...)(x, is_causal=True)`` hands causality to the fused
  kernel as ``is_causal=True`` (or builds the offset mask with a cache); the result must
  equal the explicit path.
"""
import pytest
import torch
import torch.nn.functional as F

import transformer_lib as tl
from transformer_lib import multi_head


def _qkv(lead=(2, 3), T=5, S=5, d_k=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    return tuple(torch.randn(*lead, n, d_k, generator=g) for n in (T, S, S))


def _masks(T, S):
    lengths = torch.tensor([S, S - 2])
    fully = torch.ones(T, S, dtype=torch.bool)
    fully[1] = False  # query 1 may attend to nothing
    return {
        "none": None,
        "causal": tl.causal_mask(T, offset=S - T),
        "padding": tl.padding_mask(lengths)[:, :, :, :S],
        "fully masked row": fully,
    }


@pytest.mark.parametrize("kind", ["none", "causal", "padding", "fully masked row"])
def test_in_place_path_equals_attention_steps_exactly(kind):
    q, k, v = _qkv(T=4, S=6)
    mask = _masks(4, 6)[kind]
    out, weights = tl.scaled_dot_product_attention(q, k, v, mask)
    steps = tl.attention_steps(q, k, v, mask)
    assert torch.equal(out, steps.output)
    assert torch.equal(weights, steps.weights)
    assert not torch.isnan(out).any()


def test_values_with_extra_leading_dims_still_work():
    q, k, _ = _qkv(lead=(3,), T=4, S=4)
    v = torch.randn(2, 3, 4, 8)  # v adds a batch dimension that q and k lack
    mask = tl.causal_mask(4)
    out, weights = tl.scaled_dot_product_attention(q, k, v, mask)
    steps = tl.attention_steps(q, k, v, mask)
    assert out.shape == (2, 3, 4, 8)
    assert torch.equal(out, steps.output) and torch.equal(weights, steps.weights)


def test_in_place_path_keeps_gradients():
    q, k, v = (t.double().requires_grad_() for t in _qkv(lead=(2,), T=3, S=3, d_k=4))
    mask = tl.causal_mask(3)
    assert torch.autograd.gradcheck(lambda q, k, v: tl.scaled_dot_product_attention(q, k, v, mask)[0], (q, k, v))


def _explicit_and_fused():
    """Two attentions with the same weights, explicit and fused, and an input (2, 7, 32)."""
    torch.manual_seed(0)
    explicit = tl.MultiHeadAttention(32, 4).eval()
    fused = tl.MultiHeadAttention(32, 4, use_sdpa=True).eval()
    fused.load_state_dict(explicit.state_dict())
    return explicit, fused, torch.randn(2, 7, 32)


def _spy_sdpa(monkeypatch):
    calls = []
    real = F.scaled_dot_product_attention

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(multi_head.F, "scaled_dot_product_attention", spy)
    return calls


def test_sdpa_causal_fast_path_is_taken_and_matches_explicit(monkeypatch):
    explicit, fused, x = _explicit_and_fused()
    calls = _spy_sdpa(monkeypatch)
    got = fused(x, is_causal=True)  # the caller says "causal": nothing is built or compared
    assert calls and calls[-1].get("is_causal") is True and calls[-1].get("attn_mask") is None
    assert torch.allclose(got, explicit(x, mask=tl.causal_mask(7)), atol=1e-5)
    assert torch.allclose(got, explicit(x, is_causal=True), atol=1e-5)
    # A causal mask passed as a mask is used as a mask: no per-call detection (no host sync).
    got = fused(x, mask=tl.causal_mask(7))
    assert calls[-1].get("attn_mask") is not None and not calls[-1].get("is_causal", False)
    padding = tl.padding_mask([7, 3])  # causal and padding: the mask is combined and passed on
    got = fused(x, mask=padding, is_causal=True)
    assert calls[-1].get("attn_mask") is not None and not calls[-1].get("is_causal", False)
    assert torch.allclose(got, explicit(x, mask=tl.causal_mask(7) & padding), atol=1e-5)


def test_sdpa_causal_with_a_cache_uses_the_offset(monkeypatch):
    explicit, fused, x = _explicit_and_fused()
    full = explicit(x, is_causal=True)
    cache = tl.KVCache()
    calls = _spy_sdpa(monkeypatch)
    first = fused(x[:, :3], cache=cache, is_causal=True)
    second = fused(x[:, 3:6], cache=cache, is_causal=True)  # T=3 queries over S=6 keys: a mask
    assert calls[-1].get("attn_mask").shape == (3, 6)
    third = fused(x[:, 6:], cache=cache, is_causal=True)  # one query sees every key: no mask
    assert calls[-1].get("attn_mask") is None and not calls[-1].get("is_causal")
    assert torch.allclose(torch.cat([first, second, third], 1), full, atol=1e-5)


def test_sdpa_fully_masked_rows_still_zero():
    torch.manual_seed(0)
    fused = tl.MultiHeadAttention(16, 2, use_sdpa=True).eval()
    mask = torch.ones(3, 3, dtype=torch.bool)
    mask[0] = False
    out = fused(torch.randn(1, 3, 16), mask=mask)
    # the output of a query with no keys is w_o applied to zeros: the bias
    assert torch.allclose(out[0, 0], fused.w_o.bias)
    assert not torch.isnan(out).any()
