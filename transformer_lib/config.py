"""The configuration of a whole model, checked when it is created.

Components take their sizes as arguments; only whole models take a config.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace

from ._checks import check_choice, check_divisible, check_positive_int, check_probability
from .feed_forward import FFN_KINDS
from .norms import NORMS
from .positional import ROPE_LAYOUTS

__all__ = ["TransformerConfig"]

POSITIONAL_KINDS = {"sinusoidal", "learned", "rope", "none"}


@dataclass
class TransformerConfig:
    """Sizes and choices of a Transformer model.

    Fields left at ``None`` take the model's own default: the encoder-decoder
    ``Transformer`` and ``SequenceClassifier`` follow the paper (post-norm, ReLU,
    sinusoidal positions); ``GPT`` follows GPT-2 (pre-norm, GELU-tanh, learned
    positions, LayerNorm, tied output head). ``d_ff`` defaults to ``4 * d_model``.

    The choices that turn GPT-2 into a Llama-style model (SmolLM2):

    * ``activation``: "relu", "gelu", "gelu_tanh" (two-layer MLP) or "swiglu" (gated FFN);
    * ``norm``: "layernorm" or "rmsnorm"; ``layer_norm_eps`` is the epsilon of either;
    * ``n_kv_heads``: key/value heads H_kv of grouped-query attention (None = ``n_heads``);
    * ``positional``: "learned", "sinusoidal", "rope" or "none"; with "rope",
      ``rope_base`` and ``rope_layout`` ("interleaved" pairs (2i, 2i+1) as in GGUF
      files, or "half" pairs (i, i + d_k/2) as in transformers' checkpoints);
    * ``tie_embeddings``: GPT's output head shares the token embedding's matrix;
    * ``bias``: biases of every linear layer and LayerNorm.

    Example::

        TransformerConfig(vocab_size=50, d_model=32, n_heads=4, n_layers=2, d_ff=64, max_len=64)
        TransformerConfig(vocab_size=50, d_model=32, n_heads=4, n_kv_heads=2, d_ff=64,
                          activation="swiglu", norm="rmsnorm", positional="rope",
                          bias=False)                             # a tiny Llama
    """

    vocab_size: int
    d_model: int = 64
    n_heads: int = 4
    n_layers: int = 2
    d_ff: int | None = None
    max_len: int = 128
    dropout: float = 0.0
    activation: str | None = None
    norm_first: bool | None = None
    layer_norm_eps: float = 1e-5
    positional: str | None = None
    src_vocab_size: int | None = None
    tgt_vocab_size: int | None = None
    n_decoder_layers: int | None = None
    pad_id: int | None = None
    bias: bool = True
    use_sdpa: bool = False
    norm: str | None = None
    n_kv_heads: int | None = None
    rope_base: float = 10000.0
    rope_layout: str = "interleaved"
    tie_embeddings: bool | None = None

    def __post_init__(self):
        check_positive_int("vocab_size", self.vocab_size)
        check_positive_int("d_model", self.d_model)
        check_positive_int("n_heads", self.n_heads)
        check_divisible("d_model", self.d_model, "n_heads", self.n_heads)
        check_positive_int("n_layers", self.n_layers)
        if self.d_ff is None:
            self.d_ff = 4 * self.d_model
        check_positive_int("d_ff", self.d_ff)
        check_positive_int("max_len", self.max_len)
        check_probability("dropout", self.dropout)
        if self.activation is not None:
            check_choice("activation", self.activation, set(FFN_KINDS))
        if self.norm is not None:
            check_choice("norm", self.norm, set(NORMS))
        if self.n_kv_heads is not None:
            check_positive_int("n_kv_heads", self.n_kv_heads)
            check_divisible("n_heads", self.n_heads, "n_kv_heads", self.n_kv_heads)
        if isinstance(self.rope_base, bool) or not isinstance(self.rope_base, (int, float)) \
                or not self.rope_base > 1:
            raise ValueError(f"rope_base must be a number > 1, got {self.rope_base!r}")
        check_choice("rope_layout", self.rope_layout, set(ROPE_LAYOUTS))
        for name in ("tie_embeddings", "bias", "use_sdpa"):
            if getattr(self, name) is not None and not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be True or False, got {getattr(self, name)!r}")
        if self.norm_first is not None and not isinstance(self.norm_first, bool):
            raise TypeError(f"norm_first must be True, False or None, got {self.norm_first!r}")
        if isinstance(self.layer_norm_eps, bool) or not isinstance(self.layer_norm_eps, (int, float)) \
                or not self.layer_norm_eps > 0:
            raise ValueError(f"layer_norm_eps must be a number > 0, got {self.layer_norm_eps!r}")
        if self.positional is not None:
            check_choice("positional", self.positional, POSITIONAL_KINDS)
            if self.positional == "rope" and (self.d_model // self.n_heads) % 2:
                raise ValueError(
                    f"positional='rope' needs an even head width, got d_model // n_heads = "
                    f"{self.d_model} // {self.n_heads} = {self.d_model // self.n_heads}"
                )
        for name in ("src_vocab_size", "tgt_vocab_size", "n_decoder_layers"):
            if getattr(self, name) is not None:
                check_positive_int(name, getattr(self, name))
        if self.pad_id is not None:
            if isinstance(self.pad_id, bool) or not isinstance(self.pad_id, int) \
                    or not 0 <= self.pad_id < self.vocab_size:
                raise ValueError(f"pad_id must be an id in [0, {self.vocab_size - 1}], got {self.pad_id!r}")

    @property
    def d_head(self) -> int:
        """Width of one head d_k = d_model // n_heads."""
        return self.d_model // self.n_heads

    def __repr__(self) -> str:
        # The Llama-style choices are shown only when set, so a GPT-2 or paper config
        # prints as it always has.
        hidden = {"norm": None, "n_kv_heads": None, "rope_base": 10000.0,
                  "rope_layout": "interleaved", "tie_embeddings": None}
        shown = (f"{f.name}={getattr(self, f.name)!r}" for f in fields(self)
                 if f.name not in hidden or getattr(self, f.name) != hidden[f.name])
        return f"TransformerConfig({', '.join(shown)})"

    def resolved(self, **model_defaults) -> TransformerConfig:
        """A copy where every ``None`` choice takes the given model default."""
        updates = {k: v for k, v in model_defaults.items() if getattr(self, k) is None}
        return replace(self, **updates)

    def to_dict(self) -> dict:
        return asdict(self)
