"""Rendering figures to PNG for the book: dense pictures, readable text, the same bytes each run.

Every picture the book shows passes through :func:`figure_to_png`: inline notebook
figures (installed as IPython's PNG formatter by :func:`use_dense_inline_figures`),
explorer pictures (:mod:`transformer_lib.widgets`) and the PNG files of prose pages
(:func:`save_figure`). A figure is drawn at :data:`DISPLAY_DPI` (72 CSS pixels per inch)
and rendered with :data:`STATIC_DENSITY` (or :data:`EXPLORER_DENSITY`) pixels per displayed
pixel, so it is sharp on high-density screens at an unchanged displayed size; text smaller
than :data:`MIN_FONT_PT` is raised to it first.

The style of what is drawn (colormaps, fonts, heatmaps) is :mod:`transformer_lib.plotting`,
which re-exports these names.
"""
from __future__ import annotations

import base64
import contextlib
import io
import struct

import matplotlib
import matplotlib.pyplot as plt
import matplotlib.text

__all__ = [
    "DISPLAY_DPI",
    "STATIC_DENSITY",
    "EXPLORER_DENSITY",
    "MIN_FONT_PT",
    "raise_small_text",
    "png_size",
    "figure_to_png",
    "save_figure",
    "use_dense_inline_figures",
]

#: Displayed size: 72 CSS pixels per inch of figure (a 6 x 4 in figure shows 432 x 288 px).
DISPLAY_DPI = 72
#: Pixels per displayed pixel of the figures shown in a notebook and in the book ("retina").
STATIC_DENSITY = 2.0
#: Pixels per displayed pixel of explorer pictures (many per explorer: a little less).
EXPLORER_DENSITY = 1.5
#: Smallest text size in any figure, in points (at 72 px per inch, 1 pt is 1 CSS px).
MIN_FONT_PT = 8.0


def raise_small_text(fig, minimum: float = MIN_FONT_PT) -> int:
    """Raise every text of ``fig`` smaller than ``minimum`` points to ``minimum``.

    Called on every figure the book renders (inline figures and explorer
    pictures), so that no label is too small to read. Returns how many texts
    were raised: a figure that needed it may need more room for its labels.
    """
    raised = 0
    for text in fig.findobj(matplotlib.text.Text):
        if text.get_fontsize() < minimum:
            text.set_fontsize(minimum)
            raised += 1
    return raised


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) in pixels of PNG bytes, read from the header."""
    if png[:8] != b"\x89PNG\r\n\x1a\n" or len(png) < 24:
        raise ValueError("not PNG data (a PNG starts with an 8-byte signature and a 16-byte header chunk)")
    return struct.unpack(">II", png[16:24])


def figure_to_png(
    fig,
    dpi: float = DISPLAY_DPI,
    close: bool = True,
    tight: bool = True,
    *,
    density: float = 1.0,
    colors: int | None = None,
) -> bytes:
    """Render a matplotlib figure to PNG bytes (no timestamp: same figure, same bytes).

    Args:
        fig: the figure.
        dpi: the *displayed* resolution: pixels per inch of figure on the page.
        close: close the figure afterwards.
        tight: crop the margins (it costs a second layout pass); ``False``
            for figures made with ``layout="constrained"``.
        density: pixels per displayed pixel: the PNG is rendered at
            ``dpi * density`` (2 for sharp pictures on high-density screens;
            show it at ``png_size(...) / density``).
        colors: reduce the picture to at most this many colours (256: an
            indexed PNG about a third the size; heatmaps and line plots lose
            nothing visible). ``None`` keeps every colour (lossless).

    Text smaller than :data:`MIN_FONT_PT` is raised to it first
    (:func:`raise_small_text`). The PNG is compressed losslessly as far as
    it goes (no alpha channel when the picture is opaque, best zlib level)
    and its pHYs chunk records ``dpi * density``.
    """
    from PIL import Image  # matplotlib depends on Pillow

    if not hasattr(fig, "savefig"):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    for name, value in (("dpi", dpi), ("density", density)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < float("inf"):
            raise ValueError(f"{name} must be a positive number, got {value!r}")
    if colors is not None and (isinstance(colors, bool) or not isinstance(colors, int) or not 2 <= colors <= 256):
        raise ValueError(f"colors must be None (every colour) or a whole number from 2 to 256, got {colors!r}")
    raise_small_text(fig)
    buf = io.BytesIO()
    fig.savefig(
        buf, format="png", dpi=dpi * density, bbox_inches="tight" if tight else None,
        metadata={"Software": None},
    )
    if close:
        plt.close(fig)
    buf.seek(0)
    img = Image.open(buf)
    img.load()
    if img.mode == "RGBA" and img.getextrema()[3][0] == 255:
        img = img.convert("RGB")  # opaque: the alpha channel carries nothing
    if colors is not None:
        if img.mode == "RGBA":
            img = img.quantize(colors=colors, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
        else:
            img = img.convert("RGB").quantize(
                colors=colors, method=Image.Quantize.MAXCOVERAGE, dither=Image.Dither.NONE
            )
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=True, dpi=(dpi * density, dpi * density))
    return out.getvalue()


def save_figure(fig, path, *, density: float = STATIC_DENSITY, close: bool = True) -> int:
    """Save ``fig`` as a PNG file for a page of the book (e.g. the performance appendix).

    Like the notebook figures: :data:`STATIC_DENSITY` pixels per displayed pixel, shown
    at 72 px per inch of figure. The PNG's pHYs chunk records ``72 * density`` dpi, and
    the book (``book/_ext``) shows such a file at ``pixels * 72 / dpi`` CSS pixels wide
    when the page gives no width. Returns the file size in bytes.
    """
    png = figure_to_png(fig, dpi=DISPLAY_DPI, close=close, density=density)
    with open(path, "wb") as f:
        f.write(png)
    return len(png)


def _inline_png(fig):
    """IPython formatter for figures: a dense PNG plus its displayed size as metadata."""
    if not fig.axes and not fig.lines and not fig.texts and not fig.images:
        return None  # an empty figure shows nothing (as IPython's own formatter)
    png = figure_to_png(fig, dpi=DISPLAY_DPI, close=False, density=STATIC_DENSITY)
    width, _ = png_size(png)
    # The width only: the height follows from the picture's proportions, also when a
    # narrow page scales the picture down (a fixed height would then distort it).
    return base64.b64encode(png).decode("ascii"), {"width": round(width / STATIC_DENSITY)}


def use_dense_inline_figures() -> bool:
    """In IPython/Jupyter, show figures as :data:`STATIC_DENSITY` x dense PNGs.

    The displayed size stays 72 px per inch: the output's metadata carry the
    displayed width (``{"image/png": {"width": ...}}``), which Jupyter and the
    book's HTML (myst-nb) use. Called on import; returns False
    outside IPython.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None or not hasattr(shell, "display_formatter"):
        return False
    # Load the inline backend now: on loading it installs IPython's own PNG
    # formatter, which would otherwise replace this one later.
    with contextlib.suppress(Exception):  # no usable backend: Agg still renders
        plt._get_backend_mod()
    from matplotlib.figure import Figure

    formatters = shell.display_formatter.formatters
    for mime in ("image/svg+xml", "image/jpeg", "application/pdf"):
        formatters[mime].pop(Figure, None)
    formatters["image/png"].for_type(Figure, _inline_png)
    return True
