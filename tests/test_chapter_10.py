"""Chapter 10 (generation, KV cache): the library behaviour the chapter relies on, and its checkers."""
import torch

import transformer_lib as tl
from transformer_lib.exercises import ch10


def _small_gpt(positional=None):
    torch.manual_seed(0)
    config = tl.TransformerConfig(vocab_size=22, d_model=64, n_heads=4, n_layers=2, max_len=32,
                                  positional=positional)
    return tl.GPT(config).eval()


def test_earlier_keys_and_values_do_not_change_when_a_token_is_added():
    model = _small_gpt()
    tokens = torch.randint(0, 22, (1, 9))
    full, prefix = model.new_cache(), model.new_cache()
    with torch.no_grad():
        model(tokens, cache=full)
        model(tokens[:, :-1], cache=prefix)
    for a, b in zip(full, prefix):
        torch.testing.assert_close(a.keys[:, :, : len(b)], b.keys, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(a.values[:, :, : len(b)], b.values, atol=1e-5, rtol=1e-5)


def test_cached_and_uncached_logits_are_equal():
    for positional in (None, "rope"):
        model = _small_gpt(positional)
        start = torch.tensor([[2, 4]])
        ids_c, logits_c = tl.generate(model, start, 8, temperature=0, use_cache=True, return_logits=True)
        ids_p, logits_p = tl.generate(model, start, 8, temperature=0, use_cache=False, return_logits=True)
        assert torch.equal(ids_c, ids_p)
        assert (logits_c - logits_p).abs().max().item() < 1e-5


def test_exercise_1_checker(capsys):
    assert ch10.check_exercise_1(None) is False
    assert "Replace None" in capsys.readouterr().out
    assert ch10.check_exercise_1((768, 2304)) is True
    assert ch10.check_exercise_1((2304, 768)) is False
    assert "wrong order" in capsys.readouterr().out
    assert ch10.check_exercise_1((768, 768)) is False
    assert ch10.check_exercise_1("768 x 2304") is False


def test_exercise_2_checker(capsys):
    assert ch10.check_exercise_2(None) is False
    assert ch10.check_exercise_2((18, 7)) is True
    assert ch10.check_exercise_2((18, 8)) is False
    assert "never fed" in capsys.readouterr().out
    assert ch10.check_exercise_2((24, 7)) is False
    assert ch10.check_exercise_2((1, 2, 3)) is False


def test_exercise_3_top_p_checker(capsys):
    def right(logits, p):
        probs = torch.softmax(logits, dim=-1)
        sorted_probs, order = probs.sort(dim=-1, descending=True)
        before = sorted_probs.cumsum(dim=-1) - sorted_probs
        drop = torch.zeros_like(logits, dtype=torch.bool).scatter(-1, order, before >= p)
        return logits.masked_fill(drop, float("-inf"))

    def drops_the_crossing_token(logits, p):
        probs = torch.softmax(logits, dim=-1)
        sorted_probs, order = probs.sort(dim=-1, descending=True)
        drop = sorted_probs.cumsum(dim=-1) > p
        drop[..., 0] = False
        return logits.masked_fill(torch.zeros_like(drop).scatter(-1, order, drop), float("-inf"))

    assert ch10.check_exercise_3(right) is True
    assert ch10.check_exercise_3(drops_the_crossing_token) is False
    assert ch10.check_exercise_3(lambda logits, p: logits) is False
    assert ch10.check_exercise_3(lambda logits, p: None) is False
    assert ch10.check_exercise_3(None) is False
    out = capsys.readouterr().out
    assert "Correct!" in out and "return" in out and "Replace None" in out


def test_generate_top_k_one_is_greedy_and_top_p_keeps_the_nucleus():
    model = _small_gpt()
    start = torch.tensor([[2, 4]])
    greedy = tl.generate(model, start, 6, temperature=0)
    for tau in (0.5, 1.0, 2.0):
        sampled = tl.generate(model, start, 6, temperature=tau, top_k=1,
                              generator=torch.Generator().manual_seed(0))
        assert torch.equal(sampled, greedy)
        tiny_p = tl.generate(model, start, 6, temperature=tau, top_p=1e-6,
                             generator=torch.Generator().manual_seed(0))
        assert torch.equal(tiny_p, greedy)
