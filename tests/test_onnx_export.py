"""The live explorer's model (scripts/export_onnx.py) computes what transformer_lib computes.

The exported file (float16 weights) is run with onnxruntime on sentences of other
lengths than the one it was traced with; its attention weights must agree with
``load_bert()``'s to 2e-3 in every layer and head (float16 weights; measured:
about 1e-3), and its hidden states to 2e-2. The export the book build made
(``_build/live-static/live-model``) is used when it is up to date, else one is made in tmp_path.
"""
from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
ATTENTION_TOLERANCE = 2e-3
HIDDEN_TOLERANCE = 2e-2
SENTENCES = [
    "The cat sat.",
    "A robot that reads every page of the book, twice, before lunch.",
    "Crème brûlée? Naïve café owners (and 东京) disagree!",
    "x",
]


def load_script():
    spec = importlib.util.spec_from_file_location("export_onnx", ROOT / "scripts" / "export_onnx.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("export_onnx", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    ort = pytest.importorskip("onnxruntime")
    script = load_script()
    folder = script.DEST if script.up_to_date(script.DEST) else tmp_path_factory.mktemp("live-model")
    path, _ = script.ensure(folder)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session, json.loads((folder / script.CONFIG_FILE).read_text(encoding="utf-8")), folder


@pytest.fixture(scope="module")
def minilm():
    from transformer_lib.pretrained.bert import load_bert

    return load_bert()


def test_config_and_vocab(exported, minilm):
    _, config, folder = exported
    model, tokenizer = minilm
    assert (config["n_layers"], config["n_heads"]) == (model.config.n_layers, model.config.n_heads)
    assert config["max_length"] == tokenizer.max_length
    vocab = (folder / "vocab.txt").read_text(encoding="utf-8").split("\n")[:-1]
    assert len(vocab) == tokenizer.vocab_size
    assert [tokenizer.token_to_id(t) for t in ("[CLS]", "[SEP]", "[UNK]")] == [
        config["cls_id"], config["sep_id"], config["unk_id"]]
    assert vocab[tokenizer.token_to_id("robot")] == "robot"
    assert config["bytes"] < 50e6, "the float16 file should be about 45 MB"


@pytest.mark.parametrize("sentence", SENTENCES)
def test_onnx_matches_the_library(exported, minilm, sentence):
    session, config, _ = exported
    model, tokenizer = minilm
    ids = torch.tensor([tokenizer.encode(sentence)])
    with torch.no_grad():
        hidden, weights = model(ids, return_weights=True)
    want = torch.stack(weights, dim=1).numpy()  # (1, N, H, T, T)
    got_hidden, got = session.run(None, {"input_ids": ids.numpy().astype(np.int64)})
    assert got.shape == want.shape
    per_layer = np.abs(got - want).max(axis=(0, 2, 3, 4))
    assert per_layer.max() < ATTENTION_TOLERANCE, f"attention differs per layer by {per_layer}"
    assert np.abs(got_hidden - hidden.numpy()).max() < HIDDEN_TOLERANCE
    np.testing.assert_allclose(got.sum(-1), 1.0, atol=1e-3)
