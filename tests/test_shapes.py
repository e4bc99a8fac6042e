"""Tests of the shape tracer (transformer_lib.shapes)."""
import pytest
import torch
from torch import nn

from transformer_lib.shapes import format_shape, trace_shapes


def test_trace_records_calls_in_order_with_shapes_and_depth():
    model = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Sequential(nn.Linear(5, 2)))
    trace = trace_shapes(model, torch.zeros(4, 3))
    assert [r.name for r in trace] == ["", "0", "1", "2", "2.0"]
    assert [r.depth for r in trace] == [0, 1, 1, 1, 2]
    assert trace[0].inputs == [(4, 3)] and trace[0].output == [(4, 2)]
    assert trace.find("0").output == [(4, 5)]
    assert trace.find("2.0").n_params == 5 * 2 + 2
    # Hooks are removed afterwards.
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())


def test_trace_of_a_library_gpt_matches_its_real_output():
    from transformer_lib import GPT, TransformerConfig

    cfg = TransformerConfig(vocab_size=20, d_model=16, n_heads=2, n_layers=3, d_ff=48, max_len=10)
    model = GPT(cfg)
    tokens = torch.randint(0, 20, (2, 7), generator=torch.Generator().manual_seed(0))
    trace = trace_shapes(model, tokens, legend={"B": 2, "T": 7, "D": 16, "F": 48, "V": 20})
    assert trace[0].output == [tuple(model(tokens).shape)] == [(2, 7, 20)]
    assert sum(r.kind == "MultiHeadAttention" for r in trace) == 3
    assert trace.find("blocks.0.ffn.linear1").output == [(2, 7, 48)]
    text = trace.table()
    assert "(B, T, F) = (2, 7, 48)" in text and "Dropout" not in text
    assert "blocks.2.self_attn.w_q" in trace.table(max_depth=3)
    assert "blocks.2.self_attn.w_q" not in trace.table(max_depth=2)


def test_format_shape_names_only_unambiguous_sizes():
    assert format_shape((2, 6, 32), {"B": 2, "T": 6, "D": 32}) == "(B, T, D) = (2, 6, 32)"
    assert format_shape((2, 2), {"B": 2, "H": 2}) == "(2, 2)"
    assert format_shape((3,), None) == "(3)"


def test_trace_rejects_non_modules():
    with pytest.raises(TypeError, match="nn.Module"):
        trace_shapes(lambda x: x, torch.zeros(1))
