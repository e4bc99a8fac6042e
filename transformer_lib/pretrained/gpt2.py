"""GPT-2 checkpoints in :class:`~transformer_lib.models.GPT`: the name mapping and :func:`load_gpt2`.

GPT-2 is the library's ``GPT`` with pre-norm layers, GELU (tanh approximation),
learned positions and the output head tied to the token embedding, so loading
it is a renaming plus two details of the checkpoint format:

* GPT-2 stores its linear layers as ``Conv1D`` with weight (in_features,
  out_features), the transpose of ``nn.Linear``'s (out_features, in_features);
* ``attn.c_attn`` holds the query, key and value projections side by side (D, 3D).

How one layer ``h.i`` maps onto the library's ``blocks[i]``::

    h.i.ln_1            -> blocks[i].norm1        (before attention)
    h.i.attn.c_attn     -> blocks[i].self_attn.w_q | w_k | w_v   (split, transposed)
    h.i.attn.c_proj     -> blocks[i].self_attn.w_o               (transposed)
    h.i.ln_2            -> blocks[i].norm2        (before the feed-forward layer)
    h.i.mlp.c_fc        -> blocks[i].ffn.linear1  (D -> d_ff, transposed)
    h.i.mlp.c_proj      -> blocks[i].ffn.linear2  (d_ff -> D, transposed)
"""
from __future__ import annotations

import torch

from ..config import TransformerConfig
from ..models import GPT
from .checkpoint import (
    CheckpointError,
    build_and_load,
    config_field,
    hf_activation,
    read_checkpoint,
    strip_prefix,
    take,
)

__all__ = ["load_gpt2"]


def _gpt2_config(config: dict, file) -> TransformerConfig:
    """Hugging Face GPT-2 config.json -> TransformerConfig; errors name ``file``."""
    if config.get("model_type", "gpt2") != "gpt2":
        raise CheckpointError(
            f"{file}: model_type={config.get('model_type')!r}; load_gpt2 reads GPT-2 checkpoints "
            "(model_type 'gpt2'); use load_bert for BERT"
        )
    for flag in ("scale_attn_by_inverse_layer_idx", "reorder_and_upcast_attn", "add_cross_attention"):
        if config_field(config, flag, file, bool, default=False):
            raise CheckpointError(f"{file}: {flag}=True is not supported by transformer_lib.GPT")
    if not config_field(config, "scale_attn_weights", file, bool, default=True):
        raise CheckpointError(f"{file}: scale_attn_weights=False is not supported (GPT divides by sqrt(d_k))")
    d_model = config_field(config, "n_embd", file)
    activation = hf_activation(config, "activation_function", file)
    layer_norm_eps = config_field(config, "layer_norm_epsilon", file, float, default=1e-5)
    sizes = dict(
        vocab_size=config_field(config, "vocab_size", file),
        n_heads=config_field(config, "n_head", file),
        n_layers=config_field(config, "n_layer", file),
        d_ff=config_field(config, "n_inner", file, default=4 * d_model),  # null in GPT-2's own files
        max_len=config_field(config, "n_positions", file),
    )
    try:
        return TransformerConfig(
            d_model=d_model,
            **sizes,
            dropout=0.0,
            activation=activation,
            norm_first=True,
            layer_norm_eps=layer_norm_eps,
        )
    except (TypeError, ValueError) as error:  # sizes that do not fit together, e.g. n_embd % n_head
        raise CheckpointError(f"{file}: {error}") from None


def _gpt2_assignments(
    weights: dict[str, torch.Tensor], config: TransformerConfig, source: str
) -> dict[str, torch.Tensor]:
    """GPT-2 tensor names -> GPT parameter names.

    GPT-2 stores its linear layers as ``Conv1D`` with weight (in_features, out_features):
    the transpose of ``nn.Linear``'s (out_features, in_features). Its ``c_attn``
    holds the query, key and value projections side by side: (D, 3D).
    """
    lm_head = weights.get("lm_head.weight")
    weights = strip_prefix(weights, ("transformer.",))
    D = config.d_model
    wte = take(weights, "wte.weight", source)
    if lm_head is not None and not torch.equal(lm_head, wte):
        raise CheckpointError(
            f"{source}: lm_head.weight differs from wte.weight, but transformer_lib.GPT ties the "
            "output head to the token embedding"
        )
    out = {
        "tok_emb.embedding.weight": wte,
        "lm_head.weight": wte,  # tied: the same tensor
        "pos_emb.embedding.weight": take(weights, "wpe.weight", source),
        "norm_f.weight": take(weights, "ln_f.weight", source),
        "norm_f.bias": take(weights, "ln_f.bias", source),
    }
    for i in range(config.n_layers):
        h = f"h.{i}."
        ours = f"blocks.{i}."
        # [book: gpt2-split]
        qkv_weight = take(weights, h + "attn.c_attn.weight", source).t()  # (D, 3D) -> (3D, D)
        qkv_bias = take(weights, h + "attn.c_attn.bias", source)  # (3D,)
        if qkv_weight.shape != (3 * D, D):
            raise CheckpointError(
                f"{source}: {h}attn.c_attn.weight has shape {tuple(qkv_weight.t().shape)}, expected "
                f"({D}, {3 * D}) for n_embd={D}; does config.json belong to these weights?"
            )
        for name, w, b in zip(("w_q", "w_k", "w_v"), qkv_weight.split(D, dim=0), qkv_bias.split(D, dim=0)):
            out[f"{ours}self_attn.{name}.weight"] = w  # (D, D) rows q | k | v
            out[f"{ours}self_attn.{name}.bias"] = b  # (D,)
        out[f"{ours}self_attn.w_o.weight"] = take(weights, h + "attn.c_proj.weight", source).t()  # (D, D)^T
        out[f"{ours}self_attn.w_o.bias"] = take(weights, h + "attn.c_proj.bias", source)
        out[f"{ours}ffn.linear1.weight"] = take(weights, h + "mlp.c_fc.weight", source).t()  # (D, F) -> (F, D)
        out[f"{ours}ffn.linear1.bias"] = take(weights, h + "mlp.c_fc.bias", source)
        out[f"{ours}ffn.linear2.weight"] = take(weights, h + "mlp.c_proj.weight", source).t()  # (F, D) -> (D, F)
        out[f"{ours}ffn.linear2.bias"] = take(weights, h + "mlp.c_proj.bias", source)
        # [/book: gpt2-split]
        for norm_ours, norm_theirs in (("norm1", "ln_1"), ("norm2", "ln_2")):
            out[f"{ours}{norm_ours}.weight"] = take(weights, f"{h}{norm_theirs}.weight", source)
            out[f"{ours}{norm_ours}.bias"] = take(weights, f"{h}{norm_theirs}.bias", source)
    return out


def load_gpt2(path) -> GPT:
    """Load a Hugging Face GPT-2 checkpoint folder into :class:`~transformer_lib.models.GPT`.

    Args:
        path: a folder with ``config.json`` and ``model.safetensors`` (or ``pytorch_model.bin``).

    Returns:
        a ``GPT`` in eval mode whose ``model(tokens)`` gives the checkpoint's logits
        (B, T, V) and which works with :func:`transformer_lib.generate`. The
        tokenizer, if the folder has one, comes from :func:`load_tokenizer`.
    """
    _, config, weights, source = read_checkpoint(path, _gpt2_config)
    return build_and_load(lambda: GPT(config), _gpt2_assignments(weights, config, source), source)
