"""Small Sphinx extension for the book's HTML pages.

Jupyter Book 1 always loads sphinx-thebe, even with ``launch_buttons.thebe: false``,
and its pages then declare ``const THEBE_JS_URL`` twice (a console error:
"Identifier 'THEBE_JS_URL' has already been declared") and name a thebe bundle on
a CDN. The book does not offer live code in the page (the sliders need no kernel),
so this extension removes the thebe scripts and stylesheet from every page.

The ipywidgets embed manager (served from ``_static/jupyter-widgets/``) loads its
icon fonts from ``@jupyter-widgets/html-manager/dist/`` *relative to the page*;
after the build, this extension copies those font files next to every folder of
pages, so that no request fails (and none goes to a CDN). The same manager calls
the MathJax 2 API to typeset widget labels; ``static/mathjax2-shim.js`` maps that
call onto MathJax 3. MathJax is loaded on every page, because maths in chapter
titles shows in the navigation sidebar of every page. Finally, the Chinese in the
page text gets its own web font, cut to the characters the book uses
(``cjk_font.py``, ``static/cjk-font.css``), the site gets its icon at the root
too, and dense PNGs on prose pages (``transformer_lib.plotting.save_figure``) show
at their 72-dpi size.
"""
from __future__ import annotations

import shutil
import struct
import sys
from pathlib import Path

from sphinx.util import logging

sys.path.insert(0, str(Path(__file__).parent))
import cjk_font
import edition

logger = logging.getLogger(__name__)

FONT_SUFFIXES = {".woff", ".woff2", ".ttf", ".eot", ".svg"}
WIDGET_FONT_DIR = Path("@jupyter-widgets") / "html-manager" / "dist"


def _is_thebe(asset) -> bool:
    name = str(getattr(asset, "filename", asset) or "")
    body = str(getattr(asset, "attributes", {}).get("body", ""))
    return "thebe" in name.lower() or "THEBE_JS_URL" in body


def remove_thebe(app, pagename, templatename, context, doctree):
    for key in ("script_files", "css_files"):
        assets = context.get(key)
        if assets:
            context[key] = [a for a in assets if not _is_thebe(a)]


def copy_widget_fonts(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    out = Path(app.outdir)
    fonts = [p for p in (out / "_static" / "jupyter-widgets").glob("*") if p.suffix in FONT_SUFFIXES]
    if not fonts:
        return
    page_dirs = {p.parent for p in out.rglob("*.html") if not p.relative_to(out).as_posix().startswith("_")}
    for folder in page_dirs:
        dest = folder / WIDGET_FONT_DIR
        dest.mkdir(parents=True, exist_ok=True)
        for font in fonts:
            shutil.copy2(font, dest / font.name)


def copy_favicon_to_root(app, exception):
    # Pages name their icon (html.favicon in _config.yml); a browser that asks the site
    # root for /favicon.ico anyway gets the same picture instead of a 404.
    if exception is not None or app.builder.format != "html" or not app.config.html_favicon:
        return
    icon = Path(app.srcdir) / app.config.html_favicon
    if icon.is_file() and icon.suffix == ".ico":
        shutil.copy2(icon, Path(app.outdir) / "favicon.ico")


def write_cjk_font(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    made = cjk_font.write_font(Path(app.srcdir), Path(app.outdir), logger)
    if made:
        logger.info("CJK web font: %d characters, %.0f kB", made[0], made[1] / 1e3)


#: PNG files saved at this many dpi or more (pHYs) are dense: shown at 72 px per inch.
DENSE_DPI = 72 * 1.35


def png_width_and_dpi(path: Path) -> tuple[int, float | None]:
    """Pixel width and horizontal dpi (pHYs, None when absent) of a PNG file."""
    head = path.read_bytes()[:4096]
    width = struct.unpack(">I", head[16:20])[0]
    at = head.find(b"pHYs")
    if at < 0 or head[at + 12] != 1:  # unit 1: pixels per metre
        return width, None
    return width, round(struct.unpack(">I", head[at + 4:at + 8])[0] * 0.0254, 1)


def size_dense_images(app, doctree):
    """Show dense PNGs of the prose pages (plotting.save_figure) at their 72-dpi size.

    A 2x PNG (pHYs 144 dpi) named in Markdown (``![alt](file.png)``) would otherwise
    show twice as large; notebook figures carry their width already.
    """
    from docutils import nodes

    for node in doctree.findall(nodes.image):
        uri = node.get("uri", "")
        if any(k in node for k in ("width", "height", "scale")) or not uri.lower().endswith(".png"):
            continue
        path = Path(app.srcdir) / uri
        if not path.is_file():
            continue
        width, dpi = png_width_and_dpi(path)
        if dpi and dpi >= DENSE_DPI:
            node["width"] = f"{round(width * 72 / dpi)}px"


def add_static(app):
    # This extension's own static files (the MathJax 2 -> 3 shim for the widget manager).
    app.config.html_static_path.append(str(Path(__file__).parent / "static"))


def setup(app):
    # Load MathJax on every page, not only on pages whose body has maths: chapter titles
    # in the navigation sidebar (e.g. "Why divide by $\sqrt{d_k}$") appear on every page.
    app.set_html_assets_policy("always")
    app.connect("builder-inited", add_static)
    # Before MathJax and the widget manager; a plain script that runs at once.
    app.add_js_file("mathjax2-shim.js", priority=200)
    app.connect("build-finished", copy_widget_fonts)
    app.add_css_file("cjk-font.css")
    app.connect("build-finished", write_cjk_font)
    app.connect("build-finished", copy_favicon_to_root)
    app.connect("doctree-read", size_dense_images, priority=900)
    # The two editions: translated numbered titles, the English / 中文 switch (edition.py).
    edition.setup(app)
    # Late priority: after sphinx-thebe and myst-nb have added their assets.
    app.connect("html-page-context", remove_thebe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
