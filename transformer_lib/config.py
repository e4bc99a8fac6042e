"""The configuration of a whole model, checked when it is created.

Components take their sizes as arguments; only whole models take a config.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from ._checks import check_choice, check_divisible, check_positive_int, check_probability
from .feed_forward import ACTIVATIONS

__all__ = ["TransformerConfig"]

POSITIONAL_KINDS = {"sinusoidal", "learned", "rope", "none"}


@dataclass
class TransformerConfig:
    """Sizes and choices of a Transformer model.

    Fields left at ``None`` take the model's own default: the encoder-decoder
    ``Transformer`` and ``SequenceClassifier`` follow the paper (post-norm, ReLU,
    sinusoidal positions); ``GPT`` follows GPT-2 (pre-norm, GELU-tanh, learned
    positions). ``d_ff`` defaults to ``4 * d_model``.

    Example::

        TransformerConfig(vocab_size=50, d_model=32, n_heads=4, n_layers=2, d_ff=64, max_len=64)
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
            check_choice("activation", self.activation, set(ACTIVATIONS))
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
        """Width of one head, d_model // n_heads."""
        return self.d_model // self.n_heads

    def resolved(self, **model_defaults) -> "TransformerConfig":
        """A copy where every ``None`` choice takes the given model default."""
        updates = {k: v for k, v in model_defaults.items() if getattr(self, k) is None}
        return replace(self, **updates)

    def to_dict(self) -> dict:
        return asdict(self)
