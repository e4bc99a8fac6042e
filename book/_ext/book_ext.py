"""Small Sphinx extension for the book's HTML pages.

Jupyter Book 1 always loads sphinx-thebe, even with ``launch_buttons.thebe: false``,
and its pages then declare ``const THEBE_JS_URL`` twice (a console error:
"Identifier 'THEBE_JS_URL' has already been declared") and name a thebe bundle on
a CDN. The book does not offer live code in the page (the sliders need no kernel),
so this extension removes the thebe scripts and stylesheet from every page.
"""
from __future__ import annotations


def _is_thebe(asset) -> bool:
    name = str(getattr(asset, "filename", asset) or "")
    body = str(getattr(asset, "attributes", {}).get("body", ""))
    return "thebe" in name.lower() or "THEBE_JS_URL" in body


def remove_thebe(app, pagename, templatename, context, doctree):
    for key in ("script_files", "css_files"):
        assets = context.get(key)
        if assets:
            context[key] = [a for a in assets if not _is_thebe(a)]


def setup(app):
    # Late priority: after sphinx-thebe and myst-nb have added their assets.
    app.connect("html-page-context", remove_thebe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
