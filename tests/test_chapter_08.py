"""Chapter 8 (multi-head attention): the hand-built computations of the notebook equal the library's."""
import pytest
import torch

import transformer_lib as tl
from transformer_lib.exercises import ch08


def sharp_mha(d_model, n_heads, seed=0):
    torch.manual_seed(seed)
    mha = tl.MultiHeadAttention(d_model, n_heads, bias=False)
    for linear in (mha.w_q, mha.w_k, mha.w_v, mha.w_o):
        torch.nn.init.normal_(linear.weight, std=(2.0 / d_model) ** 0.5)
    return mha.eval()


def test_split_is_a_view_of_consecutive_column_blocks():
    torch.manual_seed(0)
    x = torch.randn(1, 4, 200)
    heads = tl.split_heads(x, 2)
    assert heads.shape == (1, 2, 4, 100)
    assert torch.equal(heads[0, 0], x[0, :, :100]) and torch.equal(heads[0, 1], x[0, :, 100:])
    assert heads.untyped_storage().data_ptr() == x.untyped_storage().data_ptr()
    assert torch.equal(tl.merge_heads(heads), x)


def test_gpt2_small_shapes():
    assert tl.split_heads(torch.zeros(2, 10, 768), 12).shape == (2, 12, 10, 64)


def test_hand_built_multi_head_equals_module():
    mha = sharp_mha(64, 4)
    torch.manual_seed(1)
    x = torch.randn(1, 11, 64)
    with torch.no_grad():
        out, weights = mha(x, return_weights=True)
        q = tl.split_heads(mha.w_q(x), 4)
        k = tl.split_heads(mha.w_k(x), 4)
        v = tl.split_heads(mha.w_v(x), 4)
        w = torch.softmax(q @ k.transpose(-2, -1) / 16 ** 0.5, dim=-1)
        concat = tl.merge_heads(w @ v)
        by_hand = mha.w_o(concat)
    torch.testing.assert_close(by_hand, out)
    torch.testing.assert_close(w, weights)
    # The heads really differ (the notebook's point): their argmax keys disagree somewhere.
    top = weights[0].argmax(-1)
    assert not (top == top[0]).all()


def test_concat_then_project_equals_sum_of_per_head_projections():
    mha = sharp_mha(64, 4)
    torch.manual_seed(2)
    heads_out = torch.randn(1, 4, 11, 16)
    W_O = mha.w_o.weight.detach().T
    concat = tl.merge_heads(heads_out)
    summed = sum(heads_out[:, h] @ W_O[h * 16:(h + 1) * 16] for h in range(4))
    torch.testing.assert_close(summed, concat @ W_O, atol=1e-5, rtol=1e-5)
    # Silencing one head changes only its K columns before W_O, all D columns after.
    silenced = heads_out.clone()
    silenced[:, 1] = 0
    with torch.no_grad():
        assert (tl.merge_heads(silenced) != concat).any(dim=1).sum() == 16
        assert (mha.w_o(tl.merge_heads(silenced)) != mha.w_o(concat)).any(dim=1).sum() == 64


@pytest.mark.parametrize("n_heads", [1, 2, 3, 4, 6, 12])
def test_parameter_count_does_not_depend_on_heads(n_heads):
    m = tl.MultiHeadAttention(768, n_heads)
    assert sum(p.numel() for p in m.parameters()) == 4 * (768 * 768 + 768)


def test_non_divisor_heads_are_refused_with_the_allowed_values():
    with pytest.raises(ValueError, match=r"\[1, 2, 4, 5, 8, 10, 20, 25, 40, 50, 100, 200\]"):
        tl.MultiHeadAttention(200, 3)


@pytest.mark.parametrize("n_heads", [1, 4, 64])
def test_loop_over_heads_equals_all_heads_at_once(n_heads):
    torch.manual_seed(0)
    q, k, v = (tl.split_heads(torch.randn(2, 8, 128), n_heads) for _ in range(3))
    loop = torch.stack([tl.scaled_dot_product_attention(q[:, h], k[:, h], v[:, h])[0]
                        for h in range(n_heads)], dim=1)
    once, _ = tl.scaled_dot_product_attention(q, k, v)
    torch.testing.assert_close(loop, once)


def test_exercise_1(capsys):
    assert ch08.check_exercise_1((1, 3, 3, 8))
    assert not ch08.check_exercise_1(None)
    assert not ch08.check_exercise_1((1, 3, 8, 3))
    assert not ch08.check_exercise_1((0, 3, 3, 8))
    assert not ch08.check_exercise_1("abc")
    out = capsys.readouterr().out
    assert "Correct!" in out and "Not yet." in out and "Replace None" in out
    x = torch.arange(2 * 5 * 768).reshape(2, 5, 768)
    assert tl.split_heads(x, 12)[1, 3, 3, 8] == x[1, 3, 200]


def test_exercise_2(capsys):
    assert ch08.check_exercise_2(sum(p.numel() for p in tl.MultiHeadAttention(512, 8).parameters()))
    assert not ch08.check_exercise_2(None)
    assert not ch08.check_exercise_2(4 * 512 * 512)
    assert "biases" in capsys.readouterr().out
    assert not ch08.check_exercise_2(12345)
