"""Exercise checkers for chapter 6, "Attention vs feed-forward"."""
from __future__ import annotations

import torch

from . import check_function, check_number, feedback, needs_answer

__all__ = ["check_exercise_1", "check_exercise_2", "check_exercise_3"]


def check_exercise_1(answer) -> bool:
    """Parameters of FeedForward(768, 3072): W1 (3072 x 768) + b1 (3072) + W2 (768 x 3072) + b2 (768)."""
    d_model, d_ff = 768, 3072
    weights = 2 * d_model * d_ff
    expected = weights + d_ff + d_model
    if answer is not None:
        try:
            value = int(answer)
        except (TypeError, ValueError):
            value = None
        if value == weights:
            print("Not yet. You counted the two weight matrices; the two linear layers also have biases.")
            return False
        if value == d_model * d_ff + d_ff or value == d_model * d_ff + d_model:
            print("Not yet. That is one linear layer; the FFN has two (widen, then narrow back).")
            return False
    return check_number(
        answer, expected,
        success=f"Two matrices of 768 x 3072 plus biases of 3072 and 768: {expected:,} parameters per layer.",
        hint="Count W1 (d_model x d_ff), b1 (d_ff), W2 (d_ff x d_model) and b2 (d_model).",
        rel_tol=0, abs_tol=0.5,
    )


def check_exercise_2(answer) -> bool:
    """Positions whose FFN output changes when the token at position 2 (of 0..4) is replaced."""
    if needs_answer(answer):
        return False
    try:
        positions = sorted({int(p) for p in answer})
    except (TypeError, ValueError):
        print(f"Not yet. Give a list of whole-number positions, got {answer!r}.")
        return False
    if positions == [2]:
        return feedback(True, "The FFN sees each position alone, so only position 2 changes. "
                              "(Attention's output would change at all five positions.)", "")
    if positions == [0, 1, 2, 3, 4]:
        return feedback(False, "", "That is what happens to the attention output. The FFN is applied to "
                                   "each position separately: which inputs did you change?")
    if 2 not in positions:
        return feedback(False, "", "The input at position 2 changed, so the FFN output there changes too.")
    return feedback(False, "", "The FFN output at position i depends only on the input at position i.")


def _ffn_inputs(generator: torch.Generator):
    """Random z (T, D) and FFN weights w1 (D, d_ff), b1 (d_ff,), w2 (d_ff, D), b2 (D,)."""
    t, d, f = (int(n) for n in torch.randint(1, 9, (3,), generator=generator))
    return (torch.randn(t, d, generator=generator), torch.randn(d, f, generator=generator),
            torch.randn(f, generator=generator), torch.randn(f, d, generator=generator),
            torch.randn(d, generator=generator))


def _library_ffn(z, w1, b1, w2, b2):
    from transformer_lib import FeedForward

    ffn = FeedForward(w1.shape[0], w1.shape[1])
    with torch.no_grad():  # nn.Linear stores W as (out, in): the transpose of the formula's
        ffn.linear1.weight.copy_(w1.T)
        ffn.linear1.bias.copy_(b1)
        ffn.linear2.weight.copy_(w2.T)
        ffn.linear2.bias.copy_(b2)
        return ffn(z)


def check_exercise_3(fn) -> bool:
    """"Implement it": FFN(z) = ReLU(z w1 + b1) w2 + b2, against tl.FeedForward."""
    return check_function(
        fn, _library_ffn, _ffn_inputs,
        success="ReLU(z W1 + b1) W2 + b2: widen, cut the negatives, narrow back.",
        hint="Compute z @ w1 + b1, apply torch.relu, then multiply by w2 and add b2.",
        atol=1e-4,
    )
