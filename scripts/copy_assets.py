#!/usr/bin/env python3
"""Copy the front-end assets from node_modules/ into book/_static_vendor/.

The book serves these files itself, so a built page loads nothing from a CDN:
require.js, the ipywidgets embed manager (with its icon fonts), MathJax 3 and
onnxruntime-web (the live explorer's runtime).
Run `npm ci` first (the README commands do both). The versions are pinned in
package.json / package-lock.json.

Sphinx copies book/_static_vendor/ into _build/html/_static/ (it is listed in
html_static_path in _config.yml), so the files end up at
_static/require.js, _static/jupyter-widgets/embed-amd.js, _static/mathjax/...
"""
from __future__ import annotations

import json
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

#: onnxruntime-web's wasm-only build: the script, the module it imports and its wasm.
ORT_FILES = ["ort.wasm.min.js", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm"]

ORT_LICENSE = """onnxruntime-web {version}: MIT License

Copyright (c) Microsoft Corporation

Permission is hereby granted, free of charge, to any person obtaining a copy of this software
and associated documentation files (the "Software"), to deal in the Software without
restriction, including without limitation the rights to use, copy, modify, merge, publish,
distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom the
Software is furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or
substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING
BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM,
DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
"""


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
    # onnxruntime-web's wasm-only build for the live explorer of chapter 14 (fetched only
    # when a reader asks; book/_ext/static/live-explorer.js).
    ort = NODE / "onnxruntime-web"
    for name in ORT_FILES:
        copy(ort / "dist" / name, DEST / "onnxruntime-web" / name)
    # The npm package ships no LICENSE file; its package.json names MIT (book/notices.md).
    version = json.loads((ort / "package.json").read_text(encoding="utf-8"))["version"]
    (DEST / "onnxruntime-web" / "LICENSE").write_text(ORT_LICENSE.format(version=version), encoding="utf-8")
    # Each licence next to the files it covers (book/notices.md; require.js carries its own header).
    copy(NODE / "mathjax" / "LICENSE", DEST / "mathjax" / "LICENSE")
    copy(NODE / "@jupyter-widgets" / "html-manager" / "LICENSE", DEST / "jupyter-widgets" / "LICENSE")
    n = sum(1 for p in DEST.rglob("*") if p.is_file())
    size = sum(p.stat().st_size for p in DEST.rglob("*") if p.is_file())
    print(f"copied {n} asset files ({size / 1e6:.1f} MB) into {DEST.relative_to(ROOT)}/")


if __name__ == "__main__":
    main()
