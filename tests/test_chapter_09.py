"""Chapter 9 (masked self-attention): the library functions the chapter relies on, and its checkers."""
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


def test_fully_masked_row_inf_nan_1e9_uniform_library_zero(robot_qkv):
    q, k, v = robot_qkv
    assert torch.isnan(torch.softmax(torch.full((1, 3), float("-inf")), dim=-1)).all()
    torch.testing.assert_close(torch.softmax(torch.full((1, 3), -1e9), dim=-1), torch.full((1, 3), 1 / 3))
    _, w = tl.scaled_dot_product_attention(q[0, :1], k[0, :3], v[0, :3], mask=torch.zeros(1, 3, dtype=torch.bool))
    assert torch.equal(w, torch.zeros(1, 3))
    assert torch.tensor(-1e9, dtype=torch.float16).item() == float("-inf")


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


def test_exercise_3_implement_causal_mask(capsys):
    def right(T):
        positions = torch.arange(T)
        return positions[None, :] <= positions[:, None]

    assert ch09.check_exercise_3(right)
    assert not ch09.check_exercise_3(None)
    assert not ch09.check_exercise_3(lambda T: None)
    assert not ch09.check_exercise_3(lambda T: right(T).int())
    assert not ch09.check_exercise_3(lambda T: right(T).T)  # rows must be queries
    assert not ch09.check_exercise_3(lambda T: torch.tril(torch.ones(T, T, dtype=torch.bool), -1))
    out = capsys.readouterr().out
    assert "boolean" in out and "return" in out and "Replace None" in out
