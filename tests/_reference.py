"""Copy weights between transformer_lib modules and PyTorch's reference modules.

PyTorch stores the three input projections of ``nn.MultiheadAttention`` as one
``in_proj_weight`` of shape (3D, D): rows [0, D) are W_q, [D, 2D) W_k, [2D, 3D) W_v.

Tolerances used by the reference tests (max absolute difference):
float32 1e-5, float64 1e-10.
"""
import torch

TOL = {torch.float32: 1e-5, torch.float64: 1e-10}


@torch.no_grad()
def copy_mha(mine, ref) -> None:
    """transformer_lib.MultiHeadAttention <- torch.nn.MultiheadAttention."""
    D = mine.d_model
    for i, linear in enumerate((mine.w_q, mine.w_k, mine.w_v)):
        linear.weight.copy_(ref.in_proj_weight[i * D:(i + 1) * D])
        if linear.bias is not None:
            linear.bias.copy_(ref.in_proj_bias[i * D:(i + 1) * D])
    mine.w_o.weight.copy_(ref.out_proj.weight)
    if mine.w_o.bias is not None:
        mine.w_o.bias.copy_(ref.out_proj.bias)


@torch.no_grad()
def copy_encoder_layer(mine, ref) -> None:
    """transformer_lib.EncoderLayer <- torch.nn.TransformerEncoderLayer."""
    copy_mha(mine.self_attn, ref.self_attn)
    mine.ffn.linear1.load_state_dict(ref.linear1.state_dict())
    mine.ffn.linear2.load_state_dict(ref.linear2.state_dict())
    mine.norm1.load_state_dict(ref.norm1.state_dict())
    mine.norm2.load_state_dict(ref.norm2.state_dict())


@torch.no_grad()
def copy_decoder_layer(mine, ref) -> None:
    """transformer_lib.DecoderLayer <- torch.nn.TransformerDecoderLayer."""
    copy_mha(mine.self_attn, ref.self_attn)
    copy_mha(mine.cross_attn, ref.multihead_attn)
    mine.ffn.linear1.load_state_dict(ref.linear1.state_dict())
    mine.ffn.linear2.load_state_dict(ref.linear2.state_dict())
    for i in (1, 2, 3):
        getattr(mine, f"norm{i}").load_state_dict(getattr(ref, f"norm{i}").state_dict())


def max_diff(a, b) -> float:
    return (a - b).abs().max().item()
