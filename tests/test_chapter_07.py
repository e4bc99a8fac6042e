"""Chapter 7 (residuals and Add & Norm): the chapter's claims, its hand-written formulas, the checkers."""
import torch
import torch.nn.functional as F

import transformer_lib as tl
from transformer_lib.exercises import ch07


def _stack(depth, residual, x, sublayers):
    h = x.clone().requires_grad_(True)
    hs = [h]
    for f in sublayers[:depth]:
        h = h + f(h) if residual else f(h)
        h.retain_grad()
        hs.append(h)
    return hs


def test_residual_keeps_the_input_and_the_gradient():
    sublayers = [tl.FeedForward(32, 128) for _ in range(16)]
    x = torch.randn(8, 32)
    direction = torch.randn(8, 32)
    result = {}
    for residual in (False, True):
        hs = _stack(16, residual, x, sublayers)
        (hs[-1] * direction).sum().backward()
        cosine = F.cosine_similarity(hs[-1], x, dim=-1).mean().item()
        result[residual] = (cosine, hs[0].grad.norm().item() / hs[-1].grad.norm().item())
    assert result[True][0] > 0.5 and abs(result[False][0]) < 0.3
    assert result[True][1] > 0.1 and result[False][1] < 1e-4


def test_hand_written_layer_norm_equals_library():
    layer = tl.EncoderLayer(8, 2, 32)
    tokens = torch.randn(4, 8) * torch.tensor([[0.5], [4.0], [1.0], [2.0]]) + 3
    mu = tokens.mean(dim=-1, keepdim=True)
    var = tokens.var(dim=-1, unbiased=False, keepdim=True)
    by_hand = layer.norm1.weight * (tokens - mu) / torch.sqrt(var + layer.norm1.eps) + layer.norm1.bias
    normed = layer.norm1(tokens)
    torch.testing.assert_close(by_hand, normed)
    torch.testing.assert_close(normed.mean(dim=-1), torch.zeros(4), atol=1e-5, rtol=0)


def test_post_and_pre_norm_formulas_equal_encoder_layer():
    post = tl.EncoderLayer(16, 4, 64, norm_first=False)
    pre = tl.EncoderLayer(16, 4, 64, norm_first=True)
    pre.load_state_dict(post.state_dict())
    h = torch.randn(2, 5, 16)
    with torch.no_grad():
        a = post.norm1(h + post.self_attn(h))
        torch.testing.assert_close(post.norm2(a + post.ffn(a)), post(h))
        b = h + pre.self_attn(pre.norm1(h))
        torch.testing.assert_close(b + pre.ffn(pre.norm2(b)), pre(h))


def test_post_norm_keeps_token_norm_and_pre_norm_lets_it_grow():
    torch.manual_seed(4)
    post = torch.nn.ModuleList(tl.EncoderLayer(64, 4, 256, norm_first=False) for _ in range(12))
    pre = torch.nn.ModuleList(tl.EncoderLayer(64, 4, 256, norm_first=True) for _ in range(12))
    pre.load_state_dict(post.state_dict())
    x = torch.randn(1, 8, 64)
    with torch.no_grad():
        hp, hq = x, x
        for a, b in zip(post, pre):
            hp, hq = a(hp), b(hq)
    torch.testing.assert_close(hp.norm(dim=-1), torch.full((1, 8), 8.0), atol=1e-2, rtol=0)
    assert hq.norm(dim=-1).mean() > 1.2 * x.norm(dim=-1).mean()


def test_exercise_1(capsys):
    assert ch07.check_exercise_1([-1.3416, -0.4472, 0.4472, 1.3416])
    assert not ch07.check_exercise_1(None)
    assert not ch07.check_exercise_1([-3, -1, 1, 3])
    assert "divide by the standard deviation" in capsys.readouterr().out
    x = torch.tensor([2.0, 4.0, 6.0, 8.0])
    assert not ch07.check_exercise_1((x - 5) / x.std(unbiased=True))
    assert "d = 4" in capsys.readouterr().out
    assert not ch07.check_exercise_1([1, 2])


def test_exercise_2(capsys):
    assert ch07.check_exercise_2([1, 2, 3, 4])
    assert not ch07.check_exercise_2(None)
    assert not ch07.check_exercise_2([-1.3416, -0.4472, 0.4472, 1.3416])
    assert "post-norm" in capsys.readouterr().out
    assert not ch07.check_exercise_2([0, 0, 0, 0])
