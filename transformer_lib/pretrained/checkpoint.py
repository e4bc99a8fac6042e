"""Reading a checkpoint folder: ``config.json`` and the weights, with errors that name the file.

A Hugging Face checkpoint is a folder holding ``config.json`` (the sizes) and the
tensors in ``model.safetensors`` or, in older checkpoints, ``pytorch_model.bin``.
The loaders of this package (:mod:`.bert`, :mod:`.gpt2`) read it with
:func:`read_config` (each field checked by :func:`config_field`) and
:func:`read_weights`, rename the tensors, and build the model with
:func:`build_and_load`: every shape is checked before anything is allocated, then
:func:`copy_weights` copies the tensors and checks that no parameter is left
without a value.

A broken file (truncated, empty, not the format its name says, JSON that is not
an object, a tensor holding NaN) raises :class:`CheckpointError` (a ``ValueError``)
whose message names the file and what is wrong with it; a missing field or tensor
raises :class:`MissingEntryError` (a ``CheckpointError`` and a ``KeyError``). A
``pytorch_model.bin`` is read with ``torch.load(weights_only=True)``: only tensors,
never code.
"""
from __future__ import annotations

import json
import math
import pickle
import re
from pathlib import Path

import torch
from torch import nn

__all__ = [
    "CheckpointError",
    "MissingEntryError",
    "WEIGHT_FILES",
    "checkpoint_folder",
    "read_json_object",
    "read_config",
    "config_field",
    "weights_file",
    "read_weights",
    "read_checkpoint",
    "strip_prefix",
    "take",
    "copy_weights",
    "build_and_load",
    "hf_activation",
]

#: The weight files a checkpoint folder may hold, in the order they are looked for.
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")

#: Hugging Face activation names -> the names :class:`~transformer_lib.feed_forward.FeedForward` understands.
HF_ACTIVATIONS = {
    "gelu": "gelu",  # exact GELU, x * Phi(x) (erf): what BERT uses
    "gelu_new": "gelu_tanh",  # the tanh approximation: what GPT-2 uses
    "gelu_pytorch_tanh": "gelu_tanh",
    "gelu_fast": "gelu_tanh",
    "relu": "relu",
}


class CheckpointError(ValueError):
    """A checkpoint file exists but cannot be used (broken, wrong format, wrong content)."""


class MissingEntryError(CheckpointError, KeyError):
    """A checkpoint lacks a config field or a tensor (a ``KeyError`` too, with a readable message)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


_REQUIRED = object()
_KIND_NAMES = {int: "a positive integer", float: "a positive finite number", bool: "true or false", str: "a string"}


def checkpoint_folder(path) -> Path:
    """Check that ``path`` is an existing folder and return it as a Path."""
    if not isinstance(path, (str, Path)):
        raise TypeError(f"path must be a str or pathlib.Path, got {type(path).__name__}")
    folder = Path(path)
    if not folder.exists():
        raise FileNotFoundError(f"checkpoint folder {str(folder)!r} does not exist")
    if not folder.is_dir():
        raise NotADirectoryError(
            f"path {str(folder)!r} is a file; pass the checkpoint folder that holds config.json "
            f"and {' or '.join(WEIGHT_FILES)}"
        )
    return folder


def read_json_object(file: Path) -> dict:
    """Read a JSON file that must hold one object (a dict); errors name the file."""
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise CheckpointError(f"{file}: not a UTF-8 text file ({error.reason} at byte {error.start})") from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise CheckpointError(
            f"{file}: not valid JSON ({error.msg} at line {error.lineno}, column {error.colno})"
        ) from None
    if not isinstance(value, dict):
        raise CheckpointError(
            f"{file}: expected a JSON object {{\"name\": value, ...}}, got a {type(value).__name__}"
        )
    return value


def read_config(path) -> dict:
    """Read ``config.json`` of a checkpoint folder into a dict."""
    folder = checkpoint_folder(path)
    config_file = folder / "config.json"
    if not config_file.is_file():
        raise FileNotFoundError(
            f"no config.json in {str(folder)!r}: a checkpoint folder needs config.json next to its weights"
        )
    return read_json_object(config_file)


def config_field(config: dict, key: str, file, kind: type = int, default=_REQUIRED):
    """``config[key]`` checked to be of ``kind`` (int and float: > 0); errors name ``file`` and ``key``.

    A missing field (or ``null``) gives ``default`` when one is given, else raises
    :class:`MissingEntryError`.
    """
    value = config.get(key)
    if value is None:
        if default is _REQUIRED:
            raise MissingEntryError(f"{file}: no field {key!r}, which the model needs")
        return default
    if kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool) and value > 0
    elif kind is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0
    else:
        ok = isinstance(value, kind)
    if not ok:
        raise CheckpointError(f"{file}: field {key!r} must be {_KIND_NAMES.get(kind, kind.__name__)}, got {value!r}")
    return float(value) if kind is float else value


def _read_safetensors(file: Path) -> dict[str, torch.Tensor]:
    try:
        from safetensors.torch import load_file
    except ImportError:
        raise ModuleNotFoundError(
            f"reading {file.name} needs the safetensors package: `pip install safetensors`"
        ) from None
    try:
        return load_file(str(file), device="cpu")
    except Exception as error:  # SafetensorError for a damaged file, but any exception is a damaged file
        size = file.stat().st_size
        raise CheckpointError(
            f"{file}: not a readable safetensors file ({size} bytes; truncated or corrupted?): {error}"
        ) from None


def _first_sentence(error: BaseException) -> str:
    """The first sentence of an error from a reader, never its advice about unsafe loading."""
    text = " ".join(str(error).split()).split(". ")[0].rstrip(".")
    return text if text and "weights_only" not in text else type(error).__name__


def _read_pytorch_bin(file: Path) -> dict[str, torch.Tensor]:
    size = file.stat().st_size
    if size == 0:
        raise CheckpointError(f"{file}: the file is empty (0 bytes); the download or copy did not finish")
    try:
        # weights_only=True: only tensors and plain containers are unpickled, never code
        weights = torch.load(file, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        found = re.search(r"Unsupported global: GLOBAL (\S+)", str(error))
        what = (f"it holds a Python object ({found.group(1)}) besides tensors, and this library only "
                "reads tensors from a checkpoint") if found else "it is not in the format torch.save writes"
        raise CheckpointError(f"{file}: not a PyTorch weight file that can be read ({size} bytes): {what}") from None
    except Exception as error:  # a damaged file fails anywhere inside torch.load, with any exception
        raise CheckpointError(
            f"{file}: not a readable PyTorch weight file ({size} bytes; truncated or corrupted?): "
            f"{_first_sentence(error)}"
        ) from None
    if not isinstance(weights, dict):
        raise CheckpointError(
            f"{file}: expected a dict of name -> tensor (a state_dict), got a {type(weights).__name__}"
        )
    for name, tensor in weights.items():
        if not isinstance(name, str) or not isinstance(tensor, torch.Tensor):
            raise CheckpointError(
                f"{file}: expected a dict of name -> tensor (a state_dict), but entry {name!r} is of "
                f"type {type(tensor).__name__}"
            )
    return weights


def weights_file(path) -> Path:
    """The weight file of a checkpoint folder: ``model.safetensors`` if present, else ``pytorch_model.bin``."""
    folder = checkpoint_folder(path)
    for name in WEIGHT_FILES:
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(f"no weights in {str(folder)!r}: expected {' or '.join(WEIGHT_FILES)}")


def read_weights(path) -> dict[str, torch.Tensor]:
    """Read a checkpoint's tensors: ``model.safetensors`` if present, else ``pytorch_model.bin``.

    Returns:
        dict from the checkpoint's own names (e.g. ``encoder.layer.0.attention.self.query.weight``)
        to CPU tensors.

    Raises:
        FileNotFoundError: the folder holds neither file.
        CheckpointError: the file is empty, truncated, not the format its name says,
            or holds something other than tensors.
    """
    file = weights_file(path)
    weights = _read_safetensors(file) if file.suffix == ".safetensors" else _read_pytorch_bin(file)
    if not weights:
        raise CheckpointError(f"{file}: the file holds no tensors")
    return weights


def read_checkpoint(path, parse_config):
    """Open a checkpoint folder: ``(folder, parse_config(config dict, config file), weights, source)``.

    The config is read and parsed first (a bad config.json is named before the weights are
    read); ``source``, the weight file's path as text, is what every message about a
    tensor names. The one opening of a folder that :func:`load_bert` and :func:`load_gpt2` share.
    """
    folder = checkpoint_folder(path)
    config = parse_config(read_config(folder), folder / "config.json")
    weights = read_weights(folder)
    return folder, config, weights, str(weights_file(folder))


def strip_prefix(weights: dict[str, torch.Tensor], prefixes) -> dict[str, torch.Tensor]:
    """Drop a leading model prefix (``bert.``, ``transformer.``) that task checkpoints add."""
    for prefix in prefixes:
        if any(name.startswith(prefix) for name in weights):
            return {name[len(prefix):]: t for name, t in weights.items() if name.startswith(prefix)}
    return weights


def take(weights: dict[str, torch.Tensor], name: str, source: str) -> torch.Tensor:
    """``weights[name]`` with an error that says which checkpoint lacks it."""
    try:
        return weights[name]
    except KeyError:
        raise MissingEntryError(
            f"{source}: the checkpoint has no tensor {name!r}; is it the right model type? "
            f"(first names found: {sorted(weights)[:5]})"
        ) from None


def copy_weights(model: nn.Module, assignments: dict[str, torch.Tensor], source: str) -> None:
    """Copy ``assignments`` (library parameter name -> tensor) into ``model``.

    Checks every shape and dtype, that every value is finite (a NaN or inf in a
    checkpoint would silently spread to every output), and that every parameter
    of ``model`` received a value (tied parameters count once), so a half-loaded
    model cannot slip through. ``source`` (the weight file) starts every message.
    """
    params = dict(model.named_parameters(remove_duplicate=False))
    filled: set[int] = set()
    for name, tensor in assignments.items():
        if name not in params:
            raise KeyError(f"internal mapping error: the model has no parameter {name!r}")
        param = params[name]
        if tuple(param.shape) != tuple(tensor.shape):
            raise CheckpointError(
                f"{source}: tensor for {name} has shape {tuple(tensor.shape)}, the model expects "
                f"{tuple(param.shape)}; does config.json belong to these weights?"
            )
        if not tensor.is_floating_point():
            raise CheckpointError(f"{source}: tensor for {name} has dtype {tensor.dtype}, expected floating point")
        if not torch.isfinite(tensor).all():
            raise CheckpointError(f"{source}: tensor for {name} holds NaN or infinite values")
        with torch.no_grad():
            param.copy_(tensor.to(param.dtype))
        filled.add(id(param))
    missing = [name for name, p in params.items() if id(p) not in filled]
    if missing:
        raise MissingEntryError(f"{source}: no weights were found for {missing}")


def build_and_load(make_model, assignments: dict[str, torch.Tensor], source: str) -> nn.Module:
    """``make_model()`` with ``assignments`` copied in (:func:`copy_weights`), in eval mode.

    Every shape is first compared with a copy of the model built on PyTorch's "meta"
    device, which holds shapes but no memory: a ``config.json`` that does not belong to
    the weights (say a vocabulary of a billion words) fails with a message naming the
    file before anything is allocated.
    """
    with torch.device("meta"):
        expected = {name: tuple(p.shape) for name, p in make_model().named_parameters(remove_duplicate=False)}
    for name, tensor in assignments.items():
        if name in expected and tuple(tensor.shape) != expected[name]:
            raise CheckpointError(
                f"{source}: tensor for {name} has shape {tuple(tensor.shape)}, the model expects "
                f"{expected[name]}; does config.json belong to these weights?"
            )
    model = make_model()
    copy_weights(model, assignments, source)
    return model.eval()


def hf_activation(config: dict, key: str, source: str) -> str:
    """The library's activation name for the Hugging Face name in ``config[key]`` (default "gelu")."""
    hf_name = config.get(key, "gelu")
    if not isinstance(hf_name, str) or hf_name not in HF_ACTIVATIONS:
        raise CheckpointError(
            f"{source}: {key}={hf_name!r} is not supported; expected one of {sorted(HF_ACTIVATIONS)}"
        )
    return HF_ACTIVATIONS[hf_name]
