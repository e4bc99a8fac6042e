import pytest
import torch

import transformer_lib as tl


def test_causal_mask_is_lower_triangle(device):
    mask = tl.causal_mask(5, device=device)
    assert mask.dtype == torch.bool and mask.shape == (5, 5) and mask.device.type == device.type
    assert torch.equal(mask, torch.tril(torch.ones(5, 5, dtype=torch.bool, device=device)))


def test_causal_mask_with_offset_lets_new_queries_see_the_cache():
    mask = tl.causal_mask(2, offset=3)  # queries at positions 3, 4; keys 0..4
    assert mask.shape == (2, 5)
    assert mask.tolist() == [[True, True, True, True, False], [True, True, True, True, True]]
    assert torch.equal(tl.causal_mask(4, offset=3), tl.causal_mask(7)[3:])


def test_padding_mask_marks_real_tokens(device):
    mask = tl.padding_mask(torch.tensor([3, 1], device=device), max_len=4)
    assert mask.shape == (2, 1, 1, 4) and mask.dtype == torch.bool
    assert mask[:, 0, 0].tolist() == [[True, True, True, False], [True, False, False, False]]
    assert tl.padding_mask([2, 4]).shape == (2, 1, 1, 4)  # max_len defaults to the longest


def test_token_padding_mask():
    tokens = torch.tensor([[5, 6, 0], [7, 0, 0]])
    assert tl.token_padding_mask(tokens, pad_id=0)[:, 0, 0].tolist() == [[True, True, False], [True, False, False]]


def test_masks_combine_by_and_and_broadcast_to_scores():
    combined = tl.causal_mask(4) & tl.padding_mask([4, 2])  # (4, 4) & (2, 1, 1, 4)
    assert combined.shape == (2, 1, 4, 4)
    assert combined[1, 0].tolist()[3] == [True, True, False, False]


@pytest.mark.parametrize("call, message", [
    (lambda: tl.causal_mask(0), "T must be a positive integer, got 0"),
    (lambda: tl.causal_mask(3, offset=-1), "offset must be a non-negative int"),
    (lambda: tl.padding_mask(torch.tensor([[1, 2]])), "lengths must have 1 dimensions"),
    (lambda: tl.padding_mask(torch.tensor([1.0, 2.0])), "lengths must hold integers"),
    (lambda: tl.padding_mask(torch.tensor([5]), max_len=3), "max_len=3 is shorter than the longest length 5"),
    (lambda: tl.padding_mask(torch.tensor([-1])), "lengths must be >= 0"),
])
def test_bad_mask_arguments(call, message):
    with pytest.raises((ValueError, TypeError), match=message.replace("(", r"\(").replace(")", r"\)")):
        call()
