import math

import pytest
import torch

import transformer_lib as tl


def test_sinusoidal_formula_interleaved():
    pe = tl.sinusoidal_encoding(50, 16)
    assert pe.shape == (50, 16) and pe.dtype == torch.float32
    for pos in (0, 1, 7, 49):
        for i in range(8):
            angle = pos / 10000 ** (2 * i / 16)
            assert pe[pos, 2 * i].item() == pytest.approx(math.sin(angle), abs=1e-6)
            assert pe[pos, 2 * i + 1].item() == pytest.approx(math.cos(angle), abs=1e-6)


def test_odd_d_model_and_concatenated_layout():
    pe = tl.sinusoidal_encoding(10, 7)
    assert pe.shape == (10, 7)
    assert pe[3, 6].item() == pytest.approx(math.sin(3 / 10000 ** (6 / 7)), abs=1e-6)
    cat = tl.sinusoidal_encoding(10, 8, layout="concatenated")
    inter = tl.sinusoidal_encoding(10, 8)
    assert torch.equal(cat[:, :4], inter[:, 0::2]) and torch.equal(cat[:, 4:], inter[:, 1::2])


def test_sinusoidal_module_adds_a_buffer(device):
    module = tl.SinusoidalPositionalEncoding(max_len=20, d_model=8).to(device)
    assert "pe" in dict(module.named_buffers()) and module.pe.device.type == device.type
    x = torch.zeros(2, 5, 8, device=device)
    assert torch.equal(module(x)[0], module.pe[:5])
    assert torch.equal(module(x, offset=3)[1], module.pe[3:8])
    message = "sequence of length 5 at offset 16 needs 21 positions, but the positional table has max_len=20"
    with pytest.raises(ValueError, match=message):
        module(x, offset=16)


def test_learned_positions():
    module = tl.LearnedPositionalEmbedding(10, 4)
    x = torch.zeros(1, 3, 4)
    assert torch.equal(module(x)[0], module.embedding.weight[:3])
    with pytest.raises(ValueError, match="max_len=10"):
        module(torch.zeros(1, 11, 4))


def test_rope_preserves_norms_and_depends_on_relative_position():
    rope = tl.RotaryEmbedding(16, max_len=64)
    q, k = torch.randn(16), torch.randn(16)
    def score(m, n):
        return (rope.rotate(q[None], offset=m) @ rope.rotate(k[None], offset=n).T).item()
    assert score(5, 2) == pytest.approx(score(13, 10), abs=1e-4)
    assert score(0, 0) == pytest.approx((q @ k).item(), abs=1e-5)
    assert score(5, 2) != pytest.approx(score(5, 4), abs=1e-3)
    x = torch.randn(2, 3, 7, 16)
    assert torch.allclose(rope.rotate(x).norm(dim=-1), x.norm(dim=-1), atol=1e-5)
    with pytest.raises(ValueError, match="d_head must be even for rotary embeddings"):
        tl.RotaryEmbedding(7)


def test_rope_in_a_gpt_keeps_cache_equal_to_full_pass():
    cfg = tl.TransformerConfig(vocab_size=30, d_model=32, n_heads=4, n_layers=2, max_len=40, positional="rope")
    model = tl.GPT(cfg).eval()
    assert model.pos_emb is None
    prompt = torch.randint(0, 30, (2, 5))
    a, la = tl.generate(model, prompt, 10, temperature=0, use_cache=True, return_logits=True)
    b, lb = tl.generate(model, prompt, 10, temperature=0, use_cache=False, return_logits=True)
    assert torch.equal(a, b) and (la - lb).abs().max() <= 1e-5


def test_token_embedding_scale_and_range():
    emb = tl.TokenEmbedding(10, 16)
    ids = torch.tensor([[1, 2]])
    assert torch.allclose(emb(ids), emb.embedding(ids) * 4.0)
    unscaled = tl.TokenEmbedding(10, 16, scale=False)
    assert torch.equal(unscaled(ids), unscaled.embedding(ids))
    with pytest.raises(ValueError, match=r"tokens contains id 10, outside the vocabulary \[0, 9\] \(vocab_size=10\)"):
        emb(torch.tensor([[1, 10]]))
    with pytest.raises(ValueError, match="tokens contains id -1"):
        emb(torch.tensor([[-1]]))
    with pytest.raises(TypeError, match="tokens must hold integer token ids, got dtype torch.float32"):
        emb(torch.tensor([[1.0]]))


def test_rope_half_layout_matches_transformers_rotate_half():
    d_k, T = 8, 6
    rope = tl.RotaryEmbedding(d_k, max_len=16, base=100000.0, layout="half")
    x = torch.randn(2, 3, T, d_k, dtype=torch.float64)
    inv_freq = 100000.0 ** (-torch.arange(0, d_k, 2, dtype=torch.float64) / d_k)
    angle = torch.arange(T, dtype=torch.float64)[:, None] * inv_freq  # (T, d_k/2)
    cos, sin = torch.cat([angle, angle], -1).cos(), torch.cat([angle, angle], -1).sin()
    rotate_half = torch.cat([-x[..., d_k // 2:], x[..., : d_k // 2]], -1)
    assert (rope.rotate(x) - (x * cos + rotate_half * sin)).abs().max() < 1e-12


def test_rope_layouts_agree_after_permuting_rows():
    from transformer_lib.positional import half_to_interleaved, interleaved_to_half
    H, d_k, D = 3, 8, 12
    w = torch.randn(H * d_k, D, dtype=torch.float64)
    assert torch.equal(interleaved_to_half(half_to_interleaved(w, H), H), w)
    x = torch.randn(5, D, dtype=torch.float64)
    half = tl.RotaryEmbedding(d_k, 16, layout="half")
    inter = tl.RotaryEmbedding(d_k, 16, layout="interleaved")
    q_half = half.rotate((x @ w.T).view(5, H, d_k).transpose(0, 1), offset=2)  # (H, T, d_k)
    q_inter = inter.rotate((x @ half_to_interleaved(w, H).T).view(5, H, d_k).transpose(0, 1), offset=2)
    # the same vectors, features in another order: dot products (attention scores) agree
    assert (q_half @ q_half.transpose(1, 2) - q_inter @ q_inter.transpose(1, 2)).abs().max() < 1e-12
    with pytest.raises(ValueError, match=r"layout must be one of \['half', 'interleaved'\]"):
        tl.RotaryEmbedding(8, layout="gptj")
    with pytest.raises(ValueError, match="base must be a number > 1"):
        tl.RotaryEmbedding(8, base=1)


def test_positional_modules_take_max_len_then_d_model():
    sin, learned = tl.SinusoidalPositionalEncoding(10, 4), tl.LearnedPositionalEmbedding(10, 4)
    assert sin.pe.shape == (10, 4) and learned.embedding.weight.shape == (10, 4)
    assert (sin.max_len, sin.d_model) == (learned.max_len, learned.d_model) == (10, 4)
    with pytest.raises(ValueError, match=r"x must have d_model=4 features, got shape \(1, 2, 5\)"):
        sin(torch.zeros(1, 2, 5))


def test_rope_refuses_integer_vectors_and_non_integer_offsets():
    rope = tl.RotaryEmbedding(4, max_len=8)
    q = torch.randn(1, 2, 3, 4)
    with pytest.raises(TypeError, match="x must be a floating-point tensor"):
        rope(q.long(), q.long())  # integer vectors would be rotated and truncated
    with pytest.raises(TypeError, match="offset must be a non-negative int"):
        rope(q, q, offset=1.0)
    with pytest.raises(ValueError, match="offset must be a non-negative int"):
        rope(q, q, offset=-1)
    with pytest.raises(ValueError, match="d_k = 6 / 2 = 3 must be even"):
        tl.positional.interleaved_to_half(torch.randn(6, 4), n_heads=2)


def test_learned_positions_refuse_another_dtype_instead_of_promoting():
    pos = tl.LearnedPositionalEmbedding(16, 8)
    with pytest.raises(TypeError, match="module's dtype torch.float32, got torch.float16"):
        pos(torch.randn(1, 4, 8).half())
    assert pos.half()(torch.randn(1, 4, 8).half()).dtype == torch.float16
