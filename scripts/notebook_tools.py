"""Shared helpers for the book's notebooks: the standard first cell and the chapter list.

The repository URL lives in ONE place, `_config.yml` (repository.url); the first
cell of every notebook is derived from it by :func:`first_cell_source`.
Used by scripts/stamp_first_cell.py, scripts/execute_notebooks.py and tests/test_notebooks.py.
"""
from __future__ import annotations

import re
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


def first_cell_source() -> str:
    """The source of the standard first code cell of every chapter notebook."""
    url = repository_url()
    branch = repository_branch()
    return (
        "# NBVAL_SKIP\n"
        "# Set-up for Colab, Binder or a fresh Python: install the book's library if it is missing.\n"
        "# (After the README's set-up it is already installed and this cell does nothing.)\n"
        "import importlib.util\n"
        "\n"
        'if importlib.util.find_spec("transformer_lib") is None:\n'
        f'    %pip install --quiet "transformer_lib @ git+{url}.git@{branch}"'
    )


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
