#!/usr/bin/env python3
"""Execute chapter notebooks in place, keeping their outputs and widget state.

    python scripts/execute_notebooks.py                      # every notebooks/*.ipynb
    python scripts/execute_notebooks.py notebooks/01_big_picture.ipynb

Each notebook runs top to bottom in a fresh kernel (the Python running this
script), with its folder as working directory. The outputs are written back
into the file together with the state of every widget, so the explorers work
in the static book with no kernel. No timing metadata is stored, so executing
twice gives the same file when the notebook is deterministic.

Prints, per notebook, the wall time, the CPU time the kernel used (a steadier
number on a busy machine) and the file size. Exits non-zero when a cell raises;
a notebook over --max-seconds (default: the book's budget per chapter, benchmarks/targets.py) is
reported, and fails the run with --fail-over-budget.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))
from notebook_tools import (
    WIDGET_STATE,
    explorer_pictures,
    notebooks,
    png_width,
    static_figures,
)

from benchmarks.targets import CHAPTER_BUDGET_S

#: The book's limits (CONTRIBUTING.md, section 3; checked by tests/test_notebooks.py).
MAX_NOTEBOOK_MB = 4.0
MIN_DENSITY = 1.35


def figure_summary(path: Path) -> str:
    """One line: figures and explorer pictures, their lowest pixel density, missing alt text."""
    nb = nbformat.read(path, as_version=4)
    figures, pictures = static_figures(nb), explorer_pictures(nb)
    densities = [png_width(f["png"]) / f["width"] if f["width"] else 0.0 for f in figures + pictures]
    no_alt = sum(not (f["alt"] or "").strip() for f in figures)
    bare = sum(p["alt"] == p["values"] for p in pictures)
    text = f"  {len(figures)} figures, {len(pictures)} explorer pictures"
    if densities:
        low = min(densities)
        text += f", density >= {low:.2f}" + ("  <-- soft (under 1.35)" if low < MIN_DENSITY else "")
    if no_alt or bare:
        text += f"; without alt text: {no_alt} figures, {bare} explorer pictures"
    return text


def _kernel_cpu_seconds(client) -> float | None:
    try:
        import psutil

        pid = client.km.provisioner.pid
        t = psutil.Process(pid).cpu_times()
        return t.user + t.system + t.children_user + t.children_system
    except Exception:  # psutil missing, kernel gone, another provisioner
        return None


def stable_widget_ids(nb):
    """Rename the random widget model ids to ids numbered in creation order.

    The kernel names widgets with random UUIDs; renaming them (everywhere: the
    stored state, references between widgets, the outputs that display them) makes
    two executions of a deterministic notebook give byte-identical files, so
    re-running a chapter produces no spurious diff.
    """
    state = nb.metadata["widgets"][WIDGET_STATE]["state"]
    mapping = {old: f"{i + 1:032x}" for i, old in enumerate(state)}
    text = nbformat.writes(nb)
    pattern = re.compile("|".join(re.escape(old) for old in sorted(mapping, key=len, reverse=True)))
    text = pattern.sub(lambda m: mapping[m.group(0)], text)
    return nbformat.reads(text, as_version=4)


def execute(path: Path, timeout: int) -> tuple[float, float | None]:
    nb = nbformat.read(path, as_version=4)
    nb.metadata.pop("widgets", None)
    env_before = os.environ.get("PYTHONHASHSEED")
    os.environ["PYTHONHASHSEED"] = "0"
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        store_widget_state=True,
        record_timing=False,
    )
    cpu = [None]
    client.on_cell_complete = lambda **_: cpu.__setitem__(0, _kernel_cpu_seconds(client))
    start = time.perf_counter()
    try:
        client.execute()
    finally:
        if env_before is None:
            os.environ.pop("PYTHONHASHSEED", None)
        else:
            os.environ["PYTHONHASHSEED"] = env_before
    seconds = time.perf_counter() - start
    widgets = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {})
    if not widgets.get("state"):
        nb.metadata.pop("widgets", None)
    else:
        nb = stable_widget_ids(nb)
    nbformat.write(nb, path)
    return seconds, cpu[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="*", type=Path, help="notebooks (default: notebooks/*.ipynb)")
    parser.add_argument("--timeout", type=int, default=600, help="seconds allowed per cell")
    parser.add_argument("--max-seconds", type=float, default=CHAPTER_BUDGET_S,
                        help="time budget per notebook (default: %(default)s, benchmarks/targets.py)")
    parser.add_argument("--fail-over-budget", action="store_true", help="fail when a notebook exceeds --max-seconds")
    args = parser.parse_args()
    paths = args.paths or notebooks()
    failed = []
    for path in paths:
        print(f"executing {path} ...", flush=True)
        try:
            seconds, cpu = execute(path, args.timeout)
        except CellExecutionError as err:
            print(f"FAILED {path}:\n{err}", file=sys.stderr)
            failed.append(str(path))
            continue
        size = path.stat().st_size / 1e6
        note = ""
        if seconds > args.max_seconds:
            note = f"  <-- over the {args.max_seconds:.0f} s budget"
            if args.fail_over_budget:
                failed.append(f"{path} ({seconds:.1f} s)")
        if size >= MAX_NOTEBOOK_MB:
            note += f"  <-- over {MAX_NOTEBOOK_MB:.0f} MB"
        cpu_text = f"{cpu:6.1f} s" if cpu is not None else "     ? s"
        print(f"  wall {seconds:6.1f} s  kernel CPU {cpu_text}  {size:5.2f} MB  {path}{note}", flush=True)
        print(figure_summary(path), flush=True)
    if failed:
        sys.exit("failed: " + ", ".join(failed))


if __name__ == "__main__":
    main()
