"""Copy weights between transformer_lib modules and reference modules (PyTorch, transformers).

PyTorch's ``nn.MultiheadAttention`` is copied by the library itself,
:meth:`transformer_lib.MultiHeadAttention.from_torch` (the one way to do it).

transformers' Llama stores W_q and W_k for the "half" RoPE layout (pairs (i, i + d_k/2));
:func:`llama_state_dict` copies them as stored for ``rope_layout="half"`` and permutes their
rows for ``rope_layout="interleaved"`` (pairs (2i, 2i+1), the GGUF layout).

Tolerances used by the reference tests (max absolute difference):
float32 1e-5, float64 1e-10.
"""
import torch

import transformer_lib as tl
from transformer_lib.positional import half_to_interleaved

TOL = {torch.float32: 1e-5, torch.float64: 1e-10}


@torch.no_grad()
def copy_mha(mine, ref) -> None:
    """transformer_lib.MultiHeadAttention <- torch.nn.MultiheadAttention."""
    mine.load_state_dict(tl.MultiHeadAttention.from_torch(ref).state_dict())


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


def llama_config(hf_config, rope_layout: str = "half", **overrides) -> tl.TransformerConfig:
    """transformers' LlamaConfig -> the TransformerConfig of the same model."""
    rope = getattr(hf_config, "rope_parameters", None) or {"rope_theta": hf_config.rope_theta}
    fields = dict(
        vocab_size=hf_config.vocab_size, d_model=hf_config.hidden_size, n_heads=hf_config.num_attention_heads,
        n_kv_heads=hf_config.num_key_value_heads, n_layers=hf_config.num_hidden_layers,
        d_ff=hf_config.intermediate_size, max_len=hf_config.max_position_embeddings,
        activation="swiglu", norm="rmsnorm", layer_norm_eps=hf_config.rms_norm_eps, norm_first=True,
        positional="rope", rope_base=float(rope["rope_theta"]), rope_layout=rope_layout,
        bias=False, tie_embeddings=bool(hf_config.tie_word_embeddings),
    )
    fields.update(overrides)
    return tl.TransformerConfig(**fields)


def llama_state_dict(hf_model, rope_layout: str = "half") -> dict:
    """transformers' LlamaForCausalLM weights -> transformer_lib.GPT parameter names."""
    cfg = hf_model.config
    H, H_kv = cfg.num_attention_heads, cfg.num_key_value_heads
    hf = hf_model.state_dict()
    rows = (lambda w, n: w) if rope_layout == "half" else half_to_interleaved
    out = {"tok_emb.embedding.weight": hf["model.embed_tokens.weight"],
           "norm_f.weight": hf["model.norm.weight"],
           "lm_head.weight": hf.get("lm_head.weight", hf["model.embed_tokens.weight"])}
    for i in range(cfg.num_hidden_layers):
        h, o = f"model.layers.{i}.", f"blocks.{i}."
        out[o + "norm1.weight"] = hf[h + "input_layernorm.weight"]
        out[o + "self_attn.w_q.weight"] = rows(hf[h + "self_attn.q_proj.weight"], H)  # (H d_k, D)
        out[o + "self_attn.w_k.weight"] = rows(hf[h + "self_attn.k_proj.weight"], H_kv)  # (H_kv d_k, D)
        out[o + "self_attn.w_v.weight"] = hf[h + "self_attn.v_proj.weight"]
        out[o + "self_attn.w_o.weight"] = hf[h + "self_attn.o_proj.weight"]
        out[o + "norm2.weight"] = hf[h + "post_attention_layernorm.weight"]
        for ours, theirs in (("w_gate", "gate_proj"), ("w_up", "up_proj"), ("w_down", "down_proj")):
            out[o + f"ffn.{ours}.weight"] = hf[h + f"mlp.{theirs}.weight"]
    return out


def max_diff(a, b) -> float:
    return (a - b).abs().max().item()
