"""Chapter 2 (attention as a weighted update): the hand-made mix equals the library's attention,
dot-product facts the chapter states, and the exercise checkers."""
import math

import torch

import transformer_lib as tl
from transformer_lib.exercises import ch02

# The chapter's hand-chosen 2-D word vectors and the weights of 今天.
X = torch.tensor([[1.0, 0.3], [0.7, 0.8], [-0.4, 1.0], [-0.9, 0.5]])
WEIGHTS = torch.tensor([0.5, 0.1, 0.3, 0.1])


def test_burger_sentence_has_the_four_words():
    assert tl.BOOK_SENTENCES["burger"] == ["今天", "晚上", "吃", "汉堡"]


def test_weighted_mix_equals_library_attention():
    by_hand = sum(w * x for w, x in zip(WEIGHTS, X))
    out, used = tl.scaled_dot_product_attention(torch.ones(1, 1), WEIGHTS.log()[:, None], X)
    torch.testing.assert_close(used[0], WEIGHTS)
    torch.testing.assert_close(out[0], by_hand)
    torch.testing.assert_close(WEIGHTS @ X, by_hand)


def test_dot_product_signs():
    a = torch.tensor([2.0, 0.0])
    assert (a @ torch.tensor([0.0, 1.5])).item() == 0.0
    assert (a @ torch.tensor([1.5, 0.0])).item() > 0
    assert (a @ torch.tensor([-1.5, 0.0])).item() < 0
    b = torch.tensor([1.0, 1.0])
    torch.testing.assert_close(a @ b, a.norm() * b.norm() * torch.tensor(math.cos(math.pi / 4)))


def test_raw_embedding_attention_is_softmax_of_gram_matrix():
    scores = X @ X.T
    steps = tl.attention_steps(X * 2 ** 0.25, X * 2 ** 0.25, X)  # sqrt(d_k) = sqrt(2) cancels the scaling
    torch.testing.assert_close(steps.weights, torch.softmax(scores, dim=-1))


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
