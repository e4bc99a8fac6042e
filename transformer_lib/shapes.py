"""Trace the tensor shapes of a real forward pass, module by module.

:func:`trace_shapes` runs a model once with forward hooks on every submodule and
records, in call order, each module's name, class, input shapes and output
shape. Nothing is re-implemented: what the table shows is what the model did.

Example::

    trace = trace_shapes(model, tokens, legend={"B": 2, "T": 6, "D": 32})
    print(trace.table(max_depth=2))

Dimension legend (as in the rest of the library): B batch, T sequence length,
D d_model, H heads, d_k = D / H head width, d_ff feed-forward width, V vocabulary
size. A legend maps any such name to a size, e.g. ``{"B": 2, "T": 6, "d_ff": 64}``.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

__all__ = ["ShapeRecord", "ShapeTrace", "trace_shapes", "format_shape"]


@dataclass
class ShapeRecord:
    """One module call seen during the traced forward pass."""

    step: int
    name: str  # qualified name inside the model, e.g. "blocks.0.self_attn.w_q"
    kind: str  # the module's class name
    depth: int  # 0 for the model itself, 1 for its children, ...
    inputs: list[tuple[int, ...]] = field(default_factory=list)
    output: list[tuple[int, ...]] = field(default_factory=list)
    n_params: int = 0


def _shapes(obj: Any) -> list[tuple[int, ...]]:
    """Shapes of every tensor in ``obj`` (a tensor, or nested tuples/lists/dicts)."""
    if isinstance(obj, torch.Tensor):
        return [tuple(obj.shape)]
    if isinstance(obj, (list, tuple)):
        return [s for item in obj for s in _shapes(item)]
    if isinstance(obj, Mapping):
        return [s for item in obj.values() for s in _shapes(item)]
    return []


def format_shape(shape: tuple[int, ...], legend: Mapping[str, int] | None = None) -> str:
    """``(2, 6, 32)``, or ``(B, T, D) = (2, 6, 32)`` when every size has a unique letter in ``legend``."""
    numbers = "(" + ", ".join(str(s) for s in shape) + ")"
    if not legend or not shape:
        return numbers
    by_size: dict[int, list[str]] = {}
    for letter, size in legend.items():
        by_size.setdefault(int(size), []).append(letter)
    letters = [by_size.get(s, []) for s in shape]
    if all(len(options) == 1 for options in letters):
        return "(" + ", ".join(options[0] for options in letters) + ") = " + numbers
    return numbers


class ShapeTrace(list):
    """A list of :class:`ShapeRecord`, printable as a table."""

    def __init__(self, records=(), legend: Mapping[str, int] | None = None):
        super().__init__(records)
        self.legend = dict(legend or {})

    def table(
        self,
        max_depth: int | None = None,
        params: bool = False,
        hide: tuple[str, ...] = ("Dropout", "Identity"),
    ) -> str:
        """The trace as text: one line per module call, indented by depth.

        Args:
            max_depth: hide calls deeper than this (0 = the model only).
            params: add a column with each module's parameter count.
            hide: module classes left out of the table (by default the ones
                that do not change a tensor at inference: dropout, identity).
        """
        rows = [r for r in self if (max_depth is None or r.depth <= max_depth) and r.kind not in hide]
        head = ["step", "module", "type", "input", "output"] + (["params"] if params else [])
        lines = []
        for r in rows:
            name = "  " * r.depth + (r.name or "(model)")
            ins = ", ".join(format_shape(s, self.legend) for s in r.inputs[:2]) or "-"
            if len(r.inputs) > 2:
                ins += f" +{len(r.inputs) - 2}"
            outs = ", ".join(format_shape(s, self.legend) for s in r.output[:2]) or "-"
            if len(r.output) > 2:
                outs += f" +{len(r.output) - 2}"
            lines.append([str(r.step), name, r.kind, ins, outs] + ([f"{r.n_params:,}"] if params else []))
        widths = [max(len(h), *(len(line[i]) for line in lines)) if lines else len(h) for i, h in enumerate(head)]
        fmt = "  ".join(f"{{:<{w}}}" for w in widths)
        out = [fmt.format(*head), fmt.format(*("-" * w for w in widths))]
        out += [fmt.format(*line) for line in lines]
        return "\n".join(line.rstrip() for line in out)

    def find(self, name: str) -> ShapeRecord:
        """The first record whose module name is ``name``."""
        for r in self:
            if r.name == name:
                return r
        raise KeyError(f"no module named {name!r} in the trace; names: {[r.name for r in self][:20]} ...")

    def __str__(self) -> str:  # print(trace)
        return self.table()


def trace_shapes(model: nn.Module, *args, legend: Mapping[str, int] | None = None, **kwargs) -> ShapeTrace:
    """Run ``model(*args, **kwargs)`` once and record every module call's shapes.

    Args:
        model: any ``nn.Module`` (for example a :class:`~transformer_lib.GPT`).
        *args, **kwargs: the inputs of the forward pass.
        legend: optional ``{letter: size}`` (e.g. ``{"B": 2, "T": 6, "D": 32}``)
            to print shapes with their dimension names where a size is unambiguous.

    Returns:
        A :class:`ShapeTrace` (records in the order the modules were called;
        a module called twice appears twice). The model runs under
        ``torch.no_grad()`` and its hooks are removed afterwards.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if legend is not None:
        if not isinstance(legend, Mapping) or not all(
                isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) for k, v in legend.items()):
            raise TypeError(f"legend must map dimension names to int sizes, e.g. {{'B': 2, 'T': 6}}, got {legend!r}")
    names = {module: name for name, module in model.named_modules()}
    records: list[ShapeRecord] = []
    open_calls: list[ShapeRecord] = []
    handles = []

    def pre_hook(module, inputs, kw):
        name = names.get(module, "?")
        depth = len(open_calls)  # how many module calls this one is nested in
        rec = ShapeRecord(
            step=len(records) + 1,
            name=name,
            kind=type(module).__name__,
            depth=depth,
            inputs=_shapes(inputs) + _shapes(kw),
            n_params=sum(p.numel() for p in module.parameters()),
        )
        records.append(rec)
        open_calls.append(rec)

    def post_hook(module, inputs, kw, output):
        rec = open_calls.pop()
        rec.output = _shapes(output)

    for module in model.modules():
        handles.append(module.register_forward_pre_hook(pre_hook, with_kwargs=True))
        handles.append(module.register_forward_hook(post_hook, with_kwargs=True))
    try:
        with torch.no_grad():
            model(*args, **kwargs)
    finally:
        for h in handles:
            h.remove()
    return ShapeTrace(records, legend)
