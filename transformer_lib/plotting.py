"""The book's figure style, in one place.

Every figure in the book is drawn with the helpers below, so that attention
looks the same in every chapter:

* one colormap for attention weights (:data:`ATTENTION_CMAP`), always on a
  fixed 0..1 scale with a colorbar, so two heatmaps can be compared by eye;
* one diverging colormap (:data:`DIVERGING_CMAP`) for signed values such as raw
  scores, embeddings or weight matrices, centred on zero;
* token labels on both axes of every token-by-token matrix (queries on the
  rows, keys on the columns);
* Chinese labels render: importing this module registers the CJK font
  "Noto Sans CJK SC" that the pip package ``mplfonts`` ships, as a fallback
  after matplotlib's default font (no ``mplfonts init`` needed, nothing is
  written into matplotlib's installation);
* sharp on high-density screens: in IPython/Jupyter, importing this module
  makes figures display as PNGs with :data:`STATIC_DENSITY` (2) pixels per
  displayed pixel, at the same displayed size as before (72 px per inch; the
  output's ``width`` metadata holds the displayed size). Explorer
  pictures (:mod:`transformer_lib.widgets`) use :data:`EXPLORER_DENSITY`;
* readable: no text smaller than :data:`MIN_FONT_PT` points; text set
  smaller is raised to it when a figure is rendered.

Rendering to PNG (density, minimum text size, the inline formatter) lives in
:mod:`transformer_lib.rendering`, box-and-arrow diagrams in
:mod:`transformer_lib.diagrams`; their names are re-exported here.

Dimension legend (as in the rest of the library): T query length, S key
length, H heads, N layers.
"""
from __future__ import annotations

import os
from collections.abc import Sequence

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib import font_manager

from ._checks import check_positive_int
from .diagrams import pipeline_diagram  # re-exported: one import for every figure helper
from .rendering import (
    DISPLAY_DPI,
    EXPLORER_DENSITY,
    MIN_FONT_PT,
    STATIC_DENSITY,
    _inline_png,  # noqa: F401  (re-exported for code that used it from here)
    figure_to_png,
    png_size,
    raise_small_text,
    save_figure,
    use_dense_inline_figures,
)

__all__ = [
    "ATTENTION_CMAP",
    "DIVERGING_CMAP",
    "SEQUENTIAL_CMAP",
    "CJK_FONT",
    "FIGSIZE",
    "register_cjk_font",
    "use_book_style",
    "to_numpy",
    "attention_heatmap",
    "attention_grid",
    "matrix_heatmap",
    "figure_to_png",
    "save_figure",
    "png_size",
    "raise_small_text",
    "use_dense_inline_figures",
    "pipeline_diagram",
    "DISPLAY_DPI",
    "STATIC_DENSITY",
    "EXPLORER_DENSITY",
    "MIN_FONT_PT",
]

#: Colormap for attention weights (probabilities, always shown on 0..1).
ATTENTION_CMAP = "viridis"
#: Colormap for signed values (scores, embeddings, weights), centred on 0.
DIVERGING_CMAP = "RdBu_r"
#: Colormap for other non-negative quantities (norms, costs).
SEQUENTIAL_CMAP = "Blues"
#: Font family registered for Chinese labels.
CJK_FONT = "Noto Sans CJK SC"
#: Default figure size in inches: small figures keep notebooks small.
FIGSIZE = (6.0, 4.0)

_CJK_FILE = "NotoSansCJKsc-Regular.otf"


def register_cjk_font() -> bool:
    """Register "Noto Sans CJK SC" (shipped by ``mplfonts``) with matplotlib.

    Returns True when the font is available afterwards. The font is added as
    a *fallback* after the default sans-serif font: Latin text keeps its usual
    look, Chinese characters come from the CJK font, with no missing-glyph
    warning.
    """
    try:
        names = {f.name for f in font_manager.fontManager.ttflist}
        if CJK_FONT not in names:
            import mplfonts  # noqa: WPS433 (import here: optional at import time)

            path = os.path.join(os.path.dirname(mplfonts.__file__), "fonts", _CJK_FILE)
            if not os.path.exists(path):
                return False
            font_manager.fontManager.addfont(path)
    except ImportError:
        return False
    # matplotlib falls back glyph by glyph along ``font.family``: the usual
    # sans-serif font first (Latin, maths), then the CJK font for Chinese.
    matplotlib.rcParams["font.family"] = ["sans-serif", CJK_FONT]
    return True


def use_book_style() -> None:
    """Apply the book's matplotlib defaults (called once on import)."""
    register_cjk_font()
    matplotlib.rcParams.update(
        {
            "figure.figsize": FIGSIZE,
            "figure.dpi": DISPLAY_DPI,
            "savefig.dpi": DISPLAY_DPI * STATIC_DENSITY,
            "savefig.bbox": "tight",
            # Every text size at or above MIN_FONT_PT (8 pt).
            "font.size": 10,
            "axes.titlesize": 11,
            "axes.labelsize": 10,
            "xtick.labelsize": 9,
            "ytick.labelsize": 9,
            "legend.fontsize": 9,
            "legend.title_fontsize": 9,
            "figure.titlesize": 12,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "image.cmap": ATTENTION_CMAP,
            "axes.unicode_minus": False,
            "svg.hashsalt": "inside-the-transformer",
        }
    )


def to_numpy(x) -> np.ndarray:
    """Return ``x`` (a torch tensor, array or nested list) as a float numpy array."""
    if hasattr(x, "detach"):
        x = x.detach().to("cpu")
        # bfloat16/float16 have no numpy equivalent: go through float32.
        x = x.float().numpy() if x.dtype.is_floating_point else x.numpy()
    return np.asarray(x, dtype=float)


def _as_array(name: str, x) -> np.ndarray:
    """``to_numpy(x)``, with an error that names the argument when ``x`` holds no numbers."""
    try:
        return to_numpy(x) if x is not None else np.asarray(None, dtype=object)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"{name} must be a tensor, an array or a nested list of numbers, got {type(x).__name__}: {err}"
        ) from None


def _check_ax(ax) -> None:
    if ax is not None and not hasattr(ax, "imshow"):
        raise TypeError(f"ax must be a matplotlib Axes (or None for a new figure), got {type(ax).__name__}")


def _check_2d(name: str, m: np.ndarray) -> None:
    if m.dtype == object:
        raise TypeError(f"{name} must be a tensor, an array or a nested list of numbers, got None")
    if m.ndim != 2:
        raise ValueError(f"{name} must be a 2-D matrix (rows, columns), got shape {tuple(m.shape)}")


def _check_labels(name: str, labels, n: int, axis: str):
    if labels is None:
        return None
    if not hasattr(labels, "__iter__") or isinstance(labels, bytes):
        raise TypeError(f"{name} must be a list of labels (one per {axis[:-1]}), got {type(labels).__name__}")
    labels = [str(t) for t in labels]  # a string: one character per label
    if len(labels) != n:
        raise ValueError(
            f"{name} has {len(labels)} labels but the matrix has {n} {axis}; give one label per {axis[:-1]}"
        )
    return labels


def _annotate(ax, m: np.ndarray, fmt: str, vmin: float, vmax: float) -> None:
    mid = (vmin + vmax) / 2
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            v = m[i, j]
            color = "white" if v < mid else "black"
            ax.text(j, i, format(v, fmt), ha="center", va="center", fontsize=8, color=color)


def attention_heatmap(
    weights,
    query_tokens: Sequence[str] | None = None,
    key_tokens: Sequence[str] | None = None,
    *,
    ax=None,
    title: str | None = "Attention weights",
    xlabel: str = "key (attended to)",
    ylabel: str = "query (attending)",
    annotate: bool | None = None,
    fmt: str = ".2f",
    colorbar: bool = True,
    cbar_label: str = "attention weight",
):
    """Draw one (T, S) matrix of attention weights in the book's style.

    Args:
        weights: (T, S) tensor or array of attention weights in [0, 1]
            (rows are queries, columns are keys).
        query_tokens: T labels for the rows (defaults to ``key_tokens`` when
            the matrix is square).
        key_tokens: S labels for the columns.
        ax: axes to draw on (a new figure of size :data:`FIGSIZE` otherwise).
        title, xlabel, ylabel: text for the axes.
        annotate: write each weight in its cell (default: when T, S <= 8).
        fmt: number format for ``annotate``.
        colorbar: add a colorbar from 0 to 1.

    Returns:
        The matplotlib ``Axes``.
    """
    _check_ax(ax)
    m = _as_array("weights", weights)
    if m.ndim == 3 and m.shape[0] == 1:
        m = m[0]
    _check_2d("weights", m)
    if query_tokens is None and key_tokens is not None and m.shape[0] == m.shape[1]:
        query_tokens = key_tokens
    if key_tokens is None and query_tokens is not None and m.shape[0] == m.shape[1]:
        key_tokens = query_tokens
    query_tokens = _check_labels("query_tokens", query_tokens, m.shape[0], "rows")
    key_tokens = _check_labels("key_tokens", key_tokens, m.shape[1], "columns")
    if ax is None:
        _, ax = plt.subplots(figsize=FIGSIZE)
    im = ax.imshow(m, cmap=ATTENTION_CMAP, vmin=0.0, vmax=1.0, aspect="auto")
    _frame(ax, m.shape, query_tokens, key_tokens, xlabel, ylabel, title)
    if annotate if annotate is not None else max(m.shape) <= 8:
        _annotate(ax, m, fmt, 0.0, 1.0)
    if colorbar:
        ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label=cbar_label,
                           ticks=[0.0, 0.25, 0.5, 0.75, 1.0])
    return ax


def _frame(ax, shape, row_labels, col_labels, xlabel: str, ylabel: str, title: str | None) -> None:
    """Tick labels, axis labels and title of one matrix panel."""
    _label_axes(ax, shape, row_labels, col_labels)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)


def _label_axes(ax, shape, row_labels, col_labels) -> None:
    ax.set_xticks(range(shape[1]))
    ax.set_yticks(range(shape[0]))
    if col_labels is not None:
        rotation = 45 if max((len(t) for t in col_labels), default=0) > 3 else 0
        ax.set_xticklabels(col_labels, rotation=rotation, ha="right" if rotation else "center")
    if row_labels is not None:
        ax.set_yticklabels(row_labels)
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)


def matrix_heatmap(
    matrix,
    row_labels: Sequence[str] | None = None,
    col_labels: Sequence[str] | None = None,
    *,
    ax=None,
    title: str | None = None,
    xlabel: str = "",
    ylabel: str = "",
    annotate: bool | None = None,
    fmt: str = ".2f",
    colorbar: bool = True,
    cbar_label: str = "value",
    diverging: bool = True,
    vmax: float | None = None,
):
    """Draw any 2-D matrix (scores, embeddings, weights) in the book's style.

    Signed values use :data:`DIVERGING_CMAP` centred on zero (``diverging=True``);
    non-negative ones use :data:`SEQUENTIAL_CMAP`. ``-inf`` entries (masked
    scores) are drawn grey. Use :func:`attention_heatmap` for probabilities.

    Returns:
        The matplotlib ``Axes``.
    """
    _check_ax(ax)
    m = _as_array("matrix", matrix)
    _check_2d("matrix", m)
    row_labels = _check_labels("row_labels", row_labels, m.shape[0], "rows")
    col_labels = _check_labels("col_labels", col_labels, m.shape[1], "columns")
    if ax is None:
        _, ax = plt.subplots(figsize=FIGSIZE)
    finite = m[np.isfinite(m)]
    if vmax is None:
        vmax = float(np.abs(finite).max()) if finite.size else 1.0
        vmax = vmax or 1.0
    if diverging:
        cmap, vmin = plt.get_cmap(DIVERGING_CMAP), -vmax
    else:
        cmap, vmin = plt.get_cmap(SEQUENTIAL_CMAP), 0.0
    cmap = cmap.with_extremes(bad="lightgrey")
    shown = np.ma.masked_invalid(m)
    im = ax.imshow(shown, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
    _frame(ax, m.shape, row_labels, col_labels, xlabel, ylabel, title)
    if annotate if annotate is not None else max(m.shape) <= 8:
        for i in range(m.shape[0]):
            for j in range(m.shape[1]):
                v = m[i, j]
                text = "-inf" if np.isneginf(v) else format(v, fmt)
                strong = np.isfinite(v) and abs(v) > 0.6 * vmax
                ax.text(j, i, text, ha="center", va="center", fontsize=8,
                        color="white" if strong else "black")
    if colorbar:
        ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label=cbar_label)
    return ax


def attention_grid(
    weights,
    tokens: Sequence[str] | None = None,
    *,
    titles: Sequence[str] | None = None,
    ncols: int | None = None,
    suptitle: str | None = "Attention weights per head",
    panel_size: float = 2.4,
    annotate: bool = False,
):
    """Draw several attention matrices side by side with one shared 0..1 colorbar.

    Args:
        weights: (H, T, S) (one panel per head) or (N, H, T, S) (one row per
            layer, one column per head).
        tokens: labels for both axes (self-attention, T == S).
        titles: one title per panel (default "head h" / "layer l, head h").

    Returns:
        The matplotlib ``Figure``.
    """
    w = _as_array("weights", weights)
    if w.ndim == 3:
        w = w[None]
        layered = False
    elif w.ndim == 4:
        layered = True
    else:
        raise ValueError(f"weights must be (H, T, S) or (N, H, T, S), got shape {tuple(w.shape)}")
    n_layers, n_heads = w.shape[:2]
    if n_layers == 0 or n_heads == 0:
        raise ValueError(f"weights has no matrix to draw: shape {tuple(w.shape)}")
    if tokens is not None and w.shape[2] != w.shape[3]:
        raise ValueError(
            f"tokens labels both axes, so it needs T == S; weights has T={w.shape[2]} queries and "
            f"S={w.shape[3]} keys: draw each head with attention_heatmap(query_tokens=..., key_tokens=...)"
        )
    if ncols is not None:
        check_positive_int("ncols", ncols)
    panels = [(layer, h) for layer in range(n_layers) for h in range(n_heads)]
    if ncols is None:
        ncols = n_heads if layered else min(n_heads, 4)
    nrows = -(-len(panels) // ncols)
    if titles is not None and len(titles) != len(panels):
        raise ValueError(f"titles has {len(titles)} entries, expected one per panel ({len(panels)})")
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(panel_size * ncols + 0.8, panel_size * nrows + 0.4), squeeze=False,
        constrained_layout=True,
    )
    im = None
    for k, (layer, h) in enumerate(panels):
        ax = axes[k // ncols][k % ncols]
        im = ax.imshow(w[layer, h], cmap=ATTENTION_CMAP, vmin=0.0, vmax=1.0, aspect="auto")
        labels = _check_labels("tokens", tokens, w.shape[3], "columns") if tokens is not None else None
        _label_axes(ax, w.shape[2:], labels, labels)
        if titles is not None:
            ax.set_title(titles[k], fontsize=9)
        else:
            ax.set_title(f"layer {layer}, head {h}" if layered else f"head {h}", fontsize=9)
        if k % ncols == 0:
            ax.set_ylabel("query")
        if k // ncols == nrows - 1:
            ax.set_xlabel("key")
        if annotate:
            _annotate(ax, w[layer, h], ".1f", 0.0, 1.0)
    for k in range(len(panels), nrows * ncols):
        axes[k // ncols][k % ncols].axis("off")
    cb = fig.colorbar(im, ax=axes, fraction=0.03, pad=0.02)
    cb.set_label("attention weight")
    cb.set_ticks([0.0, 0.5, 1.0])
    if suptitle:
        fig.suptitle(suptitle)
    return fig


use_book_style()
use_dense_inline_figures()
