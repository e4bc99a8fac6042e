"""Chapter 10 (KV cache): the hand-built computations of the notebook equal the library's."""
import torch

import transformer_lib as tl
from transformer_lib.exercises import ch10


def _small_gpt(positional=None):
    torch.manual_seed(0)
    config = tl.TransformerConfig(vocab_size=22, d_model=64, n_heads=4, n_layers=2, max_len=32,
                                  positional=positional)
    return tl.GPT(config).eval()


def test_fused_c_attn_equals_separate_projections():
    attn = tl.MultiHeadAttention(64, 4)
    h = torch.randn(2, 5, 64)
    D = attn.d_model
    weight = torch.cat([attn.w_q.weight, attn.w_k.weight, attn.w_v.weight], dim=0).T  # (D, 3D), GPT-2 layout
    bias = torch.cat([attn.w_q.bias, attn.w_k.bias, attn.w_v.bias])
    assert weight.shape == (D, 3 * D)
    with torch.no_grad():
        q, k, v = (h @ weight + bias).split(D, dim=-1)
        torch.testing.assert_close(q, attn.w_q(h))
        torch.testing.assert_close(k, attn.w_k(h))
        torch.testing.assert_close(v, attn.w_v(h))


def test_newest_token_steps_equal_multi_head_attention():
    attn = tl.MultiHeadAttention(64, 4)
    h = torch.randn(1, 6, 64)
    with torch.no_grad():
        q, k, v = (tl.split_heads(w(h), 4) for w in (attn.w_q, attn.w_k, attn.w_v))  # (1, H, T, K)
        steps = tl.attention_steps(q[:, :, -1:], k, v)
        projected = attn.w_o(tl.merge_heads(steps.output))  # (1, 1, D)
        reference = attn(h, mask=tl.causal_mask(6))[:, -1:]
    torch.testing.assert_close(projected, reference)
    assert steps.weights.shape == (1, 4, 1, 6)


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


def test_hand_written_cached_loop_matches_generate():
    model = _small_gpt()
    start = torch.tensor([[2, 8, 13]])
    cache, sequence, next_input = model.new_cache(), start, start
    with torch.no_grad():
        for _ in range(6):
            new_id = model(next_input, cache=cache)[:, -1].argmax(dim=-1, keepdim=True)
            sequence = torch.cat([sequence, new_id], dim=1)
            next_input = new_id
    assert len(cache[0]) == start.shape[1] + 6 - 1  # the last token is never fed back
    assert torch.equal(sequence, tl.generate(model, start, 6, temperature=0, use_cache=True))


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
