"""Sphinx side of the live attention explorer (chapter 14; static/live-explorer.js).

* At the start of every HTML build, the MiniLM model is exported to ONNX by
  scripts/export_onnx.py (reused while up to date; about half a minute otherwise)
  into ``_build/live-static/live-model/``, which the book serves at
  ``_static/live-model/``. The model is never committed.
* Only pages that hold a ``tl-live-explorer`` element get the script and its
  stylesheet (a few kB); the runtime and the model are fetched when the reader asks.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from sphinx.util import logging

logger = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent.parent.parent
MARKER = "tl-live-explorer"


def _export_script():
    spec = importlib.util.spec_from_file_location("export_onnx", ROOT / "scripts" / "export_onnx.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("export_onnx", module)
    spec.loader.exec_module(module)
    return module


def export_model(app):
    if app.builder.format != "html":
        return
    script = _export_script()
    path, made = script.ensure()
    logger.info("live explorer model: %s (%s)", path.name, "exported" if made else "up to date")
    app.config.html_static_path.append(str(script.DEST.parent))


def add_assets(app, pagename, templatename, context, doctree):
    if MARKER in (context.get("body") or ""):
        app.add_js_file("live-explorer.js")
        app.add_css_file("live-explorer.css")


def setup(app):
    app.connect("builder-inited", export_model)
    app.connect("html-page-context", add_assets)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
