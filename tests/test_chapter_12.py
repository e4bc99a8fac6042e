"""Chapter 12, "The decoder and the output": the library parts it uses, and its exercise checkers.

(The chapter asserts itself that what it builds by hand equals the library; nbval runs it.)
"""
import math

import pytest
import torch
import torch.nn.functional as F

import transformer_lib as tl
from transformer_lib.exercises import ch12
from transformer_lib.tasks import toy_translation_pairs


@pytest.fixture
def translator():
    pairs = toy_translation_pairs()
    zh = tl.WordTokenizer.from_sentences([z for z, _ in pairs])
    en = tl.WordTokenizer.from_sentences([e for _, e in pairs])
    cfg = tl.TransformerConfig(vocab_size=en.vocab_size, src_vocab_size=zh.vocab_size, tgt_vocab_size=en.vocab_size,
                               d_model=32, n_heads=2, n_layers=1, d_ff=64, max_len=8, positional="learned",
                               norm_first=True, pad_id=en.pad_id)
    torch.manual_seed(0)
    model = tl.Transformer(cfg).eval()
    z, e = pairs[1]
    src = torch.tensor([zh.encode(z)])
    tgt = torch.tensor([en.encode(e, add_special=True)])
    return model, src, tgt[:, :-1], tgt[:, 1:]


def test_decoder_layer_weight_shapes_and_mask():
    torch.manual_seed(0)
    layer = tl.DecoderLayer(d_model=16, n_heads=2, d_ff=32)
    _, self_w, cross_w = layer(torch.randn(1, 6, 16), torch.randn(1, 5, 16), self_mask=tl.causal_mask(6),
                               return_weights=True)
    assert self_w.shape == (1, 2, 6, 6) and cross_w.shape == (1, 2, 6, 5)
    assert self_w.triu(diagonal=1).abs().max() == 0
    torch.testing.assert_close(cross_w.sum(-1), torch.ones(1, 2, 6))


def test_transformer_cross_weights_are_target_over_source(translator):
    model, src, tgt_in, _ = translator
    _, weights = model(src, tgt_in, return_weights=True)
    cross = weights["decoder_cross"][0]
    assert cross.shape == (1, 2, tgt_in.shape[1], src.shape[1])


def test_digit_classifier_shapes():
    cfg = tl.TransformerConfig(vocab_size=1, d_model=32, n_heads=4, n_layers=2, d_ff=64, max_len=8)
    model = tl.SequenceClassifier(cfg, n_classes=10, input_dim=8)
    logits, weights = model(torch.rand(3, 8, 8), return_weights=True)
    assert logits.shape == (3, 10)
    assert len(weights) == 2 and weights[0].shape == (3, 4, 8, 8)
    loss = F.cross_entropy(logits, torch.tensor([0, 1, 2]))
    assert loss.item() > 0


def test_exercise_1(capsys):
    assert ch12.check_exercise_1(-math.log(0.25))
    assert not ch12.check_exercise_1(None)
    assert "Replace None" in capsys.readouterr().out
    assert not ch12.check_exercise_1(math.log(0.25))
    assert "MINUS" in capsys.readouterr().out
    assert not ch12.check_exercise_1(0.25)
    assert "Not yet" in capsys.readouterr().out


def test_exercise_2(capsys):
    assert ch12.check_exercise_2((3, 2, 6, 5))
    assert ch12.check_exercise_2(torch.Size([3, 2, 6, 5]))
    assert not ch12.check_exercise_2(None)
    assert not ch12.check_exercise_2((3, 2, 5, 6))
    assert "queries" in capsys.readouterr().out
    assert not ch12.check_exercise_2((3, 6, 5))
    assert "4 dimensions" in capsys.readouterr().out


def test_exercise_3(capsys):
    def right(logits, targets):
        return -torch.log_softmax(logits, -1).gather(-1, targets[..., None])[..., 0]

    assert ch12.check_exercise_3(right)
    assert "Correct" in capsys.readouterr().out
    assert not ch12.check_exercise_3(None)
    assert "Replace None" in capsys.readouterr().out
    assert not ch12.check_exercise_3(lambda logits, targets: -right(logits, targets))  # sign
    assert "log_softmax" in capsys.readouterr().out
    assert not ch12.check_exercise_3(lambda logits, targets: right(logits, targets).mean())
    assert "shape" in capsys.readouterr().out
