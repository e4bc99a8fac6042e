"""Whole models: configuration checks, causality, the KV cache, and weights for plots."""
import pytest
import torch
from _reference import max_diff

import transformer_lib as tl


def _cfg(**kw):
    base = dict(vocab_size=50, d_model=32, n_heads=4, n_layers=2, d_ff=64, max_len=64)
    base.update(kw)
    return tl.TransformerConfig(**base)


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(d_model=30), ValueError, r"d_model=30 must be divisible by n_heads=4"),
    (dict(n_layers=0), ValueError, "n_layers must be a positive integer, got 0"),
    (dict(vocab_size=-3), ValueError, "vocab_size must be a positive integer, got -3"),
    (dict(d_ff=2.5), TypeError, "d_ff must be an int, got 2.5"),
    (dict(activation="tanh"), ValueError,
     r"activation must be one of \['gelu', 'gelu_tanh', 'relu', 'swiglu'\], got 'tanh'"),
    (dict(dropout=1.0), ValueError, r"dropout must be in \[0, 1\), got 1.0"),
    (dict(positional="alibi"), ValueError, "positional must be one of"),
    (dict(layer_norm_eps=0), ValueError, "layer_norm_eps must be a number > 0"),
    (dict(pad_id=50), ValueError, r"pad_id must be an id in \[0, 49\], got 50"),
    (dict(d_model=12, n_heads=4, positional="rope"), ValueError, "positional='rope' needs an even head width"),
])
def test_config_validates_itself(kwargs, error, message):
    with pytest.raises(error, match=message):
        _cfg(**kwargs)


def test_config_defaults():
    cfg = tl.TransformerConfig(vocab_size=50, d_model=32, n_heads=4, n_layers=2, d_ff=64, max_len=64)
    assert cfg.d_head == 8 and cfg.layer_norm_eps == 1e-5
    assert tl.TransformerConfig(vocab_size=5, d_model=16).d_ff == 64


def test_gpt_shapes_layout_and_tied_head(device):
    model = tl.GPT(_cfg()).to(device)
    tokens = torch.randint(0, 50, (2, 9), device=device)
    logits, weights = model(tokens, return_weights=True)
    assert logits.shape == (2, 9, 50)
    assert len(weights) == 2 and weights[0].shape == (2, 4, 9, 9)
    assert model.lm_head.weight is model.tok_emb.embedding.weight
    assert all(block.norm_first for block in model.blocks)
    assert isinstance(model.pos_emb, tl.LearnedPositionalEmbedding)
    assert model.blocks[0].ffn.activation_name == "gelu_tanh"
    assert torch.all(weights[1].triu(1) == 0)  # no weight on the future


def test_gpt_is_causal(device):
    model = tl.GPT(_cfg()).to(device).eval()
    a = torch.randint(0, 50, (1, 12), device=device)
    b = a.clone()
    b[0, 7:] = (b[0, 7:] + 1) % 50
    la, lb = model(a), model(b)
    assert max_diff(la[:, :7], lb[:, :7]) == 0.0
    assert max_diff(la[:, 7:], lb[:, 7:]) > 1e-4


@pytest.mark.parametrize("use_sdpa", [False, True])
def test_generate_with_cache_equals_without(device, use_sdpa):
    model = tl.GPT(_cfg(use_sdpa=use_sdpa)).to(device)
    prompt = torch.randint(0, 50, (3, 4), device=device)
    cached, cached_logits = tl.generate(model, prompt, 20, temperature=0, use_cache=True, return_logits=True)
    full, full_logits = tl.generate(model, prompt, 20, temperature=0, use_cache=False, return_logits=True)
    assert torch.equal(cached, full) and cached.shape == (3, 24)
    assert max_diff(cached_logits, full_logits) <= 1e-5
    assert model.training  # generate restores the mode it found


def test_generate_sampling_is_repeatable_with_a_generator():
    model = tl.GPT(_cfg())
    prompt = torch.zeros(1, 1, dtype=torch.long)
    runs = [tl.generate(model, prompt, 15, temperature=0.8, top_k=5, generator=torch.Generator().manual_seed(3))
            for _ in range(2)]
    assert torch.equal(*runs)
    top1 = tl.generate(model, prompt, 10, top_k=1)
    assert torch.equal(top1, tl.generate(model, prompt, 10, temperature=0))


def test_generate_bad_arguments():
    model = tl.GPT(_cfg(max_len=10))
    prompt = torch.zeros(1, 4, dtype=torch.long)
    with pytest.raises(ValueError, match="prompt length 4 \\+ max_new_tokens 7 exceeds the model's max_len=10"):
        tl.generate(model, prompt, 7)
    with pytest.raises(ValueError, match="temperature must be a number >= 0"):
        tl.generate(model, prompt, 2, temperature=-1)
    with pytest.raises(ValueError, match="max_new_tokens must be a positive integer, got 0"):
        tl.generate(model, prompt, 0)
    with pytest.raises(ValueError, match=r"sequence length 11 \(cached 0 \+ new 11\) exceeds max_len=10"):
        model(torch.zeros(1, 11, dtype=torch.long))
    with pytest.raises(ValueError, match=r"tokens contains id 99, outside the vocabulary \[0, 49\]"):
        model(torch.tensor([[1, 99]]))


def test_kv_cache_appends_grows_and_resets():
    cache = tl.KVCache(capacity=2)
    k, v = torch.randn(1, 2, 3, 4), torch.randn(1, 2, 3, 4)
    keys, values = cache.append(k, v)
    assert len(cache) == 3 and torch.equal(keys, k) and torch.equal(values, v)
    k2 = torch.randn(1, 2, 1, 4)
    keys, _ = cache.append(k2, k2)
    assert keys.shape == (1, 2, 4, 4) and torch.equal(keys[:, :, 3:], k2) and torch.equal(cache.keys[:, :, :3], k)
    buffer = cache._keys
    cache.append(k2, k2)  # fits in the grown buffer: no re-allocation
    assert cache._keys is buffer
    cache.reset()
    assert len(cache) == 0 and cache.keys is None
    with pytest.raises(ValueError, match="must agree on"):
        cache.append(torch.randn(1, 2, 3, 4), torch.randn(1, 2, 2, 4))


def test_transformer_encoder_decoder(device):
    cfg = _cfg(src_vocab_size=20, tgt_vocab_size=30, pad_id=0)
    model = tl.Transformer(cfg).to(device).eval()
    src = torch.tensor([[5, 6, 7, 0], [8, 9, 0, 0]], device=device)
    tgt = torch.tensor([[2, 3, 4], [2, 5, 0]], device=device)
    logits, weights = model(src, tgt, return_weights=True)
    assert logits.shape == (2, 3, 30)
    assert weights["encoder"][0].shape == (2, 4, 4, 4)
    assert weights["decoder_self"][0].shape == (2, 4, 3, 3)
    assert weights["decoder_cross"][1].shape == (2, 4, 3, 4)
    assert torch.all(weights["decoder_cross"][0][1, ..., 2:] == 0)  # padding of source 2 ignored
    # the decoder is causal: changing target token 2 leaves positions 0, 1 unchanged
    tgt2 = tgt.clone()
    tgt2[:, 2] = 7
    assert max_diff(model(src, tgt)[:, :2], model(src, tgt2)[:, :2]) == 0.0
    out = tl.greedy_decode(model, src, max_len=5, bos_id=2, eos_id=3)
    assert out.shape == (2, 6) and torch.all(out[:, 0] == 2)


def test_sequence_classifier_features_and_tokens():
    cfg = _cfg()
    clf = tl.SequenceClassifier(cfg, 10, input_dim=8)
    assert clf(torch.randn(4, 8, 8)).shape == (4, 10)
    logits, weights = clf(torch.randn(4, 8, 8), return_weights=True)
    assert len(weights) == 2 and weights[0].shape == (4, 4, 8, 8)
    token_clf = tl.SequenceClassifier(_cfg(pad_id=0), 3, pooling="first")
    assert token_clf(torch.tensor([[4, 5, 0]])).shape == (1, 3)
    # mean pooling ignores padding: appending pads does not change the prediction
    mean_clf = tl.SequenceClassifier(_cfg(pad_id=0), 3).eval()
    assert max_diff(mean_clf(torch.tensor([[4, 5]])), mean_clf(torch.tensor([[4, 5, 0, 0]]))) <= 1e-5
    with pytest.raises(ValueError, match=r"x must have input_dim=8 features, got shape \(4, 8, 7\)"):
        clf(torch.randn(4, 8, 7))
    with pytest.raises(ValueError, match="n_classes must be a positive integer"):
        tl.SequenceClassifier(cfg, 0)


def test_encoder_pre_norm_has_final_norm_and_post_norm_does_not():
    assert isinstance(tl.Encoder(_cfg(norm_first=True)).norm_f, torch.nn.LayerNorm)
    assert isinstance(tl.Encoder(_cfg()).norm_f, torch.nn.Identity)
    assert isinstance(tl.GPT(_cfg(norm_first=False)).norm_f, torch.nn.Identity)


def test_models_reject_non_configs():
    with pytest.raises(TypeError, match="config must be a TransformerConfig, got dict"):
        tl.GPT({"vocab_size": 3})


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(n_kv_heads=3), ValueError, "n_heads=4 must be divisible by n_kv_heads=3"),
    (dict(norm="batchnorm"), ValueError, r"norm must be one of \['layernorm', 'rmsnorm'\]"),
    (dict(rope_layout="gptj"), ValueError, r"rope_layout must be one of \['half', 'interleaved'\]"),
    (dict(rope_base=0.5), ValueError, "rope_base must be a number > 1"),
    (dict(tie_embeddings="yes"), TypeError, "tie_embeddings must be True or False"),
])
def test_config_validates_the_llama_choices(kwargs, error, message):
    with pytest.raises(error, match=message):
        _cfg(**kwargs)


def test_config_repr_shows_llama_choices_only_when_set():
    assert "norm=" not in repr(_cfg()).replace("norm_first", "") and "n_kv_heads" not in repr(_cfg())
    assert "n_kv_heads=2" in repr(_cfg(n_kv_heads=2)) and "norm='rmsnorm'" in repr(_cfg(norm="rmsnorm"))


def _llama_cfg(**kw):
    return _cfg(n_kv_heads=2, activation="swiglu", norm="rmsnorm", positional="rope", rope_base=100000.0,
                bias=False, **kw)


def test_llama_setting_builds_the_llama_modules():
    model = tl.GPT(_llama_cfg(tie_embeddings=False))
    block = model.blocks[0]
    assert model.pos_emb is None and block.self_attn.rotary.base == 100000.0
    assert isinstance(block.norm1, tl.RMSNorm) and isinstance(model.norm_f, tl.RMSNorm)
    assert isinstance(block.ffn, tl.SwiGLUFeedForward)
    assert block.self_attn.w_k.weight.shape == (16, 32)  # H_kv d_k = 2 * 8
    assert model.lm_head.weight is not model.tok_emb.embedding.weight
    assert not any(name.endswith("bias") for name, _ in model.named_parameters())
    names = set(model.state_dict())
    assert {"tok_emb.embedding.weight", "blocks.0.ffn.w_gate.weight", "blocks.0.norm1.weight",
            "norm_f.weight", "lm_head.weight"} <= names
    logits, weights = model(torch.randint(0, 50, (2, 6)), return_weights=True)
    assert logits.shape == (2, 6, 50) and weights[0].shape == (2, 4, 6, 6)


def test_final_norm_follows_bias():
    assert tl.GPT(_cfg(bias=False)).norm_f.bias is None
    assert tl.GPT(_cfg()).norm_f.bias is not None


@pytest.mark.parametrize("use_sdpa", [False, True])
def test_llama_setting_generates_the_same_with_and_without_cache(use_sdpa):
    model = tl.GPT(_llama_cfg(use_sdpa=use_sdpa))
    prompt = torch.randint(0, 50, (2, 3))
    cached = tl.generate(model, prompt, 12, temperature=0, use_cache=True)
    assert torch.equal(cached, tl.generate(model, prompt, 12, temperature=0, use_cache=False))


def test_gpt_accepts_small_integer_ids():
    model = tl.GPT(_cfg()).eval()
    ids = torch.randint(0, 50, (1, 5))
    for dtype in (torch.int8, torch.int16, torch.uint8, torch.int32):
        assert torch.equal(model(ids.to(dtype)), model(ids))


def test_last_only_gives_the_last_row_of_the_logits():
    model = tl.GPT(_llama_cfg()).eval()
    tokens = torch.randint(0, 50, (2, 7))
    full = model(tokens)
    last = model(tokens, last_only=True)
    assert last.shape == (2, 1, 50) and max_diff(last, full[:, -1:]) <= 1e-6


def test_right_padding_does_not_change_a_gpt_s_real_positions():
    model = tl.GPT(_llama_cfg()).eval()
    short = torch.randint(1, 50, (1, 4))
    padded = torch.cat([short, torch.zeros(1, 3, dtype=torch.long)], 1)  # right-padded to 7
    assert max_diff(model(padded)[:, :4], model(short)) <= 1e-5
