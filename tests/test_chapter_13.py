"""Chapter 13, "Training a Transformer on a CPU": exercise checkers and a short reversal run."""
import math

import pytest
import torch

import transformer_lib as tl
from transformer_lib.exercises import ch13
from transformer_lib.tasks import SequenceTask, minibatches


@pytest.fixture(autouse=True)
def _restore_torch_state():
    """set_seed(threads=1) changes global torch settings: put them back after each test."""
    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    yield
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(deterministic)


def test_exercise_1(capsys):
    assert ch13.check_exercise_1(math.log(11))
    assert not ch13.check_exercise_1(None)
    assert not ch13.check_exercise_1(math.log(10))
    assert "11 ids" in capsys.readouterr().out
    assert not ch13.check_exercise_1(1 / 11)
    assert "logarithm" in capsys.readouterr().out


def test_exercise_2(capsys):
    assert ch13.check_exercise_2([7, 6, 5, 4, 3, 2, 1, 0])
    assert ch13.check_exercise_2(torch.arange(7, -1, -1))
    assert not ch13.check_exercise_2(None)
    assert not ch13.check_exercise_2(list(range(8)))
    assert "diagonal" in capsys.readouterr().out
    assert not ch13.check_exercise_2([8, 7, 6, 5, 4, 3, 2, 1])
    assert "from 0" in capsys.readouterr().out
    assert not ch13.check_exercise_2([7, 6])


def test_short_reversal_run_learns_and_its_cross_attention_turns_anti_diagonal():
    """A smaller version of the chapter's run (length 4, a few seconds): the chapter's claims in miniature."""
    tl.set_seed(0, threads=1)
    task = SequenceTask(n_symbols=6, length=4, kind="reverse")
    train_src, test_src = task.split(4000, 200, seed=0)
    cfg = tl.TransformerConfig(vocab_size=task.vocab_size, d_model=32, n_heads=2, n_layers=1, d_ff=64,
                               max_len=task.length, positional="learned", norm_first=True)
    torch.manual_seed(0)
    model = tl.Transformer(cfg)
    batches = [b[0] for b in minibatches(train_src, batch_size=32, steps=300, seed=0)]
    history = tl.train(model, batches, task.loss, lr=5e-3, warmup_steps=30,
                       evaluate=lambda m: task.scores(m, test_src), eval_every=100, progress=False)
    assert history.losses[-1] < 0.1 * history.losses[0]
    assert history.metric("exact_match")[-1] >= 0.95
    src, tgt_in, _ = task.teacher_forcing(test_src[:32])
    model.eval()
    _, weights = model(src, tgt_in, return_weights=True)
    mean_map = weights["decoder_cross"][0].mean(dim=(0, 1))  # (T, S), mean over examples and heads
    assert mean_map.argmax(dim=-1).tolist() == [3, 2, 1, 0]


def test_exercise_3(capsys):
    from transformer_lib.tasks import shift_right

    assert ch13.check_exercise_3(shift_right)
    assert "Correct" in capsys.readouterr().out
    assert not ch13.check_exercise_3(None)
    assert "Replace None" in capsys.readouterr().out
    assert not ch13.check_exercise_3(lambda tokens, bos_id: tokens)  # not shifted
    assert "bos_id" in capsys.readouterr().out
    assert not ch13.check_exercise_3(  # BOS in front, but one token too many
        lambda tokens, bos_id: torch.cat([torch.full_like(tokens[:, :1], bos_id), tokens], 1))
    assert "shape" in capsys.readouterr().out


def test_shift_right_is_the_decoder_input_of_teacher_forcing():
    from transformer_lib.tasks import shift_right

    task = SequenceTask(n_symbols=10, length=5, kind="reverse")
    src = torch.tensor([[1, 2, 3, 4, 5]])
    _, tgt_in, tgt_out = task.teacher_forcing(src)
    assert tgt_out.tolist() == [[5, 4, 3, 2, 1]]
    assert tgt_in.tolist() == [[task.bos_id, 5, 4, 3, 2]]
    assert torch.equal(shift_right(tgt_out, task.bos_id), tgt_in)
    with pytest.raises(ValueError):
        shift_right(torch.tensor([1, 2, 3]), 0)
