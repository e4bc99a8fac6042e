import math

import pytest
import torch
import torch.nn.functional as F

import transformer_lib as tl


def test_next_token_loss_shifts_targets():
    logits = torch.randn(2, 5, 7)
    tokens = torch.randint(0, 7, (2, 5))
    expected = F.cross_entropy(logits[:, :-1].reshape(-1, 7), tokens[:, 1:].reshape(-1))
    assert torch.allclose(tl.next_token_loss(logits, tokens), expected)
    per_token = tl.per_token_loss(logits, tokens)
    assert per_token.shape == (2, 4) and torch.allclose(per_token.mean(), expected)


def test_uniform_logits_cost_log_vocab_and_ignore_index():
    logits = torch.zeros(1, 4, 10)
    targets = torch.tensor([[1, 2, -100, 3]])
    assert tl.token_cross_entropy(logits, targets).item() == pytest.approx(math.log(10))
    assert tl.per_token_loss(logits, targets, shift=False)[0, 2].item() == 0.0


def test_loss_bad_shapes():
    with pytest.raises(ValueError, match=r"logits \(B, T, V\) and targets \(B, T\) must agree on \(B, T\)"):
        tl.next_token_loss(torch.randn(2, 5, 7), torch.zeros(2, 4, dtype=torch.long))
    with pytest.raises(TypeError, match="targets must hold integer ids"):
        tl.token_cross_entropy(torch.randn(2, 5, 7), torch.zeros(2, 5))


def test_word_tokenizer_round_trip_with_chinese():
    tok = tl.WordTokenizer.from_sentences([tl.BOOK_SENTENCES["burger"], "robot must obey orders"])
    ids = tok.encode(["今天", "晚上", "吃", "汉堡"])
    assert tok.decode_tokens(ids) == ["今天", "晚上", "吃", "汉堡"]
    assert tok.decode(ids) == "今天 晚上 吃 汉堡"
    assert tok.encode("robot dances") == [tok.stoi["robot"], tok.unk_id]
    batch, lengths = tok.batch_encode(["robot must", "obey orders now"], add_special=True)
    assert batch.shape == (2, 5) and lengths.tolist() == [4, 5] and batch[0, 4] == tok.pad_id


def test_char_tokenizer():
    tok = tl.CharTokenizer.from_sentences(["今天晚上吃汉堡"])
    assert tok.tokenize("今天 晚上") == ["今", "天", "晚", "上"]
    assert tok.vocab_size == 4 + 7
    with pytest.raises(ValueError, match="id 99 is outside the vocabulary"):
        tok.decode([99])
