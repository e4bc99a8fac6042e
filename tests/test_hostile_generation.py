"""generate / greedy_decode attacked as a hostile user would (issue 10): sampling settings at
their edges, top_p, bad prompts, and the model's mode restored when a step raises."""
import math

import numpy as np
import pytest
import torch

import transformer_lib as tl


def _gpt(device="cpu", **kw):
    torch.manual_seed(0)
    cfg = dict(vocab_size=30, d_model=16, n_heads=2, n_layers=2, d_ff=32, max_len=24)
    cfg.update(kw)
    return tl.GPT(tl.TransformerConfig(**cfg)).to(device)


PROMPT = torch.tensor([[1, 2, 3]])


# ---- temperature ----------------------------------------------------------------------------

@pytest.mark.parametrize("t", [float("nan"), float("inf"), -float("inf"), -1.0, -1e-9])
def test_bad_temperatures_are_refused(t):
    with pytest.raises(ValueError, match="temperature must be a number >= 0"):
        tl.generate(_gpt(), PROMPT, 3, temperature=t)


@pytest.mark.parametrize("t", ["1.0", None, True, torch.tensor(1.0), [1.0]])
def test_temperature_of_the_wrong_type_is_refused(t):
    with pytest.raises(TypeError, match="temperature must be a number"):
        tl.generate(_gpt(), PROMPT, 3, temperature=t)


def test_numpy_and_int_temperatures_work():
    model = _gpt()
    g = lambda: torch.Generator().manual_seed(0)  # noqa: E731
    a = tl.generate(model, PROMPT, 4, temperature=np.float64(1.0), generator=g())
    b = tl.generate(model, PROMPT, 4, temperature=1, generator=g())
    assert torch.equal(a, b)


@pytest.mark.parametrize("t", [1e-45, 1e-30, 1e-8])
def test_tiny_temperatures_are_greedy(t):
    model = _gpt()
    prompt = torch.randint(0, 30, (4, 3))
    greedy = tl.generate(model, prompt, 8, temperature=0)
    tiny = tl.generate(model, prompt, 8, temperature=t, generator=torch.Generator().manual_seed(1))
    assert torch.equal(tiny, greedy)


def test_huge_temperature_samples_without_error():
    out = tl.generate(_gpt(), PROMPT, 5, temperature=1e30, generator=torch.Generator().manual_seed(0))
    assert out.shape == (1, 8) and int(out.max()) < 30


# ---- top_k / top_p ------------------------------------------------------------------------------

@pytest.mark.parametrize("k", [0, -1, 2.0, True, "3"])
def test_bad_top_k_is_refused(k):
    with pytest.raises((TypeError, ValueError), match="top_k must be"):
        tl.generate(_gpt(), PROMPT, 3, top_k=k)


@pytest.mark.parametrize("p", [0.0, -0.5, 1.5, float("nan"), float("inf")])
def test_bad_top_p_is_refused(p):
    with pytest.raises(ValueError, match=r"top_p must be in \(0, 1\]"):
        tl.generate(_gpt(), PROMPT, 3, top_p=p)


@pytest.mark.parametrize("p", ["0.9", True, [0.9]])
def test_top_p_of_the_wrong_type_is_refused(p):
    with pytest.raises(TypeError, match="top_p must be a number"):
        tl.generate(_gpt(), PROMPT, 3, top_p=p)


def test_top_p_sampling_is_repeatable_with_a_generator():
    model = _gpt()
    runs = [tl.generate(model, PROMPT.repeat(3, 1), 10, temperature=0.9, top_k=10, top_p=0.8,
                        generator=torch.Generator().manual_seed(5)) for _ in range(2)]
    assert torch.equal(*runs)


def test_top_p_one_equals_no_filtering():
    model = _gpt()
    for seed in range(3):
        a = tl.generate(model, PROMPT.repeat(4, 1), 10, top_p=1.0, generator=torch.Generator().manual_seed(seed))
        b = tl.generate(model, PROMPT.repeat(4, 1), 10, generator=torch.Generator().manual_seed(seed))
        assert torch.equal(a, b)


@pytest.mark.parametrize("p", [1e-9, 1e-3])
def test_tiny_top_p_is_greedy(p):
    model = _gpt()
    prompt = torch.randint(0, 30, (4, 3))
    greedy = tl.generate(model, prompt, 8, temperature=0)
    nucleus = tl.generate(model, prompt, 8, temperature=2.0, top_p=p, generator=torch.Generator().manual_seed(0))
    assert torch.equal(nucleus, greedy)


def test_nucleus_keeps_the_smallest_set_reaching_top_p():
    from transformer_lib.generation import _nucleus

    probs = torch.tensor([[0.5, 0.05, 0.3, 0.15]])
    logits = probs.log()
    kept = lambda p: torch.isfinite(_nucleus(logits, p))[0].tolist()  # noqa: E731
    assert kept(0.5) == [True, False, False, False]   # 0.5 alone reaches 0.5
    assert kept(0.6) == [True, False, True, False]    # 0.5 + 0.3
    assert kept(0.8) == [True, False, True, False]    # 0.8 reached (within rounding)
    assert kept(0.81) == [True, False, True, True]
    assert kept(0.99) == [True, True, True, True]


def test_nucleus_ties_keep_the_lower_id_like_argmax():
    from transformer_lib.generation import _nucleus

    logits = torch.zeros(1, 5)
    assert torch.isfinite(_nucleus(logits, 0.1))[0].tolist() == [True, False, False, False, False]


def test_top_p_only_samples_from_the_nucleus():
    from transformer_lib.generation import _next_token

    logits = torch.tensor([[3.0, 2.0, 0.0, -1.0, -5.0]]).repeat(2000, 1)
    ids = _next_token(logits, 1.0, None, 0.9, torch.Generator().manual_seed(0))
    probs = torch.softmax(logits[0], -1)
    nucleus = int((probs.sort(descending=True).values.cumsum(0) < 0.9).sum()) + 1
    assert set(ids.flatten().tolist()) == set(range(nucleus))


def test_top_k_then_top_p():
    from transformer_lib.generation import _next_token

    logits = torch.tensor([[3.0, 2.9, 2.8, 0.0]]).repeat(500, 1)
    ids = _next_token(logits, 1.0, 2, 0.99, torch.Generator().manual_seed(0))
    assert set(ids.flatten().tolist()) == {0, 1}


# ---- prompts and lengths -------------------------------------------------------------------------

@pytest.mark.parametrize("n", [0, -1, 2.0, True, None])
def test_bad_max_new_tokens_is_refused(n):
    with pytest.raises((TypeError, ValueError), match="max_new_tokens must be"):
        tl.generate(_gpt(), PROMPT, n)


@pytest.mark.parametrize("prompt,error,message", [
    (torch.zeros(1, 0, dtype=torch.long), ValueError, r"at least one token, got shape \(1, 0\)"),
    (torch.zeros(0, 3, dtype=torch.long), ValueError, r"at least one sequence.*\(0, 3\)"),
    (torch.zeros(1, 3), TypeError, "tokens must hold integer token ids, got dtype torch.float32"),
    (torch.zeros(1, 3, dtype=torch.bool), TypeError, "integer token ids, got dtype torch.bool"),
    (torch.zeros(3, dtype=torch.long), ValueError, r"tokens must have 2 dimensions, got shape \(3,\)"),
    ([[1, 2, 3]], TypeError, "tokens must be a torch.Tensor"),
    (torch.tensor([[1, 30]]), ValueError, r"id 30, outside the vocabulary \[0, 29\]"),
    (torch.tensor([[1, -1]]), ValueError, "id -1, outside the vocabulary"),
])
def test_bad_prompts_are_refused(prompt, error, message):
    with pytest.raises(error, match=message):
        tl.generate(_gpt(), prompt, 2)


def test_prompt_longer_than_max_len_is_refused_clearly():
    model = _gpt(max_len=8)
    with pytest.raises(ValueError, match=r"prompt has T=10 tokens, more than the model's max_len=8"):
        tl.generate(model, torch.zeros(1, 10, dtype=torch.long), 1)
    with pytest.raises(ValueError, match="at most 2 new tokens fit"):
        tl.generate(model, torch.zeros(1, 6, dtype=torch.long), 5)
    assert tl.generate(model, torch.zeros(1, 6, dtype=torch.long), 2, temperature=0).shape == (1, 8)


@pytest.mark.parametrize("dtype", [torch.int32, torch.int16, torch.uint8, torch.int64])
def test_any_integer_prompt_dtype_works_and_gives_int64(dtype):
    model = _gpt()
    out = tl.generate(model, PROMPT.to(dtype), 4, temperature=0)
    assert out.dtype == torch.int64  # never wraps around, whatever the vocabulary size
    assert torch.equal(out, tl.generate(model, PROMPT, 4, temperature=0))


def test_non_contiguous_prompt():
    model = _gpt()
    prompt = torch.randint(0, 30, (3, 4)).t()  # (4, 3), non-contiguous
    assert not prompt.is_contiguous()
    assert torch.equal(tl.generate(model, prompt, 3, temperature=0),
                       tl.generate(model, prompt.contiguous(), 3, temperature=0))


def test_generator_of_the_wrong_type_is_refused():
    with pytest.raises(TypeError, match="generator must be a torch.Generator"):
        tl.generate(_gpt(), PROMPT, 2, generator=3)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a second device")
def test_prompt_on_another_device_is_refused():
    with pytest.raises(ValueError, match="tokens are on cpu but the model is on cuda"):
        tl.generate(_gpt("cuda"), PROMPT, 2)


def test_prompt_is_not_modified():
    prompt = PROMPT.clone()
    tl.generate(_gpt(), prompt, 3)
    assert torch.equal(prompt, PROMPT)


# ---- mode restored, cached = uncached --------------------------------------------------------

@pytest.mark.parametrize("training", [True, False])
def test_mode_is_restored_when_a_step_raises(training):
    model = _gpt().train(training)

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    model.forward = broken
    with pytest.raises(RuntimeError, match="boom"):
        tl.generate(model, PROMPT, 3)
    assert model.training is training
    assert all(m.training is training for m in model.modules())


def test_non_finite_logits_are_reported_not_sampled():
    model = _gpt()
    with torch.no_grad():
        model.lm_head.weight[0, 0] = float("nan")
    with pytest.raises(ValueError, match="non-finite logits"):
        tl.generate(model, PROMPT, 3)
    assert model.training


@pytest.mark.parametrize("use_sdpa", [False, True])
@pytest.mark.parametrize("kwargs", [dict(temperature=0), dict(temperature=0.7, top_k=5, top_p=0.9)])
def test_cached_equals_uncached(device, use_sdpa, kwargs):
    model = _gpt(device, use_sdpa=use_sdpa).double()
    prompt = torch.randint(0, 30, (3, 4), device=device)
    runs = [tl.generate(model, prompt, 12, use_cache=c, return_logits=True,
                        generator=torch.Generator(device=device).manual_seed(2), **kwargs)
            for c in (True, False)]
    assert torch.equal(runs[0][0], runs[1][0])
    assert (runs[0][1] - runs[1][1]).abs().max() <= 1e-10


def test_return_logits_shape_and_generated_ids_within_vocab():
    ids, logits = tl.generate(_gpt(), PROMPT.repeat(2, 1), 5, return_logits=True,
                              generator=torch.Generator().manual_seed(0))
    assert ids.shape == (2, 8) and logits.shape == (2, 5, 30)
    assert 0 <= int(ids.min()) and int(ids.max()) < 30
    assert torch.equal(ids[:, :3], PROMPT.repeat(2, 1))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_model_generates(dtype):
    if dtype == torch.float16:
        try:
            torch.ones(2, 2, dtype=dtype) @ torch.ones(2, 2, dtype=dtype)
        except RuntimeError:
            pytest.skip("no float16 matmul on this CPU")
    model = _gpt().to(dtype)
    out = tl.generate(model, PROMPT, 4, temperature=0.8, top_p=0.9, generator=torch.Generator().manual_seed(0))
    assert out.shape == (1, 7)


# ---- greedy_decode ---------------------------------------------------------------------------

def _translator():
    torch.manual_seed(0)
    cfg = tl.TransformerConfig(vocab_size=20, d_model=16, n_heads=2, n_layers=1, d_ff=32, max_len=10)
    return tl.Transformer(cfg)


@pytest.mark.parametrize("kwargs,message", [
    (dict(bos_id=20), r"bos_id must be an int id in \[0, 19\], got 20"),
    (dict(bos_id=-1), "bos_id must be an int id"),
    (dict(bos_id=1.0), "bos_id must be an int id"),
    (dict(bos_id=1, eos_id=99), "eos_id must be an int id"),
    (dict(bos_id=1, max_len=11),
     r"max_len=11 target tokens need 11 decoder positions, more than the model's max_len=10"),
])
def test_greedy_decode_bad_ids(kwargs, message):
    kwargs.setdefault("max_len", 3)
    with pytest.raises(ValueError, match=message):
        tl.greedy_decode(_translator(), torch.tensor([[1, 2, 3]]), **kwargs)


def test_greedy_decode_fills_the_model_exactly():
    out = tl.greedy_decode(_translator(), torch.tensor([[1, 2, 3]]), max_len=10, bos_id=1)
    assert out.shape == (1, 11)


def test_greedy_decode_restores_mode_when_it_raises():
    model = _translator().train()
    model.encode = lambda *a, **k: (_ for _ in ()).throw(RuntimeError("boom"))
    with pytest.raises(RuntimeError, match="boom"):
        tl.greedy_decode(model, torch.tensor([[1, 2, 3]]), max_len=3, bos_id=1)
    assert model.training


def test_greedy_decode_refuses_float_sources():
    with pytest.raises(TypeError, match="src must hold integer token ids"):
        tl.greedy_decode(_translator(), torch.zeros(1, 3), max_len=3, bos_id=1)


def test_math_is_unchanged_for_ordinary_temperatures():
    # Subtracting the row maximum before dividing by the temperature changes no probability.
    from transformer_lib.generation import _next_token

    logits = torch.randn(3, 30, dtype=torch.float64)
    for t in (0.5, 1.0, 2.0):
        a = _next_token(logits, t, None, None, torch.Generator().manual_seed(0))
        b = torch.multinomial(torch.softmax(logits / t, -1), 1, generator=torch.Generator().manual_seed(0))
        assert torch.equal(a, b)
    assert math.isfinite(t)


@pytest.mark.parametrize("kwargs", [dict(use_cache="yes"), dict(use_cache=None), dict(return_logits=1)])
def test_flags_must_be_bools(kwargs):
    with pytest.raises(TypeError, match="must be True or False"):
        tl.generate(_gpt(), PROMPT, 2, **kwargs)


@pytest.mark.parametrize("t", [1e-45, 1e-300, 5e-324])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16, torch.float16])
@pytest.mark.parametrize("filters", [dict(), dict(top_k=3), dict(top_p=0.5), dict(top_k=3, top_p=0.9)])
def test_next_token_with_underflowing_temperatures_is_argmax(t, dtype, filters):
    from transformer_lib.generation import _next_token

    logits = torch.randn(4, 10, generator=torch.Generator().manual_seed(0)).to(dtype)
    ids = _next_token(logits, t, filters.get("top_k"), filters.get("top_p"), torch.Generator().manual_seed(0))
    assert torch.equal(ids[:, 0], logits.float().argmax(-1))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a second device")
def test_generator_on_another_device_is_refused():
    with pytest.raises(ValueError, match="generator is on cpu but tokens are on cuda"):
        tl.generate(_gpt("cuda"), PROMPT.cuda(), 2, generator=torch.Generator())


def test_numpy_integer_settings():
    out = tl.generate(_gpt(), PROMPT, np.int64(3), top_k=np.int32(5), temperature=0)
    assert out.shape == (1, 6)


def test_generate_asks_a_gpt_for_the_last_position_only():
    """generate needs one row of logits per step: GPT computes only that row, same tokens."""
    import transformer_lib as tl

    torch.manual_seed(0)
    model = tl.GPT(tl.TransformerConfig(vocab_size=30, d_model=16, n_heads=2, n_layers=2, max_len=32))
    import functools

    seen = []
    original = model.forward

    @functools.wraps(original)  # keeps forward's signature, which generate reads
    def spy(*args, **kwargs):
        seen.append(kwargs.get("last_only", False))
        return original(*args, **kwargs)

    prompt = torch.tensor([[1, 2, 3]])
    expected = []
    with torch.no_grad():
        tokens = prompt
        for _ in range(5):  # greedy by hand, all positions computed
            nxt = model(tokens)[:, -1].argmax(-1, keepdim=True)
            tokens = torch.cat([tokens, nxt], dim=1)
        expected = tokens
    model.forward = spy
    out = tl.generate(model, prompt, max_new_tokens=5, temperature=0)
    assert all(seen) and len(seen) == 5
    assert torch.equal(out, expected)


def test_greedy_decode_names_a_model_that_is_not_an_encoder_decoder():
    with pytest.raises(TypeError, match="needs an encoder-decoder Transformer.*use generate"):
        tl.greedy_decode(_gpt(), torch.tensor([[1, 2]]), max_len=2, bos_id=1)
