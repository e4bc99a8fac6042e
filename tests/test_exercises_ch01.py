"""Chapter 1's exercise checkers accept the right answers and explain wrong ones."""
from transformer_lib.exercises import ch01


def right_block_params(d_model, d_ff):
    attention = 4 * (d_model * d_model + d_model)
    ffn = (d_model * d_ff + d_ff) + (d_ff * d_model + d_model)
    norms = 2 * 2 * d_model
    return attention + ffn + norms


def test_exercise_1(capsys):
    e = ch01.EXERCISE_1
    assert ch01.check_exercise_1((e["batch"], e["length"], e["vocab_size"])) is True
    assert ch01.check_exercise_1((e["batch"], e["length"], e["d_model"])) is False
    assert "number of possible next tokens" in capsys.readouterr().out
    assert ch01.check_exercise_1(None) is False
    assert "Replace None" in capsys.readouterr().out
    assert ch01.check_exercise_1((2, 10)) is False
    assert ch01.check_exercise_1("abc") is False


def test_exercise_2(capsys):
    assert ch01.check_exercise_2(right_block_params) is True
    assert ch01.check_exercise_2(lambda d, f: 4 * d * d + 2 * d * f) is False
    assert "biases" in capsys.readouterr().out
    assert ch01.check_exercise_2(lambda d, f: 1 / 0) is False
    assert "ZeroDivisionError" in capsys.readouterr().out
    assert ch01.check_exercise_2(None) is False
    assert ch01.check_exercise_2(42) is False


def test_exercise_3_implement_a_block(capsys):
    import torch

    import transformer_lib as tl

    torch.manual_seed(0)
    block = tl.EncoderLayer(16, 4, 32).eval()

    def right(x, mask):
        x = block.norm1(x + block.self_attn(x, mask=mask))
        return block.norm2(x + block.ffn(x))

    def pre_norm(x, mask):
        x = x + block.self_attn(block.norm1(x), mask=mask)
        return x + block.ffn(block.norm2(x))

    assert ch01.check_exercise_3(right, block) is True
    assert ch01.check_exercise_3(None, block) is False
    assert "Replace None" in capsys.readouterr().out
    assert ch01.check_exercise_3(pre_norm, block) is False
    assert "largest difference" in capsys.readouterr().out
    assert ch01.check_exercise_3(lambda x, mask: block.self_attn(x, mask=mask), block) is False
