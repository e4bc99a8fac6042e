"""KVCache misuse: a clear error or a correct answer, never silently wrong keys."""
import pytest
import torch

import transformer_lib as tl


def _kv(B=1, H_kv=2, T=3, d_k=4, dtype=torch.float32):
    return torch.randn(B, H_kv, T, d_k, dtype=dtype), torch.randn(B, H_kv, T, d_k, dtype=dtype)


def test_append_returns_everything_and_grows():
    cache = tl.KVCache(capacity=2)
    k1, v1 = _kv(T=3)
    k2, v2 = _kv(T=2)
    cache.append(k1, v1)
    keys, values = cache.append(k2, v2)
    assert len(cache) == 5 and keys.shape == (1, 2, 5, 4)
    assert torch.equal(keys, torch.cat([k1, k2], 2)) and torch.equal(values, torch.cat([v1, v2], 2))


def test_reset_accepts_a_new_shape_without_broadcasting():
    cache = tl.KVCache()
    cache.append(*_kv(H_kv=4, d_k=8))
    cache.reset()
    k, v = _kv(H_kv=1, d_k=8)  # one head instead of four: must not be broadcast into the old buffer
    keys, values = cache.append(k, v)
    assert keys.shape == (1, 1, 3, 8) and torch.equal(keys, k) and torch.equal(values, v)
    cache.reset()
    k, v = _kv(B=3, H_kv=2, d_k=2, dtype=torch.float64)  # any batch, width and dtype after reset
    keys, _ = cache.append(k, v)
    assert torch.equal(keys, k) and keys.dtype == torch.float64


def test_views_taken_before_reset_stay_valid():
    cache = tl.KVCache()
    k, v = _kv()
    keys, values = cache.append(k, v)
    cache.reset()
    cache.append(*_kv())
    assert torch.equal(keys, k) and torch.equal(values, v)  # the old sequence is not overwritten


@pytest.mark.parametrize("bad_v, message", [
    (torch.randn(1, 2, 3, 5), r"v of shape \(1, 2, 3, 5\) .* does not match the cached values"),
    (torch.randn(1, 2, 3, 4, dtype=torch.float64), "must agree on dtype and device"),
    (torch.randn(1, 3, 3, 4), r"must agree on \(B, H_kv, T\)"),
])
def test_append_checks_v_too(bad_v, message):
    cache = tl.KVCache()
    cache.append(*_kv())
    before_keys = cache.keys.clone()
    k = torch.randn(1, 2, 3, 4)
    with pytest.raises(ValueError, match=message):
        cache.append(k, bad_v)
    assert len(cache) == 3 and torch.equal(cache.keys, before_keys)  # unchanged


def test_append_checks_k_against_the_cache():
    cache = tl.KVCache()
    cache.append(*_kv())
    with pytest.raises(ValueError, match="call reset"):
        cache.append(*_kv(H_kv=1))
    with pytest.raises(ValueError, match="call reset"):
        cache.append(*_kv(dtype=torch.float64))
    with pytest.raises(ValueError, match="k must have 4 dimensions"):
        cache.append(torch.randn(2, 3, 4), torch.randn(2, 3, 4))
    with pytest.raises(ValueError, match="capacity must be a positive int"):
        tl.KVCache(capacity=0)


def test_a_failed_attention_call_leaves_the_cache_unchanged():
    torch.manual_seed(0)
    mha = tl.MultiHeadAttention(16, 4, n_kv_heads=2).eval()
    x = torch.randn(1, 6, 16)
    full = mha(x, is_causal=True)
    cache = tl.KVCache()
    first = mha(x[:, :3], cache=cache, is_causal=True)
    with pytest.raises(ValueError, match="does not broadcast"):
        mha(x[:, 3:], mask=tl.causal_mask(3), cache=cache)  # forgot the offset of the cached keys
    assert len(cache) == 3
    second = mha(x[:, 3:], mask=tl.causal_mask(3, offset=3), cache=cache)  # the corrected retry
    assert len(cache) == 6
    assert torch.allclose(torch.cat([first, second], 1), full, atol=1e-6)


def test_gpt_refuses_inconsistent_caches():
    model = tl.GPT(tl.TransformerConfig(vocab_size=20, d_model=16, n_heads=2, n_layers=2, max_len=16))
    cache = model.new_cache()
    model(torch.randint(0, 20, (1, 3)), cache=cache)
    cache[1].reset()
    with pytest.raises(ValueError, match=r"different numbers of positions \[0, 3\]"):
        model(torch.randint(0, 20, (1, 1)), cache=cache)
    with pytest.raises(ValueError, match="one KVCache per block"):
        model(torch.randint(0, 20, (1, 1)), cache=cache[:1])
    with pytest.raises(TypeError, match="must hold KVCache objects"):
        model(torch.randint(0, 20, (1, 1)), cache=[None, None])


def test_views_stay_valid_across_appends_and_growth():
    cache = tl.KVCache(capacity=2)
    k, v = _kv(T=2)
    keys, values = cache.append(k, v)  # fills the storage exactly
    cache.append(*_kv(T=1))  # grows: new storage
    cache.append(*_kv(T=1))  # writes after the old positions
    assert torch.equal(keys, k) and torch.equal(values, v)


def test_nbytes_counts_the_cached_positions():
    cache = tl.KVCache(capacity=64)
    assert cache.nbytes == 0
    cache.append(*_kv(B=2, H_kv=3, T=5, d_k=4))
    assert cache.nbytes == 2 * (2 * 3 * 5 * 4) * 4  # keys and values, float32


def test_an_empty_append_does_not_fix_the_shape():
    cache = tl.KVCache()
    keys, values = cache.append(*_kv(B=1, T=0))
    assert keys.shape == (1, 2, 0, 4) and len(cache) == 0 and cache.keys is None
    k, v = _kv(B=3, H_kv=1, T=2, d_k=6, dtype=torch.float64)  # still empty: any shape
    keys, values = cache.append(k, v)
    assert torch.equal(keys, k) and torch.equal(values, v)


def test_a_mismatch_names_the_width_of_keys_or_values():
    cache = tl.KVCache()
    cache.append(torch.randn(1, 2, 3, 4), torch.randn(1, 2, 3, 5))
    with pytest.raises(ValueError, match=r"cached values: \(B, H_kv, d_v\) = \(1, 2, 5\)"):
        cache.append(torch.randn(1, 2, 1, 4), torch.randn(1, 2, 1, 6))
    with pytest.raises(ValueError, match=r"cached keys: \(B, H_kv, d_k\)"):
        cache.append(torch.randn(1, 2, 1, 3), torch.randn(1, 2, 1, 5))
    assert len(cache) == 3
