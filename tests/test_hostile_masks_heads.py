"""Masks, mask checks and head splitting attacked as a hostile user would (issue 10)."""
import numpy as np
import pytest
import torch

import transformer_lib as tl
from transformer_lib._checks import check_mask, check_positive_int, check_probability


@pytest.mark.parametrize("call,error,message", [
    (lambda: tl.causal_mask(3.0), TypeError, "T must be an int, got 3.0"),
    (lambda: tl.causal_mask(True), TypeError, "T must be an int, got True"),
    (lambda: tl.causal_mask(3, offset=1.5), ValueError, "offset must be a non-negative int, got 1.5"),
    (lambda: tl.padding_mask(None), TypeError, "lengths must be a 1-D list or tensor of integer lengths"),
    (lambda: tl.padding_mask("ab"), TypeError, "lengths must be a 1-D list or tensor of integer lengths"),
    (lambda: tl.padding_mask([True, False]), TypeError, "lengths must hold integers, got dtype torch.bool"),
    (lambda: tl.padding_mask([]), (TypeError, ValueError), "lengths"),
    (lambda: tl.padding_mask([2], max_len=2.0), TypeError, "max_len must be an int"),
    (lambda: tl.token_padding_mask(torch.zeros(2, 3), 0), TypeError,
     "tokens must hold integer token ids, got dtype torch.float32"),
    (lambda: tl.token_padding_mask(torch.zeros(2, 3, dtype=torch.long), None), TypeError,
     "pad_id must be an int token id, got None"),
    (lambda: tl.token_padding_mask(torch.zeros(2, 3, dtype=torch.long), 0.5), TypeError, "pad_id must be an int"),
    (lambda: tl.token_padding_mask([[1, 2]], 0), TypeError, "tokens must be a torch.Tensor"),
])
def test_bad_mask_arguments_are_named(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_numpy_integers_are_integers():
    assert torch.equal(tl.causal_mask(np.int64(3), offset=np.int32(2)), tl.causal_mask(3, offset=2))
    assert torch.equal(tl.padding_mask(np.array([2, 3])), tl.padding_mask([2, 3]))
    assert tl.padding_mask([2], max_len=np.int64(4)).shape == (1, 1, 1, 4)
    assert check_positive_int("n", np.int64(4)) == 4 and type(check_positive_int("n", np.int64(4))) is int


def test_zero_lengths_mask_everything():
    mask = tl.padding_mask([0, 2])
    assert mask.shape == (2, 1, 1, 2) and not mask[0].any() and mask[1].all()


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -0.0 - 1e-9, 1.0])
def test_probability_refuses_nan_inf_and_out_of_range(value):
    with pytest.raises(ValueError, match="dropout must be in"):
        check_probability("dropout", value)


def test_numpy_probability_is_a_number():
    assert check_probability("dropout", np.float32(0.25)) == 0.25


@pytest.mark.parametrize("mask,error,message", [
    (torch.ones(4, 4), TypeError, r"mask must have dtype torch.bool.*m == 0"),
    (torch.ones(4, 4, dtype=torch.int64), TypeError, r"mask must have dtype torch.bool.*m != 0"),
    ([[True]], TypeError, "mask must be a boolean torch.Tensor, got list"),
    (torch.ones(3, 4, dtype=torch.bool), ValueError, r"mask of shape \(3, 4\) does not broadcast.*\(2, 4, 4\)"),
    (torch.ones(2, 1, 4, 4, dtype=torch.bool), ValueError, "does not broadcast"),  # would add a dimension
    (torch.ones(4, 4, dtype=torch.bool, device="meta"), ValueError,
     "mask is on meta but the attention inputs are on cpu"),
])
def test_check_mask(mask, error, message):
    with pytest.raises(error, match=message):
        check_mask(mask, (2, 4, 4), device="cpu")


def test_default_padding_mask():
    tokens = torch.tensor([[5, 6, 0], [7, 0, 0]])
    assert torch.equal(tl.masks.default_padding_mask(tokens, 0), tl.token_padding_mask(tokens, 0))
    assert tl.masks.default_padding_mask(tokens, None) is None
    assert tl.masks.default_padding_mask(torch.randn(2, 3, 8), 0) is None  # vectors, not ids


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64, torch.int64])
def test_split_merge_round_trip_any_dtype_and_layout(dtype):
    x = torch.arange(2 * 8 * 6).reshape(2, 6, 8).to(dtype)
    for view in (x, x.transpose(0, 1).contiguous().transpose(0, 1)):  # contiguous and not
        heads = tl.split_heads(view, 4)
        assert heads.shape == (2, 4, 6, 2) and heads.dtype == dtype
        assert torch.equal(tl.merge_heads(heads), x)


@pytest.mark.parametrize("call,error,message", [
    (lambda: tl.split_heads(torch.randn(2, 3, 7), 2), ValueError, "d_model=7 must be divisible by n_heads=2"),
    (lambda: tl.split_heads(torch.randn(2, 3, 8), 0), ValueError, "n_heads must be a positive integer"),
    (lambda: tl.split_heads(torch.randn(2, 3, 8), 2.0), TypeError, "n_heads must be an int"),
    (lambda: tl.split_heads(torch.randn(3, 8), 2), ValueError, r"x must have 3 dimensions, got shape \(3, 8\)"),
    (lambda: tl.split_heads(np.zeros((2, 3, 8)), 2), TypeError, "x must be a torch.Tensor, got ndarray"),
    (lambda: tl.merge_heads(torch.randn(2, 3, 8)), ValueError, "x must have 4 dimensions"),
])
def test_bad_head_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_empty_head_tensors():
    assert tl.split_heads(torch.randn(0, 3, 8), 2).shape == (0, 2, 3, 4)
    assert tl.merge_heads(torch.randn(2, 2, 0, 4)).shape == (2, 0, 8)


@pytest.mark.parametrize("legend", [{"B": "2"}, {"B": 2.0}, [("B", 2)], {2: 2}])
def test_trace_shapes_refuses_a_bad_legend(legend):
    from transformer_lib.shapes import trace_shapes

    with pytest.raises(TypeError, match="legend must map dimension names to int sizes"):
        trace_shapes(torch.nn.Linear(2, 2), torch.zeros(1, 2), legend=legend)


def test_trace_shapes_removes_its_hooks_when_the_model_raises():
    from transformer_lib.shapes import trace_shapes

    model = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Linear(4, 1))
    with pytest.raises(RuntimeError):
        trace_shapes(model, torch.zeros(1, 2))
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())
