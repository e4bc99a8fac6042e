"""Chapter 9 (masked self-attention): the notebook's hand-built checks, re-run against the library."""
import pytest
import torch

import transformer_lib as tl
from transformer_lib.exercises import ch09


@pytest.fixture
def robot_qkv():
    torch.manual_seed(0)
    x = torch.randn(1, 4, 8)
    w_q, w_k, w_v = (torch.nn.Linear(8, 8, bias=False) for _ in range(3))
    with torch.no_grad():
        return w_q(x), w_k(x), w_v(x)


def test_causal_mask_is_lower_triangular():
    mask = tl.causal_mask(4)
    assert torch.equal(mask, torch.tril(torch.ones(4, 4, dtype=torch.bool)))
    assert int(tl.causal_mask(10).sum()) == 55


def test_minus_inf_and_minus_1e9_give_identical_softmax(robot_qkv):
    q, k, v = robot_qkv
    mask = tl.causal_mask(4)
    steps = tl.attention_steps(q, k, v, mask=mask)
    w_inf = torch.softmax(steps.scaled.masked_fill(~mask, float("-inf")), dim=-1)
    w_1e9 = torch.softmax(steps.scaled.masked_fill(~mask, -1e9), dim=-1)
    assert torch.equal(w_inf, w_1e9)
    torch.testing.assert_close(w_inf, steps.weights)
    assert torch.exp(torch.tensor(-1e9)).item() == 0.0
    # Zeroed scores (the wrong way) leak weight to future keys.
    w_zero = torch.softmax(steps.scaled.masked_fill(~mask, 0.0), dim=-1)
    assert w_zero[0].masked_fill(mask, 0.0).sum() > 0


def test_fully_masked_row_inf_nan_1e9_uniform_library_zero(robot_qkv):
    q, k, v = robot_qkv
    assert torch.isnan(torch.softmax(torch.full((1, 3), float("-inf")), dim=-1)).all()
    torch.testing.assert_close(torch.softmax(torch.full((1, 3), -1e9), dim=-1), torch.full((1, 3), 1 / 3))
    _, w = tl.scaled_dot_product_attention(q[0, :1], k[0, :3], v[0, :3], mask=torch.zeros(1, 3, dtype=torch.bool))
    assert torch.equal(w, torch.zeros(1, 3))
    assert torch.tensor(-1e9, dtype=torch.float16).item() == float("-inf")


def test_rows_equal_growing_prefixes(robot_qkv):
    q, k, v = robot_qkv
    steps = tl.attention_steps(q, k, v, mask=tl.causal_mask(4))
    for t in range(4):
        prefix = tl.attention_steps(q[:, :t + 1], k[:, :t + 1], v[:, :t + 1])
        torch.testing.assert_close(prefix.output[0, -1], steps.output[0, t])
        torch.testing.assert_close(prefix.weights[0, -1], steps.weights[0, t, :t + 1])
        assert steps.weights[0, t, t + 1:].eq(0).all()


def test_padding_changes_nothing_for_real_tokens():
    sentences = [tl.BOOK_SENTENCES["cat"], tl.BOOK_SENTENCES["robot"], ["robot", "must"]]
    tok = tl.WordTokenizer.from_sentences(sentences)
    S = 6
    ids = torch.full((3, S), tok.pad_id)
    for b, s in enumerate(sentences):
        ids[b, :len(s)] = torch.tensor(tok.encode(s))
    lengths = torch.tensor([6, 4, 2])
    mask = tl.padding_mask(lengths)
    assert mask.shape == (3, 1, 1, S)
    assert torch.equal(mask, tl.token_padding_mask(ids, tok.pad_id))
    torch.manual_seed(0)
    emb = torch.nn.Embedding(len(tok), 16)
    mha = tl.MultiHeadAttention(16, 1).eval()
    with torch.no_grad():
        out, w = mha(emb(ids), mask=mask, return_weights=True)
        for b, n in enumerate(lengths.tolist()):
            assert w[b, 0, :, n:].eq(0).all()
            torch.testing.assert_close(out[b, :n], mha(emb(ids[b:b + 1, :n]))[0])
    both = tl.causal_mask(S) & mask
    assert both.shape == (3, 1, S, S)
    assert int(both[1, 0].sum()) == 1 + 2 + 3 + 4 + 4 + 4


def test_exercise_1(capsys):
    assert ch09.check_exercise_1(55)
    assert not ch09.check_exercise_1(None)
    assert not ch09.check_exercise_1(45)
    assert not ch09.check_exercise_1(100)
    assert not ch09.check_exercise_1("many")
    out = capsys.readouterr().out
    assert "diagonal" in out and "Replace None" in out


def test_exercise_2(capsys):
    right = tl.causal_mask(5) & tl.padding_mask([3, 5])
    assert ch09.check_exercise_2(right)
    assert not ch09.check_exercise_2(None)
    assert not ch09.check_exercise_2(tl.causal_mask(5))
    assert not ch09.check_exercise_2(tl.padding_mask([3, 5]))
    assert not ch09.check_exercise_2(~right)
    assert not ch09.check_exercise_2(right.int())
    assert not ch09.check_exercise_2(tl.causal_mask(5) & tl.padding_mask([4, 5]))
    wrong_causal = right.clone()
    wrong_causal[1, 0, 0, 4] = True
    assert not ch09.check_exercise_2(wrong_causal)
    out = capsys.readouterr().out
    assert "inverted" in out and "causal part only" in out and "later key" in out
