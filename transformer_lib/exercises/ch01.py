"""Exercise checkers for chapter 1, "The big picture: how data flows through a Transformer".

Exercise 1: the shape of a GPT's output for a given batch (answer: a tuple).
Exercise 2: a function ``block_params(d_model, d_ff)`` that counts the parameters of
one Transformer block (self-attention, feed-forward and two LayerNorms), checked
against the library's real :class:`~transformer_lib.EncoderLayer` for several sizes.
Exercise 3 (implement it): ``my_block(x, mask)``, the forward pass of one post-norm
block built from the parts of a given block, checked against that block.
"""
from __future__ import annotations

import torch

from . import check_function, feedback, needs_answer

__all__ = ["EXERCISE_1", "check_exercise_1", "check_exercise_2", "check_exercise_3"]

#: Exercise 1's model and batch: a GPT with these sizes reads BATCH sentences of LENGTH tokens.
EXERCISE_1 = dict(vocab_size=1000, d_model=64, n_heads=8, n_layers=3, d_ff=256, batch=2, length=10)


def _exercise_1_expected() -> tuple[int, ...]:
    from ..config import TransformerConfig
    from ..models import GPT

    e = EXERCISE_1
    cfg = TransformerConfig(vocab_size=e["vocab_size"], d_model=e["d_model"], n_heads=e["n_heads"],
                            n_layers=e["n_layers"], d_ff=e["d_ff"], max_len=e["length"])
    with torch.no_grad():
        out = GPT(cfg)(torch.zeros(e["batch"], e["length"], dtype=torch.long))
    return tuple(out.shape)


def check_exercise_1(answer) -> bool:
    """``answer``: the shape of the logits, as a tuple of ints, e.g. ``(1, 2, 3)``."""
    if needs_answer(answer):
        return False
    try:
        shape = tuple(int(a) for a in answer)
    except (TypeError, ValueError):
        print(f"Not yet. Give the shape as a tuple of integers, like (1, 2, 3); got {answer!r}.")
        return False
    expected = _exercise_1_expected()
    if len(shape) != len(expected):
        return feedback(False, "", f"The logits have {len(expected)} dimensions: one for the batch, one for the "
                        "positions and one for ... what does the final linear layer produce for each position?")
    hint = ("Check each dimension: the batch size and sequence length pass through unchanged; "
            "the last dimension is not d_model but the number of possible next tokens.")
    return feedback(shape == expected, f"The logits are {expected}: one score per vocabulary entry, "
                    "for every position of every sentence.", hint)


def _true_block_params(d_model: int, d_ff: int) -> int:
    from ..layers import EncoderLayer

    layer = EncoderLayer(d_model, 1, d_ff)
    return sum(p.numel() for p in layer.parameters())


def check_exercise_2(block_params) -> bool:
    """``block_params(d_model, d_ff) -> int``: parameters of one block (heads do not matter)."""
    if needs_answer(block_params):
        return False
    if not callable(block_params):
        print(f"Not yet. Pass a function block_params(d_model, d_ff), got {block_params!r}.")
        return False
    for d_model, d_ff in [(32, 128), (64, 256), (12, 7), (100, 30)]:
        expected = _true_block_params(d_model, d_ff)
        try:
            got = block_params(d_model, d_ff)
        except Exception as err:  # the reader's code may fail in any way
            print(f"Not yet. block_params({d_model}, {d_ff}) raised {type(err).__name__}: {err}")
            return False
        if got != expected:
            return feedback(
                False, "",
                f"block_params({d_model}, {d_ff}) returned {got}, the real block has {expected}. Count four "
                "d_model x d_model projections (w_q, w_k, w_v, w_o) with their biases, the two feed-forward "
                "linears with their biases, and two LayerNorms (a scale and a shift each).",
            )
    return feedback(True, "Your count matches the library's blocks for every size tried. The number of heads "
                    "does not appear: splitting into heads reshapes vectors, it adds no weights.", "")


def check_exercise_3(my_block, block) -> bool:
    """``my_block(x, mask)``: one post-norm block from ``block``'s parts, compared with ``block``."""
    from ..masks import causal_mask

    if getattr(block, "norm_first", False):
        print("This exercise is about the post-norm block of the chapter's model "
              "(norm_first=False); pass model.blocks[0].")
        return False
    d_model = block.norm1.normalized_shape[0]

    def make_inputs(generator):
        B = int(torch.randint(1, 3, (1,), generator=generator))
        T = int(torch.randint(2, 8, (1,), generator=generator))
        return torch.randn(B, T, d_model, generator=generator), causal_mask(T)

    with torch.no_grad():
        return check_function(
            my_block, lambda x, mask: block(x, mask=mask), make_inputs,
            success="Your block gives the library's block exactly: "
                    "x = norm1(x + self_attn(x)), then norm2(x + ffn(x)).",
            hint="Two steps, each 'add the input back, then normalise': first "
                 "norm1(x + self_attn(x, mask=mask)), then norm2 of that plus its ffn.",
        )
