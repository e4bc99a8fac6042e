"""The fast paths added for the benchmarks (issue 7) give the same results as before.

* ``scaled_dot_product_attention`` computes the stages of ``attention_steps`` in place:
  the output and weights must be bit-for-bit the same.
* ``MultiHeadAttention(use_sdpa=True)`` hands a plain causal mask to the fused kernel
  as ``is_causal=True``; the result must equal the explicit path.
"""
import pytest
import torch
import torch.nn.functional as F

import transformer_lib as tl
from transformer_lib import multi_head


def _qkv(lead=(2, 3), T=5, S=5, K=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    return tuple(torch.randn(*lead, n, K, generator=g) for n in (T, S, S))


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
    q, k, v = (t.double().requires_grad_() for t in _qkv(lead=(2,), T=3, S=3, K=4))
    mask = tl.causal_mask(3)
    assert torch.autograd.gradcheck(lambda q, k, v: tl.scaled_dot_product_attention(q, k, v, mask)[0], (q, k, v))


def test_is_causal_detects_only_the_plain_causal_mask():
    assert multi_head._is_causal(tl.causal_mask(6), 6, 6)
    assert not multi_head._is_causal(None, 6, 6)
    assert not multi_head._is_causal(tl.causal_mask(1), 1, 1)  # nothing to mask
    assert not multi_head._is_causal(tl.causal_mask(4, offset=2), 4, 6)  # with cached keys
    assert not multi_head._is_causal(torch.ones(6, 6, dtype=torch.bool), 6, 6)
    assert not multi_head._is_causal(tl.causal_mask(6) & tl.padding_mask([6, 4]), 6, 6)


def test_sdpa_causal_fast_path_is_taken_and_matches_explicit(monkeypatch):
    torch.manual_seed(0)
    explicit = tl.MultiHeadAttention(32, 4).eval()
    fused = tl.MultiHeadAttention(32, 4, use_sdpa=True).eval()
    fused.load_state_dict(explicit.state_dict())
    x = torch.randn(2, 7, 32)
    calls = []
    real = F.scaled_dot_product_attention

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(multi_head.F, "scaled_dot_product_attention", spy)
    mask = tl.causal_mask(7)
    got = fused(x, mask=mask)
    assert calls and calls[-1].get("is_causal") is True and calls[-1].get("attn_mask") is None
    assert torch.allclose(got, explicit(x, mask=mask), atol=1e-5)
    padded = mask & tl.padding_mask([7, 3])  # not plain causal: the mask is passed on
    got = fused(x, mask=padded)
    assert calls[-1].get("attn_mask") is not None and not calls[-1].get("is_causal", False)
    assert torch.allclose(got, explicit(x, mask=padded), atol=1e-5)


def test_sdpa_fully_masked_rows_still_zero():
    torch.manual_seed(0)
    fused = tl.MultiHeadAttention(16, 2, use_sdpa=True).eval()
    mask = torch.ones(3, 3, dtype=torch.bool)
    mask[0] = False
    out = fused(torch.randn(1, 3, 16), mask=mask)
    # the output of a query with no keys is w_o applied to zeros: the bias
    assert torch.allclose(out[0, 0], fused.w_o.bias)
    assert not torch.isnan(out).any()
