"""Whole models: encoder, decoder, encoder-decoder, GPT and a sequence classifier.

Legend: B batch, S source length, T target length, D d_model, H heads, V vocabulary.
(In a GPT with a cache, S = cached + new positions.)

Every model takes a :class:`~transformer_lib.config.TransformerConfig` and can
return its attention weights, one (B, H, T, S) tensor per layer, for the plots.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from ._checks import check_choice, check_positive_int, check_tensor
from .cache import KVCache
from .config import TransformerConfig
from .embeddings import _Embed, _Embeddings
from .layers import DecoderLayer, EncoderLayer
from .masks import default_padding_mask
from .norms import make_norm
from .pooling import mean_pool
from .positional import RotaryEmbedding

__all__ = ["Encoder", "Decoder", "Transformer", "GPT", "SequenceClassifier"]

PAPER_DEFAULTS = dict(norm_first=False, activation="relu", positional="sinusoidal", norm="layernorm")
GPT2_DEFAULTS = dict(norm_first=True, activation="gelu_tanh", positional="learned", norm="layernorm",
                     tie_embeddings=True)


def _check_config(config) -> TransformerConfig:
    if not isinstance(config, TransformerConfig):
        raise TypeError(f"config must be a TransformerConfig, got {type(config).__name__}")
    return config


def _rotary(config: TransformerConfig) -> RotaryEmbedding | None:
    """One RotaryEmbedding shared by every layer (it holds no parameters), or None."""
    if config.positional != "rope":
        return None
    return RotaryEmbedding(config.d_head, config.max_len, base=config.rope_base, layout=config.rope_layout)


def _layer_options(config: TransformerConfig) -> dict:
    """The keyword arguments every layer of a model built from ``config`` shares."""
    return dict(
        dropout=config.dropout, activation=config.activation, norm_first=config.norm_first,
        layer_norm_eps=config.layer_norm_eps, bias=config.bias, use_sdpa=config.use_sdpa,
        norm=config.norm, n_kv_heads=config.n_kv_heads,
    )


def _final_norm(config: TransformerConfig) -> nn.Module:
    """The norm after the last pre-norm layer (a post-norm layer already ends with one)."""
    if not config.norm_first:
        return nn.Identity()
    return make_norm(config.norm, config.d_model, eps=config.layer_norm_eps, bias=config.bias)


class Encoder(nn.Module):
    """Token embedding + positions + N encoder layers (+ a final norm when pre-norm).

    Args:
        config: the model configuration (None choices follow the paper).
        vocab_size: input vocabulary; defaults to ``config.src_vocab_size or config.vocab_size``;
            ``0`` builds an encoder that takes (B, S, D) vectors instead of ids.
    """

    def __init__(self, config: TransformerConfig, vocab_size: int | None = None):
        super().__init__()
        config = _check_config(config).resolved(**PAPER_DEFAULTS)
        self.config = config
        if vocab_size is None:
            vocab_size = config.src_vocab_size or config.vocab_size
        self.embed = _Embed(config, vocab_size, scale=True)
        rotary = _rotary(config)
        self.layers = nn.ModuleList(
            EncoderLayer(config.d_model, config.n_heads, config.d_ff, rotary=rotary, **_layer_options(config))
            for _ in range(config.n_layers)
        )
        self.norm_f = _final_norm(config)

    def forward(self, src: torch.Tensor, mask: torch.Tensor | None = None, return_weights: bool = False):
        """Encode a source sequence.

        Args:
            src: (B, S) token ids, or (B, S, D) vectors.
            mask: BoolTensor broadcastable to (B, H, S, S), True = may attend; defaults to
                a padding mask from ``config.pad_id`` when set.
            return_weights: also return a list of per-layer weights (B, H, S, S).

        Returns:
            memory (B, S, D), or ``(memory, weights)``.
        """
        if mask is None:
            mask = default_padding_mask(src, self.config.pad_id)  # (B, 1, 1, S) or None
        x = self.embed(src)
        all_weights = []
        for layer in self.layers:
            if return_weights:
                x, weights = layer(x, mask=mask, return_weights=True)
                all_weights.append(weights)
            else:
                x = layer(x, mask=mask)
        x = self.norm_f(x)
        return (x, all_weights) if return_weights else x


class Decoder(nn.Module):
    """Token embedding + positions + N decoder layers (+ a final norm when pre-norm)."""

    def __init__(self, config: TransformerConfig, vocab_size: int | None = None):
        super().__init__()
        config = _check_config(config).resolved(**PAPER_DEFAULTS)
        if config.positional == "rope":
            raise ValueError("positional='rope' is supported by Encoder and GPT, not by the cross-attention Decoder")
        self.config = config
        if vocab_size is None:
            vocab_size = config.tgt_vocab_size or config.vocab_size
        self.embed = _Embed(config, vocab_size, scale=True)
        n_layers = config.n_decoder_layers or config.n_layers
        self.layers = nn.ModuleList(
            DecoderLayer(config.d_model, config.n_heads, config.d_ff, **_layer_options(config))
            for _ in range(n_layers)
        )
        self.norm_f = _final_norm(config)

    def forward(
        self,
        tgt: torch.Tensor,
        memory: torch.Tensor,
        self_mask: torch.Tensor | None = None,
        memory_mask: torch.Tensor | None = None,
        return_weights: bool = False,
    ):
        """Decode target ids (B, T) against encoder output ``memory`` (B, S, D).

        ``self_mask`` defaults to a causal mask (combined with target padding when
        ``config.pad_id`` is set). Returns (B, T, D), or ``(x, self_weights, cross_weights)``
        with per-layer lists of (B, H, T, T) and (B, H, T, S).
        """
        x = self.embed(tgt)
        is_causal = self_mask is None  # the default: causal, and target padding hidden
        if is_causal:
            self_mask = default_padding_mask(tgt, self.config.pad_id)  # (B, 1, 1, T) or None
        self_weights, cross_weights = [], []
        for layer in self.layers:
            if return_weights:
                x, sw, cw = layer(x, memory, self_mask, memory_mask, return_weights=True, is_causal=is_causal)
                self_weights.append(sw)
                cross_weights.append(cw)
            else:
                x = layer(x, memory, self_mask, memory_mask, is_causal=is_causal)
        x = self.norm_f(x)
        return (x, self_weights, cross_weights) if return_weights else x


class Transformer(nn.Module):
    """The encoder-decoder of "Attention Is All You Need", with a final linear to target logits.

    Attributes:
        encoder (Encoder), decoder (Decoder), out_proj (nn.Linear(D, V_target)).
    """

    def __init__(self, config: TransformerConfig):
        super().__init__()
        self.config = _check_config(config).resolved(**PAPER_DEFAULTS)
        self.encoder = Encoder(self.config)
        self.decoder = Decoder(self.config)
        self.out_proj = nn.Linear(self.config.d_model, self.config.tgt_vocab_size or self.config.vocab_size)

    def encode(self, src: torch.Tensor, src_mask: torch.Tensor | None = None) -> torch.Tensor:
        """(B, S) ids -> memory (B, S, D)."""
        return self.encoder(src, mask=self.source_mask(src, src_mask))

    def decode(self, tgt, memory, src_mask=None, tgt_mask=None) -> torch.Tensor:
        """Target ids (B, T) + memory (B, S, D) -> logits (B, T, V)."""
        return self.out_proj(self.decoder(tgt, memory, tgt_mask, src_mask))

    def source_mask(self, src: torch.Tensor, src_mask: torch.Tensor | None = None) -> torch.Tensor | None:
        """``src_mask``, or by default the padding mask of ``src`` (B, 1, 1, S) (None without ``pad_id``)."""
        return default_padding_mask(src, self.config.pad_id) if src_mask is None else src_mask

    def forward(
        self,
        src: torch.Tensor,
        tgt: torch.Tensor,
        src_mask: torch.Tensor | None = None,
        tgt_mask: torch.Tensor | None = None,
        return_weights: bool = False,
    ):
        """Source ids (B, S) and target ids (B, T) -> logits (B, T, V_target).

        ``src_mask`` (broadcastable to (B, H, *, S)) hides source padding from the
        encoder and from cross-attention; ``tgt_mask`` defaults to causal. With
        ``return_weights`` returns ``(logits, {"encoder", "decoder_self", "decoder_cross"})``.
        """
        src_mask = self.source_mask(src, src_mask)
        if not return_weights:
            memory = self.encoder(src, mask=src_mask)
            return self.out_proj(self.decoder(tgt, memory, tgt_mask, src_mask))
        memory, enc_w = self.encoder(src, mask=src_mask, return_weights=True)
        x, self_w, cross_w = self.decoder(tgt, memory, tgt_mask, src_mask, return_weights=True)
        weights = {"encoder": enc_w, "decoder_self": self_w, "decoder_cross": cross_w}
        return self.out_proj(x), weights


class GPT(_Embeddings):
    """A decoder-only language model: GPT-2 by default, a Llama-style model by configuration.

    tokens -> token embedding (+ learned positions) -> N pre-norm blocks with causal
    self-attention -> final norm -> linear head (tied to the token embedding by default).
    A GPT block is an :class:`EncoderLayer` run with ``is_causal=True``: there is no
    encoder to cross-attend to. (``config.norm_first=False`` gives the post-norm
    layout of the first GPT, without the final norm.)

    No padding mask is needed (``config.pad_id`` is not used): pad a batch of different
    lengths on the right; causal attention never lets a real token see the padding
    after it, and the logits at padded positions are simply not read.

    GPT-2 and SmolLM2 are two settings of the same :class:`TransformerConfig`:

    ==============  ===================  ==========================================
    choice          GPT-2 (default)      SmolLM2 / Llama
    ==============  ===================  ==========================================
    norm            "layernorm"          "rmsnorm"
    activation      "gelu_tanh"          "swiglu"
    positional      "learned"            "rope" (``rope_base``, ``rope_layout``)
    n_kv_heads      = n_heads            fewer (grouped-query): 3 for 9 query heads
    bias            True                 False
    tie_embeddings  True                 True (SmolLM2-135M), False (Llama 2 7B)
    ==============  ===================  ==========================================

    Attributes:
        tok_emb (TokenEmbedding, unscaled), pos_emb (LearnedPositionalEmbedding, or
        the configured kind, or None for RoPE), drop, blocks (ModuleList of EncoderLayer),
        norm_f (LayerNorm, RMSNorm or Identity), lm_head (Linear(D, V, bias=False), its
        weight the token embedding's when tied).
    """

    def __init__(self, config: TransformerConfig):
        super().__init__()
        config = _check_config(config).resolved(**GPT2_DEFAULTS)
        self.config = config
        self._init_embeddings(config, config.vocab_size, scale=False)
        rotary = _rotary(config)
        self.blocks = nn.ModuleList(
            EncoderLayer(config.d_model, config.n_heads, config.d_ff, rotary=rotary, **_layer_options(config))
            for _ in range(config.n_layers)
        )
        self.norm_f = _final_norm(config)
        self.lm_head = nn.Linear(config.d_model, config.vocab_size, bias=False)
        if config.tie_embeddings:
            self.lm_head.weight = self.tok_emb.embedding.weight  # weight tying, as in GPT-2
        self.apply(self._init_weights)

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        """GPT-2's initialisation: normal(0, 0.02) weights, zero biases."""
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def new_cache(self) -> list[KVCache]:
        """One empty :class:`KVCache` per block (each will hold (B, H_kv, S, d_k) keys and values)."""
        return [KVCache() for _ in self.blocks]

    def _cache_offset(self, cache) -> int:
        """Positions already cached (the same in every block), after checking ``cache``."""
        if not isinstance(cache, (list, tuple)) or len(cache) != len(self.blocks):
            n = len(cache) if isinstance(cache, (list, tuple)) else type(cache).__name__
            raise ValueError(f"cache must be a list of one KVCache per block ({len(self.blocks)}), got {n}")
        if not all(isinstance(c, KVCache) for c in cache):
            raise TypeError("cache must hold KVCache objects; build it with model.new_cache()")
        lengths = {len(c) for c in cache}
        if len(lengths) != 1:
            raise ValueError(f"the blocks' caches hold different numbers of positions {sorted(lengths)}; "
                             "reset them or start again from model.new_cache()")
        return lengths.pop()

    def forward(
        self,
        tokens: torch.Tensor,
        cache: list[KVCache] | None = None,
        return_weights: bool = False,
        last_only: bool = False,
    ):
        """Next-token logits for every position.

        Args:
            tokens: (B, T) integer ids. With a cache, only the new tokens.
            cache: from :meth:`new_cache`; positions continue after what is cached.
            return_weights: also return per-layer weights (B, H, T, S).
            last_only: compute the logits of the last position only, (B, 1, V): all that
                generation needs, and the output head is the largest matrix of a small model.

        Returns:
            logits (B, T, V) (or (B, 1, V)), or ``(logits, weights)``.
        """
        check_tensor("tokens", tokens, ndim=2)
        # [book: gpt-forward]
        offset = 0 if cache is None else self._cache_offset(cache)
        x = self.embed(tokens, offset)  # (B, T) -> (B, T, D), positions offset .. offset + T - 1
        all_weights = []
        for i, block in enumerate(self.blocks):
            layer_cache = cache[i] if cache is not None else None
            # is_causal: each position sees itself and what comes before it (cached or new).
            if return_weights:
                x, weights = block(x, return_weights=True, cache=layer_cache, is_causal=True)
                all_weights.append(weights)
            else:
                x = block(x, cache=layer_cache, is_causal=True)
        if last_only:
            x = x[:, -1:]  # (B, T, D) -> (B, 1, D)
        logits = self.lm_head(self.norm_f(x))  # (B, T, D) -> (B, T, V)
        # [/book: gpt-forward]
        return (logits, all_weights) if return_weights else logits


class SequenceClassifier(nn.Module):
    """Encoder + pooling over positions + a linear head over classes.

    Args:
        config: encoder configuration (None choices follow the paper).
        n_classes: number of classes.
        input_dim: if given, inputs are (B, T, input_dim) feature vectors (for example
            the 8 pixels of each row of an image), projected to d_model; otherwise
            inputs are (B, T) token ids.
        pooling: "mean" (average of the real positions) or "first" (the first
            position, like BERT's [CLS]).
    """

    def __init__(self, config: TransformerConfig, n_classes: int, input_dim: int | None = None, pooling: str = "mean"):
        super().__init__()
        config = _check_config(config).resolved(**PAPER_DEFAULTS)
        check_positive_int("n_classes", n_classes)
        check_choice("pooling", pooling, {"mean", "first"})
        self.config, self.n_classes, self.pooling = config, n_classes, pooling
        self.input_dim = input_dim
        if input_dim is not None:
            check_positive_int("input_dim", input_dim)
            self.input_proj = nn.Linear(input_dim, config.d_model)
        self.encoder = Encoder(config, vocab_size=0 if input_dim is not None else None)
        self.head = nn.Linear(config.d_model, n_classes)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None, return_weights: bool = False):
        """(B, T) ids or (B, T, input_dim) features -> class logits (B, n_classes).

        ``mask`` is a padding mask (B, 1, 1, T) (True on real positions); pooling ignores
        padded positions.
        """
        # [book: classifier-forward]
        if self.input_dim is not None:
            check_tensor("x", x, ndim=3)
            if x.shape[-1] != self.input_dim:
                raise ValueError(f"x must have input_dim={self.input_dim} features, got shape {tuple(x.shape)}")
            x = self.input_proj(x)  # (B, T, input_dim) -> (B, T, D)
        elif mask is None:
            mask = default_padding_mask(x, self.config.pad_id)  # (B, 1, 1, T) or None
        out = self.encoder(x, mask=mask, return_weights=return_weights)
        hidden, weights = out if return_weights else (out, None)
        if self.pooling == "first":
            pooled = hidden[:, 0]  # (B, T, D) -> (B, D)
        elif mask is None:
            pooled = hidden.mean(dim=1)  # (B, T, D) -> (B, D)
        else:
            if mask.dim() != 4 or mask.shape[1:3] != (1, 1):
                raise ValueError(f"mask must be a padding mask of shape (B, 1, 1, T), got {tuple(mask.shape)}")
            keep = mask[:, 0, 0, :].expand(hidden.shape[:2])  # (B, 1, 1, T) -> (B, T)
            pooled = mean_pool(hidden, keep)  # (B, T, D) -> (B, D), padding left out
        logits = self.head(pooled)  # (B, D) -> (B, n_classes)
        return (logits, weights) if return_weights else logits
        # [/book: classifier-forward]
