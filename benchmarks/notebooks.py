"""Figure 7: how long each chapter notebook and the book build take.

* every ``notebooks/*.ipynb`` runs top to bottom in a fresh kernel (nbclient), in
  memory: the committed file is not rewritten;
* the book is built with ``jupyter-book build .`` into a temporary folder twice:
  once from nothing (uncached) and once more over the first build (cached: Sphinx
  re-reads only what changed). The book's configuration does not execute notebooks
  during the build (it reads the committed outputs), so "the whole book from
  scratch" is the sum of the notebook runs plus the uncached build.
"""
from __future__ import annotations

import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .targets import CHAPTER_BUDGET_S, TARGETS

ROOT = Path(__file__).resolve().parent.parent

__all__ = ["notebook_times", "book_build_times", "notebooks_figure"]


def _children_cpu_s() -> float:
    """CPU seconds used by finished child processes (the kernels, the build)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def notebook_times(paths, timeout: int, tick) -> list[dict]:
    import nbformat
    from nbclient import NotebookClient

    rows = []
    for path in paths:
        tick(f"7 {path.stem}")
        nb = nbformat.read(path, as_version=4)
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent)}})
        start, cpu = time.perf_counter(), _children_cpu_s()
        error = None
        try:
            client.execute()
        except Exception as exc:  # a failing chapter is recorded, not fatal
            error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1][:200] if str(exc).strip() else ''}"
        seconds = time.perf_counter() - start
        rows.append({"notebook": path.name, "seconds": seconds, "cpu_s": _children_cpu_s() - cpu,
                     "ok": error is None, "error": error,
                     "under_limit": seconds <= CHAPTER_BUDGET_S})
    return rows


def _jupyter_book() -> list[str] | None:
    exe = Path(sys.executable).with_name("jupyter-book")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("jupyter-book")
    return [found] if found else None


def book_build_times(tick) -> dict:
    cmd = _jupyter_book()
    if cmd is None:
        return {"skipped": "jupyter-book is not installed"}
    out = {}
    with tempfile.TemporaryDirectory() as folder:
        for label in ("uncached", "cached"):
            tick(f"7 book build ({label})")
            start, cpu = time.perf_counter(), _children_cpu_s()
            proc = subprocess.run([*cmd, "build", str(ROOT), "--path-output", folder],
                                  capture_output=True, text=True, cwd=ROOT)
            out[label] = {"seconds": time.perf_counter() - start, "cpu_s": _children_cpu_s() - cpu,
                          "ok": proc.returncode == 0,
                          "returncode": proc.returncode}
            if proc.returncode != 0:
                out[label]["error"] = (proc.stderr or proc.stdout).strip().splitlines()[-1:][0][:300] \
                    if (proc.stderr or proc.stdout).strip() else ""
    return out


def notebooks_figure(tick, timeout: int = 600, skip_book: bool = False) -> dict:
    paths = sorted((ROOT / "notebooks").glob("*.ipynb"))
    rows = notebook_times(paths, timeout, tick)
    build = {"skipped": "not asked (--no-book)"} if skip_book else book_build_times(tick)
    total_nb = sum(r["seconds"] for r in rows)
    slowest = max((r["seconds"] for r in rows), default=0.0)
    targets = [{**TARGETS["chapter_wall"].judge(slowest, f"{slowest:.1f} s", applies=bool(rows)),
                "met": all(r["under_limit"] and r["ok"] for r in rows) if rows else None}]
    if rows:
        slowest_cpu = max(r.get("cpu_s", 0.0) for r in rows)
        targets.append(TARGETS["chapter_cpu"].judge(slowest_cpu, f"{slowest_cpu:.1f} s"))
    if "uncached" in build and build["uncached"]["ok"]:
        whole = total_nb + build["uncached"]["seconds"]
        targets.append(TARGETS["book"].judge(whole, f"{whole:.0f} s"))
    return {
        "id": "notebooks",
        "title": "Chapter notebooks and the book build",
        "setup": (f"{len(rows)} notebooks in notebooks/, each in a fresh kernel (nbclient); "
                  "jupyter-book build into a temporary folder, from nothing and then again"),
        "reference": None,
        "rows": rows,
        "checks": {"book_build": build, "notebooks_total_s": total_nb, "n_notebooks": len(rows)},
        "targets": targets,
    }


def n_steps(skip_book: bool) -> int:
    return len(list((ROOT / "notebooks").glob("*.ipynb"))) + (0 if skip_book else 2)
