"""Sliders that work everywhere: in JupyterLab, on Colab and in the static book.

A slider whose Python callback redraws a figure needs a running kernel; in the
published (static) book nothing would happen when it moves. :func:`explorer`
avoids the kernel altogether: it draws every combination of slider values
*once*, stacks the pictures, and links each slider to its stack in the
browser (``ipywidgets.jslink``). Moving a slider only changes which
pre-drawn picture is visible, so it works wherever the widget's state is
embedded, with or without Python behind it.

Example::

    from transformer_lib.widgets import explorer

    def draw(heads, length):
        fig, ax = plt.subplots()
        ...
        return fig

    explorer(draw, heads=[1, 2, 4, 8], length=[4, 8, 16])   # 4 x 3 = 12 pictures
"""
from __future__ import annotations

import base64
import html
import inspect
import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import ipywidgets as widgets

from .plotting import DISPLAY_DPI, EXPLORER_DENSITY, figure_to_png, png_size  # and the book style

__all__ = ["explorer", "slider_options", "MAX_IMAGES", "MAX_BYTES", "COLORS"]

#: Largest number of pictures one explorer may hold (they all go into the notebook).
MAX_IMAGES = 64
#: Largest total size of one explorer's PNGs, in bytes. Stored base64-encoded (4/3 of
#: this) in the notebook and its page, each of which must stay under 4 MB per chapter.
MAX_BYTES = 2_000_000
#: Colours per explorer picture: 256-colour (indexed) PNGs are about a third the size
#: of full-colour ones, with no visible difference on heatmaps and plots.
COLORS = 256
#: CSS class on the explorer's outer box; the book's browser test finds explorers by it.
EXPLORER_CLASS = "tl-explorer"


def slider_options(name: str, values) -> list[tuple[str, Any]]:
    """Normalise one slider's values to a list of ``(label, value)`` pairs.

    ``values`` is either a sequence of numbers/strings (each is its own label) or
    a dict ``{label: value}`` (the label is shown, the value is passed to ``draw``).
    """
    if isinstance(values, Mapping):
        pairs = [(str(k), v) for k, v in values.items()]
    elif isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise TypeError(
            f"slider {name!r} must be given a list of values or a dict label -> value, "
            f"got {values!r} of type {type(values).__name__}"
        )
    else:
        pairs = [(_label(v), v) for v in values]
    if len(pairs) == 0:
        raise ValueError(f"slider {name!r} has no values; give at least one")
    labels = [label for label, _ in pairs]
    if len(set(labels)) != len(labels):
        raise ValueError(f"slider {name!r} has repeated values/labels {labels}; each must be distinct")
    return pairs


def _label(v) -> str:
    if isinstance(v, float) and v.is_integer() is False:
        return f"{v:g}"
    return str(v)


def _check_accepts(what: str, fn, names: list[str]) -> None:
    """Raise unless ``fn`` can be called with the slider names as keyword arguments."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):  # no signature to read (some builtins): let the call tell
        return
    try:
        signature.bind(**dict.fromkeys(names))
    except TypeError as err:
        raise TypeError(
            f"{what} must take the slider names {names} as keyword arguments ({what}({', '.join(names)})); "
            f"{err}"
        ) from None


def _alt_text(alt, kwargs: dict, values: str) -> str:
    """The alt text of one picture: the author's description, then the slider values."""
    if alt is None:
        return values
    text = alt(**kwargs) if callable(alt) else alt
    if not isinstance(text, str):
        raise TypeError(f"alt must be a text or a function returning a text, got {text!r}")
    text = " ".join(text.split())
    return f"{text} ({values})" if text else values


def explorer(
    draw: Callable[..., Any],
    *,
    dpi: float = DISPLAY_DPI,
    density: float = EXPLORER_DENSITY,
    max_images: int = MAX_IMAGES,
    max_bytes: int = MAX_BYTES,
    title: str | None = None,
    alt: str | Callable[..., str] | None = None,
    tight: bool = True,
    **sliders,
) -> widgets.VBox:
    """Build a widget with sliders over pictures drawn in advance.

    Args:
        draw: a function called as ``draw(**{name: value, ...})`` once for every
            combination of slider values; it returns a matplotlib ``Figure``
            (which is saved to PNG and closed).
        dpi: displayed size: CSS pixels per inch of figure (72: a 5 x 3.5 in
            figure shows 360 x 252 px).
        density: pixels per displayed pixel (1.5: sharp on high-density
            screens; each picture is rendered at ``dpi * density`` and its
            ``<img>`` carries the displayed ``width``). Pictures are stored as
            256-colour PNGs (:data:`COLORS`).
        max_images: refuse grids with more pictures than this.
        max_bytes: refuse explorers whose PNGs add up to more than this.
        title: optional text shown above the sliders.
        alt: what the pictures show, for a reader who cannot see them (screen
            readers read it; the static book keeps it). Either one text for
            every picture, or a function called like ``draw`` (same keyword
            arguments) that returns the text for one picture. Each picture's
            alt text is this text followed by the slider values in brackets,
            e.g. "Attention weights of each head (heads: 4, layers: 2)".
        tight: crop each picture's margins (``False`` is faster, for figures
            made with ``layout="constrained"``).
        **sliders: one keyword per slider, in display order; its value is a list
            of numbers/strings, or a dict ``{label: value}`` to show a label and
            pass another value. 1, 2 or 3 sliders.

    Image count:
        The number of pictures drawn (and stored in the notebook) is the
        *product* of the slider lengths: sliders of 4 and 3 values make 12
        pictures; adding a third slider of 5 values makes 60. Keep grids small
        (two sliders of up to ~6 values each) and figures small.

    How it works:
        Slider 1 selects a child of an outer ``Stack``; each child is a
        ``Stack`` for slider 2, and so on; the innermost children hold the
        pictures (``<img>`` whose alt text is ``alt`` followed by the
        parameter values, e.g. "... (heads: 4, layers: 2)"; the values alone
        are also in its ``data-values`` and ``title`` attributes). Each slider's ``index`` is ``jslink``-ed to the
        ``selected_index`` of every stack at its level, so the browser switches
        pictures with no kernel.

    Returns:
        An ``ipywidgets.VBox`` (sliders on top, the picture below) with CSS
        class ``tl-explorer``.

    Raises:
        ValueError / TypeError: no slider or more than 3, a slider with no or
        repeated values, too many pictures, pictures too large in total, or
        ``draw`` not returning a figure.
    """
    if not callable(draw):
        raise TypeError(f"draw must be a function returning a matplotlib Figure, got {draw!r}")
    if not sliders:
        raise ValueError("explorer needs at least one slider, e.g. explorer(draw, heads=[1, 2, 4])")
    if len(sliders) > 3:
        raise ValueError(
            f"explorer supports 1 to 3 sliders, got {len(sliders)} ({', '.join(sliders)}); "
            "fix some parameters or make two explorers"
        )
    names = list(sliders)
    _check_accepts("draw", draw, names)
    if callable(alt):
        _check_accepts("alt", alt, names)
    options = [slider_options(name, sliders[name]) for name in names]
    n_images = 1
    for opts in options:
        n_images *= len(opts)
    if n_images > max_images:
        sizes = " x ".join(f"{len(o)} ({n})" for n, o in zip(names, options))
        raise ValueError(
            f"explorer would draw {n_images} pictures ({sizes}), more than max_images={max_images}; "
            "offer fewer values per slider"
        )

    # Draw every combination once: pictures[(i1, i2, ...)] = <img> html.
    pictures: dict[tuple[int, ...], str] = {}
    total = 0
    for index in itertools.product(*(range(len(o)) for o in options)):
        kwargs = {name: options[k][i][1] for k, (name, i) in enumerate(zip(names, index))}
        values = ", ".join(f"{name}: {options[k][i][0]}" for k, (name, i) in enumerate(zip(names, index)))
        fig = draw(**kwargs)
        if not hasattr(fig, "savefig"):
            raise TypeError(
                f"draw({values}) returned {type(fig).__name__}; it must return a matplotlib Figure"
            )
        text = _alt_text(alt, kwargs, values)
        png = figure_to_png(fig, dpi=dpi, tight=tight, density=density, colors=COLORS)
        width, _ = png_size(png)
        total += len(png)
        if total > max_bytes:
            raise ValueError(
                f"explorer pictures exceed max_bytes={max_bytes} after {len(pictures) + 1} of "
                f"{n_images}; use smaller figures or fewer slider values"
            )
        data = base64.b64encode(png).decode("ascii")
        pictures[index] = (
            f'<img src="data:image/png;base64,{data}" alt="{html.escape(text)}" '
            f'title="{html.escape(values)}" data-values="{html.escape(values)}" '
            f'width="{round(width / density)}" '
            f'class="tl-explorer-image" style="max-width:100%;height:auto">'
        )

    slider_widgets = []
    for name, opts in zip(names, options):
        slider = widgets.SelectionSlider(
            options=[(label, i) for i, (label, _) in enumerate(opts)],
            index=0,
            description=f"{name}:",
            continuous_update=True,
            readout=True,
            style={"description_width": "initial"},
            layout=widgets.Layout(width="420px"),
        )
        slider_widgets.append(slider)

    links = []

    def build(level: int, prefix: tuple[int, ...]):
        if level == len(options):
            return widgets.HTML(value=pictures[prefix])
        children = [build(level + 1, prefix + (i,)) for i in range(len(options[level]))]
        stack = widgets.Stack(children=children, selected_index=0)
        links.append(widgets.jslink((slider_widgets[level], "index"), (stack, "selected_index")))
        return stack

    view = build(0, ())
    parts = []
    if title:
        parts.append(widgets.HTML(value=f"<b>{html.escape(title)}</b>"))
    parts.extend(slider_widgets)
    parts.append(view)
    box = widgets.VBox(parts)
    box.add_class(EXPLORER_CLASS)
    # Keep the links alive as long as the widget (they are widgets themselves).
    box._explorer_links = links
    box.n_images = n_images
    return box
