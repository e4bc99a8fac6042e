"""transformer_lib: every Transformer component, small, readable and checked against PyTorch.

The library behind the book *Inside the Transformer*. One module per concept:

==================  ===========================================================
masks               causal_mask, padding_mask, token_padding_mask (bool, True = may attend)
attention           scaled_dot_product_attention, attention_steps (the explicit steps)
heads               split_heads, merge_heads: (B, T, D) <-> (B, H, T, d_k)
multi_head          MultiHeadAttention (H query heads, H_kv key/value heads), repeat_kv
positional          sinusoidal_encoding, Sinusoidal/Learned positions, RotaryEmbedding
embeddings          TokenEmbedding
feed_forward        FeedForward (D -> d_ff -> D), SwiGLUFeedForward
norms               RMSNorm, make_norm (LayerNorm or RMSNorm)
layers              EncoderLayer, DecoderLayer (post-norm or pre-norm)
config              TransformerConfig (sizes and choices of a whole model)
models              Encoder, Decoder, Transformer, GPT, SequenceClassifier
pooling             mean_pool (one vector per sequence, padding ignored)
cache               KVCache (keys and values of earlier tokens)
generation          generate, greedy_decode (G new tokens, with or without the cache)
losses              next_token_loss, per_token_loss, token_cross_entropy
tokenizers          WordTokenizer, CharTokenizer, BOOK_SENTENCES (toy tokenizers)
pretrained          real weights: load_bert, embed_sentences, load_gpt2, load_smollm2
                    (submodules checkpoint, bert, gpt2, hf_tokenizer, head_patterns,
                    gguf, smollm2: see ``transformer_lib.pretrained``)
training            train, TrainingHistory, set_seed (a small training loop)
tasks               toy tasks and data: SequenceTask, toy_translation_pairs, load_digit_rows
shapes              trace_shapes (the shape of every tensor in a forward pass)
timing              median_time, compare (one way to time code, chapters and benchmarks)
source              show_source (print marked parts of the library in the book)
plotting *          attention_heatmap, matrix_heatmap, the book's figure style (re-exports
                    rendering and diagrams)
rendering *         figure_to_png, save_figure (dense PNGs, text >= 8 pt)
diagrams *          pipeline_diagram (boxes and arrows: the path through a model)
widgets *           explorer (sliders over precomputed figures that work in the web book)
exercises *         feedback, check_number, check_close, check_function; ch01 ... per chapter
==================  ===========================================================

``*``: not imported by ``import transformer_lib`` (import it by name, e.g.
``from transformer_lib.plotting import attention_heatmap``); plotting, rendering, diagrams and widgets need
the ``[book]`` extra (matplotlib, ipywidgets). Everything else needs only torch and
numpy; loading a checkpoint also uses safetensors / tokenizers / gguf, imported
when a loader runs.

Notation, the same in every docstring and shape comment: B batch, T sequence (query)
length, S key/value length, D = d_model, H query heads, H_kv key/value heads, d_k head
width (D / H), d_ff feed-forward width, V vocabulary size, N number of layers, G number of
generated tokens.
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
from .multi_head import MultiHeadAttention, repeat_kv
from .norms import RMSNorm
from .pooling import mean_pool
from .positional import (
    LearnedPositionalEmbedding,
    RotaryEmbedding,
    SinusoidalPositionalEncoding,
    sinusoidal_encoding,
)
from .pretrained import BertEncoder, embed_sentences, load_bert, load_gpt2, load_smollm2, smollm2_tensors
from .shapes import trace_shapes
from .source import get_source, show_source
from .timing import compare, median_time
from .tokenizers import BOOK_SENTENCES, CharTokenizer, WordTokenizer
from .training import TrainingHistory, set_seed, train

__version__ = "0.1.0"

__all__ = [
    # attention and its parts
    "causal_mask", "padding_mask", "token_padding_mask",
    "AttentionSteps", "attention_steps", "scaled_dot_product_attention",
    "merge_heads", "split_heads", "MultiHeadAttention", "repeat_kv",
    "LearnedPositionalEmbedding", "RotaryEmbedding", "SinusoidalPositionalEncoding", "sinusoidal_encoding",
    "TokenEmbedding", "FeedForward", "SwiGLUFeedForward", "RMSNorm",
    # layers and models
    "DecoderLayer", "EncoderLayer", "TransformerConfig",
    "GPT", "Decoder", "Encoder", "SequenceClassifier", "Transformer", "mean_pool",
    # generation, losses, toy tokenizers
    "KVCache", "generate", "greedy_decode",
    "next_token_loss", "per_token_loss", "token_cross_entropy",
    "BOOK_SENTENCES", "CharTokenizer", "WordTokenizer",
    # real weights
    "BertEncoder", "embed_sentences", "load_bert", "load_gpt2", "load_smollm2", "smollm2_tensors",
    # training and the book's tools
    "TrainingHistory", "set_seed", "train",
    "trace_shapes", "get_source", "show_source", "compare", "median_time",
]
