"""The training loop (transformer_lib.training) and the small tasks (transformer_lib.tasks)."""

import pytest
import torch

import transformer_lib as tl
from transformer_lib.tasks import SequenceTask, load_digit_rows, minibatches, toy_translation_pairs
from transformer_lib.training import TrainingHistory, accuracy, set_seed, train, warmup_cosine


@pytest.fixture(autouse=True)
def _restore_torch_state():
    """set_seed(threads=1) changes global torch settings: put them back after each test."""
    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    yield
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(deterministic)


def _tiny_reverser(task):
    cfg = tl.TransformerConfig(vocab_size=task.vocab_size, d_model=16, n_heads=2, n_layers=1, d_ff=32,
                               max_len=task.length, positional="learned", norm_first=True)
    return tl.Transformer(cfg)


def _run(seed, steps=15):
    set_seed(seed, threads=1)
    task = SequenceTask(n_symbols=5, length=4)
    model = _tiny_reverser(task)
    train_src, test_src = task.split(200, 20, seed=seed)
    batches = [b[0] for b in minibatches(train_src, batch_size=16, steps=steps, seed=seed)]
    history = train(model, batches, task.loss, lr=3e-3, warmup_steps=3,
                    evaluate=lambda m: {"exact": task.exact_match(m, test_src)}, eval_every=5, progress=False)
    return model, history


def test_train_records_losses_evaluations_and_learning_rates():
    _, history = _run(0)
    assert isinstance(history, TrainingHistory)
    assert history.steps == 15 and len(history.learning_rates) == 15
    assert history.eval_steps == [0, 5, 10, 15]
    assert len(history.metric("exact")) == 4
    assert history.learning_rates[0] == pytest.approx(3e-3 / 3)  # first warm-up step
    assert max(history.learning_rates) == pytest.approx(3e-3)
    assert history.seconds > 0
    with pytest.raises(KeyError, match="no metric"):
        history.metric("nope")


def test_training_lowers_the_loss():
    _, history = _run(0, steps=60)
    assert sum(history.losses[-5:]) / 5 < sum(history.losses[:5]) / 5 - 0.3


def test_training_is_bit_repeatable():
    model_a, a = _run(3)
    model_b, b = _run(3)
    assert a.losses == b.losses
    for pa, pb in zip(model_a.parameters(), model_b.parameters()):
        assert torch.equal(pa, pb)
    _, c = _run(4)
    assert a.losses != c.losses


def test_train_accepts_a_batch_function_and_checks_arguments():
    model = torch.nn.Linear(3, 1)
    x, y = torch.randn(32, 3), torch.randn(32, 1)
    loss_fn = lambda m, batch: ((m(batch[0]) - batch[1]) ** 2).mean()  # noqa: E731
    history = train(model, lambda step: (x, y), loss_fn, steps=5, schedule="constant", progress=False)
    assert history.learning_rates == [1e-3] * 5 and history.evals == []
    with pytest.raises(ValueError, match="steps is required"):
        train(model, lambda step: (x, y), loss_fn, progress=False)
    with pytest.raises(ValueError, match="schedule"):
        train(model, [(x, y)], loss_fn, schedule="linear", progress=False)
    with pytest.raises(TypeError, match="scalar"):
        train(model, [(x, y)], lambda m, b: m(b[0]), progress=False)
    with pytest.raises(KeyError, match="no evaluations"):
        history.metric("loss")


def test_warmup_cosine_shape():
    factors = [warmup_cosine(s, 100, 10) for s in range(100)]
    assert factors[9] == pytest.approx(1.0)
    assert all(a <= b for a, b in zip(factors[:10], factors[1:10]))
    assert all(a >= b for a, b in zip(factors[10:], factors[11:]))
    assert factors[-1] < 0.01


def test_accuracy():
    logits = torch.tensor([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0]])
    assert accuracy(logits, torch.tensor([0, 1, 1])) == pytest.approx(2 / 3)


def test_minibatches_cover_each_epoch_without_repeats():
    x = torch.arange(10)
    batches = minibatches(x, x * 2, batch_size=5, steps=4, seed=1)
    assert len(batches) == 4
    first_epoch = torch.cat([b[0] for b in batches[:2]])
    assert sorted(first_epoch.tolist()) == list(range(10))
    assert all(torch.equal(b[1], b[0] * 2) for b in batches)
    again = minibatches(x, x * 2, batch_size=5, steps=4, seed=1)
    assert [b[0].tolist() for b in batches] == [b[0].tolist() for b in again]
    with pytest.raises(ValueError, match="larger than"):
        minibatches(x, batch_size=11, steps=1)


@pytest.mark.parametrize("kind, expected", [("reverse", [3, 0, 2, 1]), ("sort", [0, 1, 2, 3]), ("copy", [1, 2, 0, 3])])
def test_sequence_task_targets(kind, expected):
    task = SequenceTask(n_symbols=4, length=4, kind=kind)
    src = torch.tensor([[1, 2, 0, 3]])
    assert task.target(src).tolist() == [expected]
    _, tgt_in, tgt_out = task.teacher_forcing(src)
    assert tgt_out.tolist() == [expected]
    assert tgt_in.tolist() == [[task.bos_id] + expected[:-1]]
    assert task.vocab_size == 5


def test_sequence_task_split_is_disjoint_and_repeatable():
    task = SequenceTask(n_symbols=3, length=3)  # only 27 sequences: overlaps are certain
    train_src, test_src = task.split(100, 5, seed=0)
    assert test_src.shape == (5, 3) and len(torch.unique(test_src, dim=0)) == 5
    test_rows = {tuple(r) for r in test_src.tolist()}
    assert not any(tuple(r) in test_rows for r in train_src.tolist())
    again = task.split(100, 5, seed=0)
    assert torch.equal(again[0], train_src) and torch.equal(again[1], test_src)


def test_sequence_task_scores_a_perfect_model():
    task = SequenceTask(n_symbols=4, length=3)

    class Oracle(torch.nn.Module):  # a fake Transformer that always knows the answer
        config = None

        def source_mask(self, src, mask=None):
            return None

        def encode(self, src, mask=None):
            return src

        def decode(self, tgt, memory, src_mask=None, tgt_mask=None):
            answer = task.target(memory)[:, : tgt.shape[1]]  # (B, T)
            return torch.nn.functional.one_hot(answer, task.vocab_size).float() * 10

    src = task.sample(6, torch.Generator().manual_seed(0))
    assert task.exact_match(Oracle(), src) == 1.0
    assert task.token_accuracy(Oracle(), src) == 1.0
    assert task.predict(Oracle(), src).shape == (6, 3)
    assert task.scores(Oracle(), src) == {"exact_match": 1.0, "token_accuracy": 1.0}


def test_toy_translation_pairs():
    pairs = toy_translation_pairs()
    assert len(pairs) == 108
    assert (["机器人", "必须", "服从", "命令"], ["robot", "must", "obey", "orders"]) in pairs
    assert (["今天", "机器人", "必须", "服从", "命令"], ["robot", "must", "obey", "orders", "today"]) in pairs
    assert all(len(zh) == len(en) for zh, en in pairs)


def test_load_digit_rows():
    data = load_digit_rows()
    assert data.x_train.shape[1:] == (8, 8) and data.x_test.shape[1:] == (8, 8)
    assert len(data.x_train) + len(data.x_test) == 1797
    assert abs(len(data.x_test) / 1797 - 0.25) < 0.01
    assert 0.0 <= data.x_train.min() and data.x_train.max() <= 1.0
    assert sorted(set(data.y_test.tolist())) == list(range(10))
    assert torch.equal(load_digit_rows().y_test, data.y_test)
