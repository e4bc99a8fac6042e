#!/usr/bin/env python3
"""Copy the front-end assets from node_modules/ into book/_static_vendor/.

The book serves these files itself, so a built page loads nothing from a CDN:
require.js, the ipywidgets embed manager (with its icon fonts) and MathJax 3.
Run `npm ci` first (the README commands do both). The versions are pinned in
package.json / package-lock.json.

Sphinx copies book/_static_vendor/ into _build/html/_static/ (it is listed in
html_static_path in _config.yml), so the files end up at
_static/require.js, _static/jupyter-widgets/embed-amd.js, _static/mathjax/...
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE = ROOT / "node_modules"
DEST = ROOT / "book" / "_static_vendor"

MATHJAX_PARTS = [
    "tex-mml-chtml.js",  # the component Sphinx loads by default
    "core.js", "loader.js", "startup.js",
    "input", "output/chtml", "output/chtml.js", "a11y", "ui", "sre", "adaptors",
]


def copy(src: Path, dst: Path) -> None:
    if not src.exists():
        sys.exit(f"missing {src.relative_to(ROOT)}: run `npm ci` in the repository root first")
    dst.parent.mkdir(parents=True, exist_ok=True)
    if src.is_dir():
        shutil.copytree(src, dst, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.map"))
    else:
        shutil.copy2(src, dst)


def main() -> None:
    if DEST.exists():
        shutil.rmtree(DEST)
    copy(NODE / "requirejs" / "require.js", DEST / "require.js")
    dist = NODE / "@jupyter-widgets" / "html-manager" / "dist"
    copy(dist, DEST / "jupyter-widgets")
    for part in MATHJAX_PARTS:
        copy(NODE / "mathjax" / "es5" / part, DEST / "mathjax" / part)
    # Each licence next to the files it covers (book/notices.md; require.js carries its own header).
    copy(NODE / "mathjax" / "LICENSE", DEST / "mathjax" / "LICENSE")
    copy(NODE / "@jupyter-widgets" / "html-manager" / "LICENSE", DEST / "jupyter-widgets" / "LICENSE")
    n = sum(1 for p in DEST.rglob("*") if p.is_file())
    size = sum(p.stat().st_size for p in DEST.rglob("*") if p.is_file())
    print(f"copied {n} asset files ({size / 1e6:.1f} MB) into {DEST.relative_to(ROOT)}/")


if __name__ == "__main__":
    main()
