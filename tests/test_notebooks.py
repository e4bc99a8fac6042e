"""Conventions every chapter notebook follows (see CONTRIBUTING.md).

These tests read the committed .ipynb files only; they need no kernel and no
built book. (Executing the notebooks and comparing outputs is nbval's job, and
the built book is checked by browser_tests/.)
"""
import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from notebook_tools import (  # noqa: E402
    FIRST_CELL_TAGS,
    NAME_PATTERN,
    WIDGET_STATE,
    cell_source,
    explorer_pictures,
    first_cell_source,
    has_widget_output,
    notebooks,
    png_width,
    repository_url,
    static_figures,
    toc_files,
)

NOTEBOOKS = notebooks()
#: Largest notebook file (the built page is checked in browser_tests/): 4 MB per chapter.
MAX_BYTES = 4_000_000
#: Widest line in a code cell (wider lines are cut off in the web page).
MAX_LINE = 88
#: Fewest pixels per displayed pixel (figures are made at 2x, explorer pictures at 1.5x).
MIN_DENSITY = 1.35


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def ids(paths):
    return [p.name for p in paths]


def test_first_cell_template_comes_from_the_config():
    src = first_cell_source()
    assert src.startswith("# NBVAL_SKIP\n")
    assert "%pip install" in src and f'REPO = "{repository_url()}"' in src
    assert max(len(line) for line in src.splitlines()) <= MAX_LINE
    from IPython.core.inputtransformer2 import TransformerManager
    from IPython.utils.text import DollarFormatter

    compile(TransformerManager().transform_cell(src), "<first cell>", "exec")
    # IPython expands {REPO} in the %pip line to the repository's URL (as var_expand does).
    pip_line = next(line for line in src.splitlines() if "%pip" in line)
    expanded = DollarFormatter().vformat(pip_line, args=[], kwargs={"REPO": repository_url()})
    assert f"git+{repository_url()}.git@" in expanded


def test_toc_lists_existing_files_and_every_notebook():
    listed = toc_files()
    for entry in listed:
        assert (ROOT / f"{entry}.md").exists() or (ROOT / f"{entry}.ipynb").exists(), entry
    for path in NOTEBOOKS:
        assert f"notebooks/{path.stem}" in listed, f"{path.name} is not in _toc.yml"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
class TestChapterNotebook:
    def test_file_name(self, path):
        assert NAME_PATTERN.match(path.name), f"{path.name}: use notebooks/NN_short_name.ipynb"

    def test_size(self, path):
        assert path.stat().st_size < MAX_BYTES, (
            f"{path.name} is {path.stat().st_size / 1e6:.2f} MB, over {MAX_BYTES / 1e6:.0f} MB: "
            "fewer or smaller figures, fewer explorer pictures"
        )

    def test_code_lines_fit_the_page(self, path):
        wide = [
            f"cell {i}: {line[:60]}... ({len(line)} characters)"
            for i, cell in enumerate(load(path)["cells"])
            if cell["cell_type"] == "code"
            for line in cell_source(cell).splitlines()
            if len(line) > MAX_LINE
        ]
        assert not wide, f"{path.name}: code lines over {MAX_LINE} characters:\n" + "\n".join(wide)

    def test_no_placeholder_cells(self, path):
        found = [i for i, cell in enumerate(load(path)["cells"]) if "setup placeholder" in cell_source(cell).lower()]
        assert not found, f"{path.name}: placeholder cells {found}"

    def test_figures_are_dense(self, path):
        """Figures have about 2x (explorers 1.5x) pixels per displayed pixel."""
        nb = load(path)
        low = []
        for fig in static_figures(nb):
            shown = fig["width"]
            density = png_width(fig["png"]) / shown if shown else 0.0
            if density < MIN_DENSITY:
                low.append(f"figure in cell {fig['cell']}: {density:.2f}")
        for pic in explorer_pictures(nb):
            shown = pic["width"]
            density = png_width(pic["png"]) / shown if shown else 0.0
            if density < MIN_DENSITY:
                low.append(f"explorer picture {pic['values']!r}: {density:.2f}")
        assert not low, (
            f"{path.name}: pictures under {MIN_DENSITY} pixels per displayed pixel (import "
            "transformer_lib.plotting before the first figure and re-execute): " + "; ".join(low[:5])
        )

    def test_figures_have_alt_text(self, path):
        """Every figure says what it shows to a reader who cannot see it."""
        nb = load(path)
        missing = [f"cell {f['cell']}" for f in static_figures(nb) if not (f["alt"] or "").strip()]
        bare = sorted({p["cell"] for p in explorer_pictures(nb) if p["alt"] == p["values"]})
        assert not missing, (
            f"{path.name}: figures without alt text (cell metadata "
            f'"mystnb": {{"image": {{"alt": "..."}}}}): {missing}'
        )
        assert not bare, f"{path.name}: explorers without alt= (their pictures' alt text is only the slider values)"

    def test_first_cell(self, path):
        first = load(path)["cells"][0]
        assert first["cell_type"] == "code"
        assert cell_source(first) == first_cell_source(path.name), (
            f"{path.name}: first cell differs from the template; run scripts/stamp_first_cell.py {path}"
        )
        assert first["metadata"].get("tags") == FIRST_CELL_TAGS

    def test_title_and_python_kernel(self, path):
        nb = load(path)
        md = [c for c in nb["cells"] if c["cell_type"] == "markdown"]
        assert md and cell_source(md[0]).lstrip().startswith("# "), "the first text cell is the chapter title"
        assert nb["metadata"]["kernelspec"]["name"] == "python3"

    def test_executed_in_order_with_no_errors(self, path):
        counts = []
        for cell in load(path)["cells"]:
            if cell["cell_type"] != "code":
                continue
            assert cell["execution_count"] is not None, (
                f"{path.name}: a code cell was not executed; run scripts/execute_notebooks.py {path}"
            )
            counts.append(cell["execution_count"])
            for out in cell.get("outputs", []):
                assert out["output_type"] != "error", f"{path.name}: committed with an error output"
                if out["output_type"] == "stream" and out["name"] == "stderr":
                    text = "".join(out["text"])
                    assert "Warning" not in text and "warn" not in text, f"{path.name}: warning output: {text[:300]}"
        assert counts == list(range(1, len(counts) + 1)), f"{path.name}: cells not executed top to bottom once"

    def test_ignore_output_only_on_widget_cells(self, path):
        for cell in load(path)["cells"]:
            src = cell_source(cell)
            if cell["cell_type"] == "code" and src.lstrip().startswith("# NBVAL_IGNORE_OUTPUT"):
                assert has_widget_output(cell), (
                    f"{path.name}: NBVAL_IGNORE_OUTPUT on a cell without a widget:\n{src[:200]}"
                )
            if cell["cell_type"] == "code" and has_widget_output(cell):
                assert src.startswith("# NBVAL_IGNORE_OUTPUT"), (
                    f"{path.name}: a widget cell must start with # NBVAL_IGNORE_OUTPUT:\n{src[:200]}"
                )

    def test_widget_state_is_stored(self, path):
        nb = load(path)
        shown = [
            out["data"]["application/vnd.jupyter.widget-view+json"]["model_id"]
            for cell in nb["cells"]
            for out in cell.get("outputs", [])
            if "application/vnd.jupyter.widget-view+json" in out.get("data", {})
        ]
        if not shown:
            return
        state = nb["metadata"].get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
        missing = [m for m in shown if m not in state]
        assert not missing, f"{path.name}: widget state missing; execute with scripts/execute_notebooks.py"

    def test_no_machine_paths_in_outputs(self, path):
        text = path.read_text(encoding="utf-8")
        assert "site-packages" not in text, f"{path.name}: an output shows a local install path"
        assert not re.search(r"/(home|Users)/[A-Za-z]", text), f"{path.name}: an output shows a home folder"
