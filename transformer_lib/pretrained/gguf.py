"""Reading a GGUF file (llama.cpp's format): its metadata, its table of tensors, its tensors.

A GGUF file holds a whole model in four parts, one after the other::

    header     b"GGUF", format version, number of tensors, number of metadata entries
    metadata   key -> value pairs: the architecture and its sizes
               ("llama.block_count" = 30), the tokenizer's vocabulary and merges, ...
    tensors    one row per tensor: name, shape, storage type, where its bytes start
    data       the tensors' bytes, each tensor aligned (general.alignment, 32 by default)

Most tensors are stored *quantized*: in blocks of 32 numbers that share a scale. The
storage type says how. ``Q4_1`` keeps, per block, a scale d and a minimum m (16-bit
floats) and one 4-bit integer q in 0..15 per number, which stands for ``d * q + m``;
``Q8_0`` keeps a scale d and one 8-bit integer q in -128..127 per number, for ``d * q``;
``F32`` is plain float32. :meth:`GGUFFile.tensor` turns any of them back into float32
(:func:`dequantize_q4_1`, :func:`dequantize_q8_0`, else ``gguf.quants.dequantize``, the
reference implementation); a model computed from the dequantized numbers is an
ordinary float32 model: quantization changed the numbers a little, not the mechanics.

The header, metadata and table are parsed here with :mod:`struct`, in about 0.2 s of
CPU time for SmolLM2's file; ``gguf.GGUFReader`` reads the same things in about 3 s (it
builds a numpy view for each of the tokenizer's 98,000 strings). ``tests/test_smollm2.py``
checks that both agree.

Shapes are given in PyTorch's order (rows first): GGUF lists a tensor's dimensions
innermost first, so the weight of ``nn.Linear(576, 1536)``, shape (1536, 576) in
PyTorch, is listed as [576, 1536] in the file and returned here as (1536, 576).
"""
from __future__ import annotations

import mmap
import struct
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

__all__ = ["GGUFError", "GGUFFile", "GGUFTensorInfo", "dequantize_q4_1", "dequantize_q8_0", "read_gguf"]

MAGIC = b"GGUF"
DEFAULT_ALIGNMENT = 32

# Metadata value types of the GGUF specification: code -> struct format (little-endian).
_SCALARS = {
    0: "<B",  # uint8
    1: "<b",  # int8
    2: "<H",  # uint16
    3: "<h",  # int16
    4: "<I",  # uint32
    5: "<i",  # int32
    6: "<f",  # float32
    7: "<?",  # bool
    10: "<Q",  # uint64
    11: "<q",  # int64
    12: "<d",  # float64
}
_STRING, _ARRAY = 8, 9


class GGUFError(ValueError):
    """A file that is not a GGUF file this module can read (the message names the file)."""


def _gguf_package():
    """The ``gguf`` package (storage types and dequantization), imported when needed."""
    try:
        import gguf
    except ModuleNotFoundError:
        raise ModuleNotFoundError(
            "reading GGUF tensors needs the package gguf: `pip install gguf`"
        ) from None
    return gguf


@dataclass(frozen=True)
class GGUFTensorInfo:
    """One row of a GGUF file's tensor table.

    Attributes:
        name: the tensor's name in the file, e.g. ``"blk.0.attn_q.weight"``.
        shape: its shape in PyTorch's order (rows first).
        type: the storage type's name, e.g. ``"Q4_1"``, ``"Q8_0"``, ``"F32"``.
        offset: where its bytes start, counted from the start of the file.
        n_bytes: how many bytes it takes in the file.
    """

    name: str
    shape: tuple[int, ...]
    type: str
    offset: int
    n_bytes: int

    @property
    def n_elements(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def bits_per_weight(self) -> float:
        """Bits the file spends per number (Q4_1: 5.0 -- 4 bits plus a shared scale and minimum)."""
        return 8 * self.n_bytes / self.n_elements


@dataclass
class GGUFFile:
    """A GGUF file's metadata and tensor table; tensors are read on request.

    Attributes:
        path: the file.
        version: the GGUF format version (2 or 3).
        metadata: key -> value (str, int, float, bool, or a list of them).
        tensors: tensor name -> :class:`GGUFTensorInfo`, in the file's order.
    """

    path: Path
    version: int
    metadata: dict
    tensors: dict[str, GGUFTensorInfo] = field(repr=False)
    _bytes: np.ndarray | None = field(default=None, repr=False, compare=False)

    def __repr__(self) -> str:
        arch = self.metadata.get("general.architecture")
        return (
            f"GGUFFile({self.path.name!r}, version={self.version}, architecture={arch!r}, "
            f"{len(self.metadata)} metadata entries, {len(self.tensors)} tensors)"
        )

    def type_counts(self) -> dict[str, int]:
        """Storage type -> number of tensors stored that way, e.g. ``{"Q4_1": 210, ...}``."""
        return dict(Counter(info.type for info in self.tensors.values()).most_common())

    def raw(self, name: str) -> np.ndarray:
        """The stored bytes of one tensor, one row of bytes per tensor row: (rows, bytes per row)."""
        info = self._info(name)
        rows = info.n_elements // info.shape[-1]
        if self._bytes is None:
            self._bytes = np.memmap(self.path, dtype=np.uint8, mode="r")
        data = self._bytes[info.offset:info.offset + info.n_bytes]
        return data.reshape(rows, info.n_bytes // rows)  # (n_bytes,) -> (rows, bytes per row)

    def tensor(self, name: str) -> torch.Tensor:
        """One tensor, dequantized to a float32 ``torch.Tensor`` of shape ``info.shape``.

        ``Q4_1`` and ``Q8_0`` are dequantized by :func:`dequantize_q4_1` and
        :func:`dequantize_q8_0` (the formulas, written out; twice as fast as the general
        code); every other storage type by ``gguf.quants.dequantize``. The tests check
        that both give the same bits on every tensor of SmolLM2's file.
        """
        info = self._info(name)
        raw = self.raw(name)
        if info.type in DEQUANTIZERS:
            values = DEQUANTIZERS[info.type](raw)
        else:
            gguf = _gguf_package()
            values = gguf.quants.dequantize(raw, gguf.GGMLQuantizationType[info.type])
        values = np.require(values, dtype=np.float32, requirements=["C", "W"])  # copies a view of the file
        return torch.from_numpy(values).reshape(info.shape)  # (rows, row width) -> info.shape

    def _info(self, name: str) -> GGUFTensorInfo:
        if name not in self.tensors:
            raise KeyError(f"{self.path.name} has no tensor {name!r} (it has {len(self.tensors)} tensors)")
        return self.tensors[name]


# [book: dequantize]
def dequantize_q4_1(raw: np.ndarray) -> np.ndarray:
    """Q4_1 bytes (rows, bytes per row) uint8 -> numbers (rows, numbers per row) float32.

    Each block of 32 numbers takes 20 bytes: a scale d and a minimum m (float16), then
    16 bytes holding 32 four-bit integers q in 0..15 (the low halves of the bytes are
    numbers 0-15 of the block, the high halves numbers 16-31). Number = d * q + m.
    """
    rows = raw.shape[0]
    blocks = raw.reshape(-1, 20)  # (rows, bytes per row) -> (blocks, 20)
    d = blocks[:, 0:2].view(np.float16).astype(np.float32)  # (blocks, 1) scale
    m = blocks[:, 2:4].view(np.float16).astype(np.float32)  # (blocks, 1) minimum
    packed = blocks[:, 4:]  # (blocks, 16), two 4-bit integers per byte
    q = np.concatenate([packed & 0x0F, packed >> 4], axis=1).astype(np.float32)  # (blocks, 32)
    return (d * q + m).reshape(rows, -1)  # (blocks, 32) -> (rows, numbers per row)


def dequantize_q8_0(raw: np.ndarray) -> np.ndarray:
    """Q8_0 bytes (rows, bytes per row) uint8 -> numbers (rows, numbers per row) float32.

    Each block of 32 numbers takes 34 bytes: a scale d (float16), then 32 signed 8-bit
    integers q in -128..127. Number = d * q.
    """
    rows = raw.shape[0]
    blocks = raw.reshape(-1, 34)  # (rows, bytes per row) -> (blocks, 34)
    d = blocks[:, 0:2].view(np.float16).astype(np.float32)  # (blocks, 1) scale
    q = blocks[:, 2:].view(np.int8).astype(np.float32)  # (blocks, 32)
    return (d * q).reshape(rows, -1)  # (blocks, 32) -> (rows, numbers per row)
# [/book: dequantize]


DEQUANTIZERS = {"Q4_1": dequantize_q4_1, "Q8_0": dequantize_q8_0}


class _Bytes:
    """A cursor over the file's bytes that reads little-endian values."""

    def __init__(self, data: bytes, path: Path):
        self.data, self.pos, self.path = data, 0, path

    def take(self, fmt: str):
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.data):
            raise GGUFError(f"{self.path}: the file ends inside its header (truncated GGUF file?)")
        (value,) = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += size
        return value

    def string(self) -> str:
        length = self.take("<Q")
        raw = self.data[self.pos:self.pos + length]
        if len(raw) != length:
            raise GGUFError(f"{self.path}: the file ends inside its header (truncated GGUF file?)")
        self.pos += length
        return raw.decode("utf-8", errors="replace")

    def value(self, kind: int):
        if kind in _SCALARS:
            return self.take(_SCALARS[kind])
        if kind == _STRING:
            return self.string()
        if kind == _ARRAY:
            item_kind, count = self.take("<I"), self.take("<Q")
            if item_kind in _SCALARS:  # a numeric array: read it in one go
                dtype = np.dtype(_SCALARS[item_kind])
                end = self.pos + count * dtype.itemsize
                values = np.frombuffer(self.data[self.pos:end], dtype=dtype).tolist()
                self.pos = end
                return values
            return [self.value(item_kind) for _ in range(count)]
        raise GGUFError(f"{self.path}: unknown metadata value type {kind}")


def read_gguf(path) -> GGUFFile:
    """Read a GGUF file's header, metadata and tensor table (not the tensors themselves).

    Raises:
        TypeError: ``path`` is not a str or Path.
        FileNotFoundError: ``path`` does not exist (IsADirectoryError: it is a folder).
        GGUFError: the file is not a GGUF file (its first bytes are not ``b"GGUF"``), has a
            version other than 2 or 3, or is truncated; the message names the file.
    """
    if not isinstance(path, (str, Path)):
        raise TypeError(f"path must be a str or pathlib.Path, got {type(path).__name__}")
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"GGUF file {str(path)!r} is a folder; give the path of the .gguf file in it")
    if not path.is_file():
        raise FileNotFoundError(f"GGUF file {str(path)!r} does not exist")
    with open(path, "rb") as f:
        if path.stat().st_size == 0:
            raise GGUFError(f"{path} is not a GGUF file: it is empty")
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return _parse(path, data)


def _parse(path: Path, data) -> GGUFFile:
    if data[:4] != MAGIC:
        raise GGUFError(
            f"{path} is not a GGUF file: it starts with {data[:4]!r}, a GGUF file with {MAGIC!r}"
        )
    cursor = _Bytes(data, path)
    cursor.pos = 4
    version = cursor.take("<I")
    if version not in (2, 3):
        raise GGUFError(f"{path}: GGUF version {version} is not supported (versions 2 and 3 are)")
    n_tensors, n_metadata = cursor.take("<Q"), cursor.take("<Q")

    metadata = {}
    for _ in range(n_metadata):
        key = cursor.string()
        metadata[key] = cursor.value(cursor.take("<I"))

    gguf = _gguf_package()
    table = []
    for _ in range(n_tensors):
        name = cursor.string()
        n_dims = cursor.take("<I")
        dims = [cursor.take("<Q") for _ in range(n_dims)]  # innermost first
        type_code, offset = cursor.take("<I"), cursor.take("<Q")
        try:
            qtype = gguf.GGMLQuantizationType(type_code)
        except ValueError:
            raise GGUFError(f"{path}: tensor {name!r} has an unknown storage type {type_code}") from None
        block_size, block_bytes = gguf.GGML_QUANT_SIZES[qtype]
        n_elements = int(np.prod(dims, dtype=np.int64))
        table.append((name, tuple(int(d) for d in reversed(dims)), qtype.name, offset,
                      n_elements // block_size * block_bytes))

    alignment = int(metadata.get("general.alignment", DEFAULT_ALIGNMENT))
    data_start = -(-cursor.pos // alignment) * alignment  # round up to a multiple of the alignment
    file_size = path.stat().st_size
    tensors = {}
    for name, shape, type_name, offset, n_bytes in table:
        info = GGUFTensorInfo(name, shape, type_name, data_start + offset, n_bytes)
        if info.offset + n_bytes > file_size:
            raise GGUFError(f"{path}: tensor {name!r} lies past the end of the file (truncated file?)")
        tensors[name] = info
    return GGUFFile(path=path, version=version, metadata=metadata, tensors=tensors)
