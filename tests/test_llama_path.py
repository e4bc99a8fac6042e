"""The Llama path of GPT against transformers' LlamaForCausalLM, with the same random weights.

A tiny Llama (grouped-query attention, RMSNorm, SwiGLU, RoPE base 100000) is built in
transformers from a config (no download) and copied into ``transformer_lib.GPT``, in both
RoPE layouts: "half" (transformers' weights as stored) and "interleaved" (W_q, W_k rows
permuted, the GGUF layout). Compared: logits, attention weights (eager), the KV cache
(cached = uncached greedy generation).

Tolerances (max absolute difference of logits of size up to about 5, and of weights):
float32 2e-5; float64 1e-10. transformers computes RMSNorm, the RoPE angles and the
softmax in float32 whatever the input (by design, for half precision), so the float64 test
runs those three in float64: the same formulas, without the casts.
"""
import pytest
import torch
from _reference import llama_config, llama_state_dict, max_diff

import transformer_lib as tl

transformers = pytest.importorskip("transformers")
from transformers import LlamaConfig, LlamaForCausalLM  # noqa: E402
from transformers.models.llama import modeling_llama  # noqa: E402

LOGIT_TOL = {torch.float32: 2e-5, torch.float64: 1e-10}


def _rms_norm_in_input_dtype(self, hidden_states):
    variance = hidden_states.pow(2).mean(-1, keepdim=True)
    return self.weight * (hidden_states * torch.rsqrt(variance + self.variance_epsilon))


@torch.no_grad()
def _rotary_in_float64(self, x, position_ids):
    base, dim = self.config.rope_parameters["rope_theta"], self.inv_freq.shape[0] * 2
    inv_freq = base ** (-torch.arange(0, dim, 2, dtype=torch.float64) / dim)
    freqs = position_ids[..., None].double() * inv_freq  # (B, T, d_k/2)
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos().to(x.dtype), emb.sin().to(x.dtype)


def _eager_attention_in_input_dtype(module, query, key, value, attention_mask, scaling, dropout=0.0, **kwargs):
    key = modeling_llama.repeat_kv(key, module.num_key_value_groups)
    value = modeling_llama.repeat_kv(value, module.num_key_value_groups)
    scores = torch.matmul(query, key.transpose(2, 3)) * scaling
    if attention_mask is not None:
        scores = scores + attention_mask
    weights = torch.softmax(scores, dim=-1)
    return torch.matmul(weights, value).transpose(1, 2).contiguous(), weights


def _in_float64(monkeypatch):
    """transformers computes RMSNorm, the RoPE angles and the softmax in float32 whatever the
    input (by design, for half precision); for a float64 comparison run the same formulas in
    float64."""
    monkeypatch.setattr(modeling_llama.LlamaRMSNorm, "forward", _rms_norm_in_input_dtype)
    monkeypatch.setattr(modeling_llama.LlamaRotaryEmbedding, "forward", _rotary_in_float64)
    monkeypatch.setattr(modeling_llama, "eager_attention_forward", _eager_attention_in_input_dtype)


def _pair(layout="half", dtype=torch.float32, tied=False, use_sdpa=False, n_kv_heads=2, seed=0):
    torch.manual_seed(seed)
    hf_config = LlamaConfig(
        vocab_size=97, hidden_size=48, intermediate_size=80, num_hidden_layers=3, num_attention_heads=6,
        num_key_value_heads=n_kv_heads, max_position_embeddings=64, rms_norm_eps=1e-5,
        rope_theta=100000.0, tie_word_embeddings=tied, attention_bias=False, mlp_bias=False,
        attn_implementation="eager", initializer_range=0.2,  # logits of order 1-10, not 0.01
    )
    ref = LlamaForCausalLM(hf_config).to(dtype).eval()
    with torch.no_grad():  # random norm scales, so that a swapped norm would show
        for name, p in ref.named_parameters():
            if "norm" in name:
                p.copy_(1 + 0.1 * torch.randn_like(p))
    mine = tl.GPT(llama_config(hf_config, layout, use_sdpa=use_sdpa)).to(dtype).eval()
    mine.load_state_dict(llama_state_dict(ref, layout), strict=True)
    return mine, ref


@pytest.mark.parametrize("layout", ["half", "interleaved"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("tied", [False, True])
def test_logits_and_weights_match_transformers(layout, dtype, tied, monkeypatch):
    if dtype == torch.float64:
        _in_float64(monkeypatch)
    mine, ref = _pair(layout, dtype, tied)
    assert (mine.lm_head.weight is mine.tok_emb.embedding.weight) == tied
    tokens = torch.randint(0, 97, (2, 11))
    with torch.no_grad():
        expected = ref(tokens, output_attentions=True)
        logits, weights = mine(tokens, return_weights=True)
    assert logits.shape == (2, 11, 97) and logits.dtype == dtype
    assert max_diff(logits, expected.logits) <= LOGIT_TOL[dtype]
    assert len(weights) == 3 and weights[0].shape == (2, 6, 11, 11)  # H = 6 query heads
    for got, want in zip(weights, expected.attentions):
        assert max_diff(got, want) <= LOGIT_TOL[dtype]


@pytest.mark.parametrize("use_sdpa", [False, True])
def test_fused_path_matches_transformers(use_sdpa):
    mine, ref = _pair("interleaved", use_sdpa=use_sdpa)
    tokens = torch.randint(0, 97, (3, 20))
    with torch.no_grad():
        assert max_diff(mine(tokens), ref(tokens).logits) <= LOGIT_TOL[torch.float32]


@pytest.mark.parametrize("n_kv_heads", [1, 3, 6])
def test_other_group_sizes_match_transformers(n_kv_heads):
    mine, ref = _pair("interleaved", n_kv_heads=n_kv_heads)
    tokens = torch.randint(0, 97, (2, 9))
    assert mine.blocks[0].self_attn.w_k.weight.shape == (n_kv_heads * 8, 48)
    with torch.no_grad():
        assert max_diff(mine(tokens), ref(tokens).logits) <= LOGIT_TOL[torch.float32]


@pytest.mark.parametrize("use_sdpa", [False, True])
def test_greedy_generation_cached_equals_uncached_and_transformers(use_sdpa):
    mine, ref = _pair("interleaved", use_sdpa=use_sdpa)
    prompt = torch.randint(0, 97, (2, 5))
    cached, cached_logits = tl.generate(mine, prompt, 25, temperature=0, use_cache=True, return_logits=True)
    full, full_logits = tl.generate(mine, prompt, 25, temperature=0, use_cache=False, return_logits=True)
    assert torch.equal(cached, full)
    assert max_diff(cached_logits, full_logits) <= LOGIT_TOL[torch.float32]
    expected = ref.generate(prompt, max_new_tokens=25, do_sample=False, pad_token_id=0)
    assert torch.equal(cached, expected)


def test_cache_holds_only_the_key_value_heads():
    mine, _ = _pair("interleaved")
    cache = mine.new_cache()
    mine(torch.randint(0, 97, (2, 7)), cache=cache)
    assert cache[0].keys.shape == (2, 2, 7, 8)  # (B, H_kv, S, d_k): 2 of the 6 heads
    assert cache[0].values.shape == (2, 2, 7, 8)


def test_the_two_rope_layouts_compute_the_same_model():
    half, _ = _pair("half")
    inter, _ = _pair("interleaved")
    tokens = torch.randint(0, 97, (2, 13))
    with torch.no_grad():
        assert max_diff(half(tokens), inter(tokens)) <= 1e-5
