"""Chapter 2 (attention as a weighted update): the book's sentence and the exercise checkers.

The chapter's own claims (the hand-made mix equals the library's attention, ...) are asserted
in the notebook, which nbval runs."""
import torch

import transformer_lib as tl
from transformer_lib.exercises import ch02

# The chapter's hand-chosen 2-D word vectors.
X = torch.tensor([[1.0, 0.3], [0.7, 0.8], [-0.4, 1.0], [-0.9, 0.5]])


def test_burger_sentence_has_the_four_words():
    assert tl.BOOK_SENTENCES["burger"] == ["今天", "晚上", "吃", "汉堡"]


def test_exercise_1_accepts_right_and_rejects_wrong(capsys):
    right = torch.tensor(ch02.EXERCISE_1_WEIGHTS) @ X
    assert ch02.check_exercise_1(right, X)
    assert ch02.check_exercise_1(right.tolist(), X)
    assert not ch02.check_exercise_1(None, X)
    assert "Replace None" in capsys.readouterr().out
    assert not ch02.check_exercise_1(X.mean(0), X)
    assert "plain average" in capsys.readouterr().out
    assert not ch02.check_exercise_1(torch.tensor(ch02.EXERCISE_1_WEIGHTS).flip(0) @ X, X)
    assert "order" in capsys.readouterr().out
    assert not ch02.check_exercise_1([1.0, 2.0, 3.0], X)
    assert not ch02.check_exercise_1(right, X[:3])


def test_exercise_2_accepts_right_and_rejects_wrong(capsys):
    right = torch.softmax(torch.tensor([2.0, 0.0, -1.0]), dim=0)
    assert ch02.check_exercise_2(right)
    assert not ch02.check_exercise_2(None)
    assert not ch02.check_exercise_2([2.0, 0.0, -1.0])
    assert "softmax" in capsys.readouterr().out.split("Replace None")[-1]
    assert not ch02.check_exercise_2([0.5, 0.5, 0.5])
    assert "add up to" in capsys.readouterr().out
    assert not ch02.check_exercise_2([0.2, 0.3, 0.5])


def test_exercise_3_implement_simple_attention(capsys):
    assert ch02.check_exercise_3(lambda X: torch.softmax(X @ X.T, dim=-1) @ X)
    assert not ch02.check_exercise_3(None)
    assert "Replace None" in capsys.readouterr().out
    assert not ch02.check_exercise_3(lambda X: torch.softmax(X @ X.T, dim=0) @ X)
    assert "largest difference" in capsys.readouterr().out
    assert not ch02.check_exercise_3(lambda X: X @ X.T)
    assert "shape" in capsys.readouterr().out
