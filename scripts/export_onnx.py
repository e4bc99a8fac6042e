#!/usr/bin/env python3
"""Export the book's MiniLM encoder to ONNX for the live explorer of chapter 14.

The model is transformer_lib's own all-MiniLM-L6-v2 (``load_bert()``: the weights come
from an installed package, nothing is downloaded). A small wrapper returns the last
hidden states and every layer's attention weights stacked into one tensor; the graph
has a dynamic batch and sequence length. Its weights are then stored in float16
(onnxconverter-common, inputs and outputs stay float32/int64), which halves the file;
the attention weights stay within a few 1e-3 of the float32 model
(tests/test_onnx_export.py checks it with onnxruntime).

Written next to the model (the folder the book serves, see ``DEST``):

    minilm-fp16.onnx   the model: input_ids (B, T) int64 -> hidden (B, T, D),
                       weights (B, N, H, T, T)
    vocab.txt          the tokenizer's vocabulary, one token a line (id = line number)
    live-config.json   what the page needs to know: sizes, special ids, the longest input

The book build calls this (book/_ext/book_ext.py, at the start of every build); an
export is reused while the library's model code and this script are unchanged
(a fingerprint in ``live-config.json``). Run by hand:

    python scripts/export_onnx.py [--out FOLDER] [--float32] [--force]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: The book serves this folder at _static/live-model/ (book/_ext/book_ext.py adds its
#: parent to html_static_path). Under _build/: never committed.
DEST = ROOT / "_build" / "live-static" / "live-model"
MODEL_FILE = "minilm-fp16.onnx"
CONFIG_FILE = "live-config.json"
#: Files whose change makes a new export: this script and the model code it traces.
SOURCES = [
    Path(__file__).resolve(),
    *sorted((ROOT / "transformer_lib").glob("*.py")),
    *sorted((ROOT / "transformer_lib" / "pretrained").glob("*.py")),
]


def fingerprint() -> str:
    h = hashlib.sha256()
    for path in SOURCES:
        h.update(path.name.encode())
        h.update(path.read_bytes())
    from transformer_lib.pretrained.bert import minilm_path

    weights = minilm_path() / "model.safetensors"
    h.update(str(weights.stat().st_size).encode())
    return h.hexdigest()[:16]


def wrapper(model):
    import torch

    class WithWeights(torch.nn.Module):
        """input_ids (B, T) -> hidden (B, T, D), weights (B, N, H, T, T)."""

        def __init__(self, encoder):
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids):
            hidden, weights = self.encoder(input_ids, return_weights=True)
            return hidden, torch.stack(weights, dim=1)  # N x (B, H, T, T) -> (B, N, H, T, T)

    return WithWeights(model).eval()


def export(out: Path, float16: bool = True) -> Path:
    """Export MiniLM into ``out`` (a folder); returns the model file's path."""
    import onnx
    import torch

    from transformer_lib.pretrained.bert import load_bert

    model, tokenizer = load_bert()
    out.mkdir(parents=True, exist_ok=True)
    example = torch.tensor([tokenizer.encode("an example sentence of a few words")])
    float_file = out / "minilm-fp32.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            wrapper(model), (example,), str(float_file), dynamo=False, opset_version=17,
            input_names=["input_ids"], output_names=["hidden", "weights"],
            dynamic_axes={"input_ids": {0: "B", 1: "T"}, "hidden": {0: "B", 1: "T"},
                          "weights": {0: "B", 3: "T", 4: "T"}},
        )
    target = out / (MODEL_FILE if float16 else "minilm-fp32.onnx")
    if float16:
        from onnxconverter_common import float16 as f16

        with warnings.catch_warnings():  # "float32 number 4.7e-08 will be truncated to 1e-07"
            warnings.simplefilter("ignore")
            half = f16.convert_float_to_float16(onnx.load(str(float_file)), keep_io_types=True)
        _cast_to_half(half)
        onnx.save(half, str(target))
        float_file.unlink()
    vocab = tokenizer.backend.get_vocab()
    by_id = sorted(vocab, key=vocab.get)
    assert [vocab[t] for t in by_id] == list(range(len(by_id))), "vocabulary ids are not 0..V-1"
    (out / "vocab.txt").write_text("\n".join(by_id) + "\n", encoding="utf-8")
    config = model.config
    (out / CONFIG_FILE).write_text(json.dumps({
        "model": target.name,
        "n_layers": config.n_layers, "n_heads": config.n_heads,
        "max_length": tokenizer.max_length,
        "cls_id": vocab["[CLS]"], "sep_id": vocab["[SEP]"], "unk_id": vocab["[UNK]"],
        "max_input_chars_per_word": tokenizer.backend.model.max_input_chars_per_word,
        "bytes": target.stat().st_size,
        "fingerprint": fingerprint(),
    }, indent=1), encoding="utf-8")
    return target


def _cast_to_half(graph_model) -> None:
    """Make the traced no-op casts to float32 cast to float16 in the float16 graph.

    The library's attention ends with ``weights.to(v.dtype)``, traced as a Cast to
    float32; once the weights are float16 that Cast would feed float32 into float16
    operations, and onnxruntime refuses the file. The casts that keep the graph's
    inputs and outputs float32 (``keep_io_types``: they write a graph output) stay.
    """
    from onnx import TensorProto

    outputs = {o.name for o in graph_model.graph.output}
    for node in graph_model.graph.node:
        if node.op_type != "Cast" or outputs.intersection(node.output):
            continue
        for attribute in node.attribute:
            if attribute.name == "to" and attribute.i == TensorProto.FLOAT:
                attribute.i = TensorProto.FLOAT16


def up_to_date(out: Path) -> bool:
    try:
        config = json.loads((out / CONFIG_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (out / config["model"]).is_file() and (out / "vocab.txt").is_file() \
        and config.get("fingerprint") == fingerprint()


def ensure(out: Path = DEST) -> tuple[Path, bool]:
    """Export into ``out`` unless an up-to-date export is there; returns (model file, exported)."""
    if up_to_date(out):
        return out / MODEL_FILE, False
    if out.exists():
        shutil.rmtree(out)
    return export(out), True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DEST, help="folder to write (default: %(default)s)")
    parser.add_argument("--float32", action="store_true", help="keep float32 weights (twice the size)")
    parser.add_argument("--force", action="store_true", help="export even when up to date")
    args = parser.parse_args()
    if args.float32:
        path = export(args.out, float16=False)
    elif args.force:
        path = export(args.out)
    else:
        path, made = ensure(args.out)
        if not made:
            print(f"up to date: {path}")
            return
    print(f"exported {path} ({path.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
