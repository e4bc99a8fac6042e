import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import transformer_lib as tl


def test_split_is_a_reshape_into_consecutive_slices():
    x = torch.arange(2 * 3 * 8.0).reshape(2, 3, 8)  # (B, T, D)
    heads = tl.split_heads(x, 4)
    assert heads.shape == (2, 4, 3, 2)  # (B, H, T, d_k)
    # head h of token t holds features [h*d_k, (h+1)*d_k) of that token
    assert torch.equal(heads[1, 2, 0], x[1, 0, 4:6])


def test_gpt2_small_split():
    assert tl.split_heads(torch.randn(1, 10, 768), 12).shape == (1, 12, 10, 64)


@settings(max_examples=50, deadline=None)
@given(B=st.integers(1, 3), T=st.integers(1, 6), H=st.integers(1, 6), d_k=st.integers(1, 6))
def test_merge_inverts_split(B, T, H, d_k):
    x = torch.randn(B, T, H * d_k)
    assert torch.equal(tl.merge_heads(tl.split_heads(x, H)), x)
    y = torch.randn(B, H, T, d_k)
    assert torch.equal(tl.split_heads(tl.merge_heads(y), H), y)


def test_bad_split():
    message = r"d_model=10 must be divisible by n_heads=3; n_heads values that divide 10: \[1, 2, 5, 10\]"
    with pytest.raises(ValueError, match=message):
        tl.split_heads(torch.randn(1, 2, 10), 3)
    with pytest.raises(ValueError, match="x must have 3 dimensions"):
        tl.split_heads(torch.randn(2, 10), 2)
    with pytest.raises(ValueError, match="n_heads must be a positive integer, got 0"):
        tl.split_heads(torch.randn(1, 2, 10), 0)
    with pytest.raises(ValueError, match="x must have 4 dimensions"):
        tl.merge_heads(torch.randn(2, 3, 4))
