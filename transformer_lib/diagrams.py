"""Data-flow diagrams: boxes joined by arrows, for the shape of a whole model.

:func:`pipeline_diagram` draws, for example, the path of a batch through a
Transformer (token ids -> embeddings -> N layers -> logits) with each tensor's
shape written next to its box. Re-exported by :mod:`transformer_lib.plotting`.
"""
from __future__ import annotations

from collections.abc import Sequence

import matplotlib.patches
import matplotlib.pyplot as plt

__all__ = ["pipeline_diagram"]


def pipeline_diagram(
    stages: Sequence[tuple[str, str]],
    *,
    ax=None,
    title: str | None = None,
    repeat: tuple[int, int, str] | None = None,
    colors: Sequence[str] | None = None,
):
    """Draw a data-flow diagram: boxes from top to bottom joined by arrows.

    Args:
        stages: ``(label, note)`` per box, in order; ``note`` (e.g. a tensor
            shape) is written to the right of the box.
        ax: axes to draw on (a new figure otherwise).
        title: title of the axes.
        repeat: ``(first, last, text)``: a bracket around boxes ``first..last``
            (inclusive indices) labelled ``text``, e.g. ``(2, 5, "x N = 6")``.
        colors: one face colour per box (default: light blue).

    Returns:
        The matplotlib ``Axes``.
    """
    if isinstance(stages, (str, bytes)) or not isinstance(stages, Sequence):
        raise TypeError(f"stages must be a list of (label, note) pairs, got {type(stages).__name__}")
    n = len(stages)
    if n == 0:
        raise ValueError("stages must hold at least one (label, note) pair")
    for i, stage in enumerate(stages):
        if isinstance(stage, (str, bytes)) or not isinstance(stage, Sequence) or len(stage) != 2:
            raise ValueError(f"stages[{i}] must be a (label, note) pair, got {stage!r}")
    if repeat is not None and (not isinstance(repeat, Sequence) or len(repeat) != 3):
        raise ValueError(f"repeat must be (first, last, text), got {repeat!r}")
    if colors is not None and len(colors) != n:
        raise ValueError(f"colors has {len(colors)} entries, expected one per stage ({n})")
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 0.55 * n + 0.6))
    box_w, box_h, step = 0.46, 0.62, 1.0
    for i, (label, note) in enumerate(stages):
        y = -i * step
        face = colors[i] if colors is not None else "#dbe9f6"
        ax.add_patch(
            matplotlib.patches.FancyBboxPatch(
                (0.05, y - box_h / 2), box_w, box_h, boxstyle="round,pad=0.02,rounding_size=0.08",
                facecolor=face, edgecolor="#4a6f8a", linewidth=1.0,
            )
        )
        ax.text(0.05 + box_w / 2, y, label, ha="center", va="center", fontsize=9)
        if note:
            ax.text(0.05 + box_w + 0.06, y, note, ha="left", va="center", fontsize=8.5, family="monospace")
        if i < n - 1:
            ax.annotate(
                "", xy=(0.05 + box_w / 2, y - step + box_h / 2 + 0.02), xytext=(0.05 + box_w / 2, y - box_h / 2 - 0.02),
                arrowprops=dict(arrowstyle="->", color="#4a6f8a", lw=1.0),
            )
    if repeat is not None:
        first, last, text = repeat
        if not (0 <= first <= last < n):
            raise ValueError(f"repeat=({first}, {last}, ...) must index boxes 0..{n - 1}")
        top, bottom = -first * step + box_h / 2 + 0.1, -last * step - box_h / 2 - 0.1
        x = 0.0
        ax.plot([x + 0.03, x, x, x + 0.03], [top, top, bottom, bottom], color="#a0522d", lw=1.2)
        ax.text(x - 0.02, (top + bottom) / 2, text, rotation=90, ha="right", va="center", fontsize=9, color="#a0522d")
    ax.set_xlim(-0.12, 1.25)
    ax.set_ylim(-(n - 1) * step - 0.6, 0.6)
    ax.axis("off")
    if title:
        ax.set_title(title)
    return ax
