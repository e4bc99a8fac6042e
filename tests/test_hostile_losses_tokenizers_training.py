"""Losses, toy tokenizers and set_seed/train attacked as a hostile user would (issue 10)."""
import math

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import transformer_lib as tl
from transformer_lib.training import set_seed, train

LOSSES = [tl.next_token_loss, tl.token_cross_entropy, tl.per_token_loss]


# ---- losses -------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8])
@pytest.mark.parametrize("fn", LOSSES)
def test_any_integer_target_dtype_is_accepted(fn, dtype):
    logits = torch.randn(2, 5, 7)
    targets = torch.randint(0, 7, (2, 5))
    assert torch.equal(fn(logits, targets.to(dtype)), fn(logits, targets))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bool, torch.complex64])
@pytest.mark.parametrize("fn", LOSSES)
def test_float_bool_complex_targets_are_refused(fn, dtype):
    with pytest.raises(TypeError, match=rf"targets must hold integer ids.*{dtype}"):
        fn(torch.randn(2, 5, 7), torch.zeros(2, 5, dtype=dtype))


@pytest.mark.parametrize("fn", LOSSES)
def test_integer_logits_are_refused(fn):
    with pytest.raises(TypeError, match="logits must be a floating-point tensor"):
        fn(torch.zeros(2, 5, 7, dtype=torch.long), torch.zeros(2, 5, dtype=torch.long))


@pytest.mark.parametrize("T", [0, 1])
def test_per_token_loss_needs_two_positions_like_next_token_loss(T):
    logits, targets = torch.randn(2, T, 7), torch.zeros(2, T, dtype=torch.long)
    with pytest.raises(ValueError, match=rf"next_token_loss needs at least 2 positions.*got T={T}"):
        tl.next_token_loss(logits, targets)
    with pytest.raises(ValueError, match=rf"per_token_loss needs at least 2 positions.*got T={T}"):
        tl.per_token_loss(logits, targets)
    assert tl.per_token_loss(logits, targets, shift=False).shape == (2, T)


@pytest.mark.parametrize("fn", LOSSES)
@pytest.mark.parametrize("bad", [7, 100, -1, -5])
def test_targets_outside_the_vocabulary_are_refused(fn, bad):
    targets = torch.zeros(2, 5, dtype=torch.long)
    targets[1, 3] = bad
    with pytest.raises(ValueError, match=rf"targets contains id {bad}, outside the vocabulary \[0, 6\]"):
        fn(torch.randn(2, 5, 7), targets)


@pytest.mark.parametrize("ignore", [True, 1.5, "pad", None])
def test_ignore_index_must_be_an_int(ignore):
    with pytest.raises(TypeError, match="ignore_index must be an int"):
        tl.token_cross_entropy(torch.randn(1, 3, 4), torch.zeros(1, 3, dtype=torch.long), ignore_index=ignore)


def test_ignore_index_inside_the_vocabulary_is_allowed():
    logits, targets = torch.randn(1, 4, 5), torch.tensor([[0, 1, 0, 2]])
    loss = tl.token_cross_entropy(logits, targets, ignore_index=0)
    ref = F.cross_entropy(logits[0], targets[0], ignore_index=0)
    assert torch.allclose(loss, ref)


@pytest.mark.parametrize("fn", [tl.next_token_loss, tl.token_cross_entropy])
def test_all_targets_ignored_gives_zero_and_zero_gradients_not_nan(fn):
    logits = torch.randn(2, 4, 5, requires_grad=True)
    targets = torch.full((2, 4), -100)
    loss = fn(logits, targets)
    loss.backward()
    assert loss.item() == 0.0 and torch.all(logits.grad == 0)


@pytest.mark.parametrize("shape", [(0, 3, 5), (2, 0, 5)])
def test_empty_batches_give_zero(shape):
    logits = torch.randn(*shape)
    assert tl.token_cross_entropy(logits, torch.zeros(shape[:2], dtype=torch.long)).item() == 0.0


def test_zero_vocabulary_is_refused():
    with pytest.raises(ValueError, match="V >= 1"):
        tl.token_cross_entropy(torch.randn(1, 2, 0), torch.zeros(1, 2, dtype=torch.long))


@pytest.mark.parametrize("fn", LOSSES)
@pytest.mark.parametrize("bad_logits,bad_targets,error,message", [
    ([[[0.0]]], torch.zeros(1, 1, dtype=torch.long), TypeError, "logits must be a torch.Tensor"),
    (torch.randn(2, 5), torch.zeros(2, 5, dtype=torch.long), ValueError, "logits must have 3 dimensions"),
    (torch.randn(2, 5, 7), torch.zeros(2, 5, 1, dtype=torch.long), ValueError, "targets must have 2 dimensions"),
    (torch.randn(2, 5, 7), torch.zeros(3, 5, dtype=torch.long), ValueError, r"must agree on \(B, T\)"),
    (torch.randn(2, 5, 7), None, TypeError, "targets must be a torch.Tensor"),
    (torch.randn(2, 5, 7), np.zeros((2, 5), dtype=np.int64), TypeError, "targets must be a torch.Tensor"),
])
def test_bad_shapes_and_types(fn, bad_logits, bad_targets, error, message):
    with pytest.raises(error, match=message):
        fn(bad_logits, bad_targets)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.bfloat16])
def test_losses_match_torch_in_every_dtype(dtype):
    logits = torch.randn(3, 6, 11, dtype=torch.float64)
    targets = torch.randint(0, 11, (3, 6))
    targets[0, 2] = -100
    ref = F.cross_entropy(logits[:, :-1].reshape(-1, 11), targets[:, 1:].reshape(-1))
    got = tl.next_token_loss(logits.to(dtype), targets)
    assert got.dtype == dtype
    assert abs(got.double().item() - ref.item()) <= {torch.float64: 1e-12, torch.float32: 1e-5,
                                                     torch.bfloat16: 5e-2}[dtype]


def test_token_cross_entropy_is_bitwise_torch_mean():
    logits = torch.randn(4, 9, 13)
    targets = torch.randint(0, 13, (4, 9))
    targets[1, :4] = -100
    assert torch.equal(tl.token_cross_entropy(logits, targets),
                       F.cross_entropy(logits.reshape(-1, 13), targets.reshape(-1)))


def test_non_contiguous_logits_and_targets():
    logits = torch.randn(6, 2, 7).transpose(0, 1)  # (2, 6, 7), non-contiguous
    targets = torch.randint(0, 7, (6, 2)).t()
    assert torch.allclose(tl.next_token_loss(logits, targets),
                          tl.next_token_loss(logits.contiguous(), targets.contiguous()))


@settings(max_examples=30, deadline=None)
@given(B=st.integers(1, 3), T=st.integers(2, 6), V=st.integers(1, 8), seed=st.integers(0, 1000))
def test_per_token_mean_is_next_token_loss(B, T, V, seed):
    g = torch.Generator().manual_seed(seed)
    logits, targets = torch.randn(B, T, V, generator=g, dtype=torch.float64), torch.randint(0, V, (B, T), generator=g)
    per = tl.per_token_loss(logits, targets)
    assert per.shape == (B, T - 1) and torch.all(per >= 0)
    assert torch.allclose(per.mean(), tl.next_token_loss(logits, targets))


# ---- tokenizers -----------------------------------------------------------------------------

def _word():
    return tl.WordTokenizer.from_sentences([tl.BOOK_SENTENCES["burger"], "robot must obey orders"])


def test_decode_returns_a_string_in_every_tokenizer():
    word, char = _word(), tl.CharTokenizer.from_sentences(["今天晚上吃汉堡"])
    assert word.decode(word.encode("robot must obey")) == "robot must obey"
    assert char.decode(char.encode("今天 晚上")) == "今天晚上"
    assert isinstance(word.decode([]), str) and word.decode([]) == ""
    assert char.decode_tokens(char.encode("今天")) == ["今", "天"]


@pytest.mark.parametrize("tok", [_word(), tl.CharTokenizer.from_sentences(["abc"])])
def test_decode_accepts_lists_tensors_arrays_of_any_integer_dtype(tok):
    ids = tok.encode(tok.itos[4] + " " + tok.itos[5], add_special=True)
    expected = tok.decode(ids)
    for form in (tuple(ids), torch.tensor(ids), torch.tensor(ids, dtype=torch.int32),
                 torch.tensor(ids, dtype=torch.uint8), np.array(ids), [np.int64(i) for i in ids]):
        assert tok.decode(form) == expected
    assert tok.decode(torch.tensor(ids[1])) == tok.itos[ids[1]]  # a 0-dim tensor: one id


@pytest.mark.parametrize("ids,error,message", [
    ([99], ValueError, r"id 99 is outside the vocabulary \[0, 11\]"),
    ([-1], ValueError, "id -1 is outside the vocabulary"),
    ([1.0], TypeError, "ids must be integer ids, got 1.0"),
    ([True], TypeError, "ids must be integer ids, got True"),
    (torch.tensor([1.0, 2.0]), TypeError, "ids must hold integer ids, got dtype torch.float32"),
    (torch.tensor([True]), TypeError, "got dtype torch.bool"),
    (torch.zeros(2, 3, dtype=torch.long), ValueError, r"ids must be 1-D .*\(2, 3\); decode one row at a time"),
    ("robot", TypeError, "ids must be a sequence of integer ids, got str"),
    (None, TypeError, "ids must be a sequence of integer ids"),
    ([[1, 2]], TypeError, r"ids must be integer ids, got \[1, 2\]"),
    ([torch.tensor(1.0)], TypeError, "ids must be integer ids"),
])
@pytest.mark.parametrize("method", ["decode", "decode_tokens"])
def test_decode_refuses_bad_ids_clearly(ids, error, message, method):
    with pytest.raises(error, match=message):
        getattr(_word(), method)(ids)


@pytest.mark.parametrize("bad", ["abc", [1, 2], [None], None])
def test_vocab_must_be_strings(bad):
    with pytest.raises(TypeError, match="vocab must be a list of strings"):
        tl.WordTokenizer(bad)


@pytest.mark.parametrize("sentence", [None, 3, [1, 2], b"bytes"])
def test_encode_refuses_non_text(sentence):
    with pytest.raises(TypeError, match="sentence must be a string"):
        _word().encode(sentence)


def test_empty_sentences():
    tok = _word()
    assert tok.encode("") == [] and tok.encode("   ") == []
    assert tok.encode("", add_special=True) == [tok.bos_id, tok.eos_id]
    with pytest.raises(ValueError, match="sentences must not be empty"):
        tok.batch_encode([])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(["robot", "must", "obey", "orders", "今天", "吃"]), max_size=8))
def test_decode_inverts_encode(words):
    tok = _word()
    assert tok.decode(tok.encode(" ".join(words))) == " ".join(words)
    assert tok.decode_tokens(tok.encode(words, add_special=True)) == words


# ---- set_seed and train ------------------------------------------------------------------------

@pytest.fixture
def restore_torch_state():
    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    yield
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(deterministic)


def test_set_seed_leaves_deterministic_algorithms_alone_by_default(restore_torch_state):
    torch.use_deterministic_algorithms(False)
    set_seed(0)
    assert not torch.are_deterministic_algorithms_enabled()
    set_seed(0, deterministic=True)
    assert torch.are_deterministic_algorithms_enabled()


def test_set_seed_repeats_random_numbers(restore_torch_state):
    import random

    set_seed(7)
    a = (torch.rand(3), random.random())
    set_seed(7)
    assert torch.equal(a[0], torch.rand(3)) and a[1] == random.random()


@pytest.mark.parametrize("seed,error", [(-1, ValueError), (2**64, ValueError), (1.5, TypeError),
                                        ("0", TypeError), (None, TypeError), (True, TypeError)])
def test_set_seed_refuses_bad_seeds(seed, error, restore_torch_state):
    with pytest.raises(error, match="seed must be"):
        set_seed(seed)


@pytest.mark.parametrize("threads", [0, -2, 1.5])
def test_set_seed_refuses_bad_threads_before_seeding(threads, restore_torch_state):
    torch.manual_seed(123)
    expected = torch.rand(1)
    torch.manual_seed(123)
    with pytest.raises((TypeError, ValueError), match="threads must be"):
        set_seed(0, threads=threads)
    assert torch.equal(torch.rand(1), expected)  # nothing was changed


def _tiny():
    torch.manual_seed(0)
    return nn.Linear(3, 1)


def _loss(model, batch):
    x, y = batch
    return ((model(x) - y) ** 2).mean()


BATCH = [(torch.randn(4, 3), torch.randn(4, 1))]


@pytest.mark.parametrize("kwargs,message", [
    (dict(lr=0.0), "lr must be a finite number > 0"),
    (dict(lr=float("nan")), "lr must be a finite number > 0"),
    (dict(lr=-1e-3), "lr must be"),
    (dict(weight_decay=-0.1), "weight_decay must be a finite number >= 0"),
    (dict(clip_grad_norm=0.0), "clip_grad_norm must be a finite number > 0"),
    (dict(clip_grad_norm=float("inf")), "clip_grad_norm must be"),
    (dict(warmup_steps=-1), "warmup_steps must be an int >= 0"),
    (dict(steps=0), "steps must be a positive integer"),
    (dict(schedule="linear"), "schedule must be 'cosine' or 'constant'"),
])
def test_train_refuses_bad_settings(kwargs, message):
    with pytest.raises((TypeError, ValueError), match=message):
        train(_tiny(), BATCH, _loss, progress=False, **kwargs)


def test_train_stops_before_a_nan_loss_reaches_the_weights():
    model = _tiny()
    before = [p.detach().clone() for p in model.parameters()]
    bad = [(torch.full((4, 3), float("nan")), torch.randn(4, 1))]
    with pytest.raises(FloatingPointError, match="loss_fn returned nan at step 1"):
        train(model, bad, _loss, progress=False)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_train_restores_training_mode_when_evaluate_raises():
    model = _tiny()

    def evaluate(m):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        train(model, BATCH, _loss, evaluate=evaluate, progress=False)
    assert model.training


def test_train_refuses_a_non_scalar_loss():
    with pytest.raises(TypeError, match=r"loss_fn must return a scalar tensor, got \(4, 1\)"):
        train(_tiny(), BATCH, lambda m, b: m(b[0]), progress=False)


def test_train_lowers_a_simple_loss():
    torch.manual_seed(0)
    x = torch.randn(32, 3)
    batches = [(x, x @ torch.tensor([[1.0], [-2.0], [0.5]]))]
    history = train(_tiny(), batches, _loss, steps=60, lr=0.05, progress=False)
    assert history.losses[-1] < history.losses[0] / 10 and all(map(math.isfinite, history.losses))


@pytest.mark.parametrize("bad", ["robot must", None, 3])
def test_batch_encode_refuses_a_single_string_or_non_list(bad):
    with pytest.raises(TypeError, match="sentences must be a list of sentences"):
        _word().batch_encode(bad)


@pytest.mark.parametrize("cls", [tl.WordTokenizer, tl.CharTokenizer])
@pytest.mark.parametrize("bad", ["robot must", None, 3])
def test_from_sentences_refuses_a_single_string(cls, bad):
    with pytest.raises(TypeError, match="sentences must be a list of sentences"):
        cls.from_sentences(bad)


def test_float16_logits():
    logits = torch.randn(2, 4, 6)
    targets = torch.randint(0, 6, (2, 4))
    try:
        half = tl.next_token_loss(logits.half(), targets)
    except RuntimeError:
        pytest.skip("no float16 cross-entropy on this CPU build")
    assert abs(half.float().item() - tl.next_token_loss(logits, targets).item()) < 1e-2
