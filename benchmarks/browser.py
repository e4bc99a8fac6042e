"""Section 9: chapter 14's live explorer, measured in headless Chromium.

The browser test ``browser_tests/test_live_explorer.py`` drives the built book's
chapter 14 page: it asks for the model, types sentences, changes layer and head, and
compares what the page drew with ``transformer_lib``. With ``TL_LIVE_EXPLORER_RECORD``
set it appends its measurements to that file. Here it runs ``runs`` times, each in a
fresh pytest (a fresh browser, nothing cached), and the table gives the range over the
runs; each budget is judged on the worst run.

Needs the built book (README command 1) and Chromium (see README).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from .targets import TARGETS

ROOT = Path(__file__).resolve().parent.parent
TEST = "browser_tests/test_live_explorer.py::test_live_explorer"

__all__ = ["live_explorer_figure"]


def _one_run(record: Path) -> str | None:
    """Run the browser test once; None when it passed, else the end of its output."""
    env = {**os.environ, "TL_LIVE_EXPLORER_RECORD": str(record)}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", TEST],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    if proc.returncode == 0:
        return None
    return (proc.stdout + proc.stderr).strip()[-600:]


def live_explorer_figure(tick, runs: int = 3) -> dict:
    if not (ROOT / "_build" / "html" / "notebooks" / "14_pretrained.html").exists():
        raise SystemExit("build the book first (README command 1): the live explorer is measured "
                         "on _build/html/notebooks/14_pretrained.html")
    rows, errors = [], []
    with tempfile.TemporaryDirectory() as folder:
        record = Path(folder) / "live.jsonl"
        for i in range(runs):
            tick(f"9 live explorer, run {i + 1} of {runs}")
            error = _one_run(record)
            if error:
                errors.append(error)
        if record.exists():
            rows = [{"run": i + 1, **json.loads(line)}
                    for i, line in enumerate(record.read_text("utf-8").splitlines())]
    if not rows:
        raise RuntimeError("the live explorer test recorded nothing: " + " | ".join(errors))
    worst = {k: max(r[k] for r in rows) for k in ("page_own_kB", "first_ms", "redraw_ms", "max_diff")}
    targets = [
        TARGETS["live_page"].judge(worst["page_own_kB"], f"{worst['page_own_kB']:.1f} kB"),
        TARGETS["live_first"].judge(worst["first_ms"] / 1e3, f"{worst['first_ms'] / 1e3:.2f} s"),
        TARGETS["live_redraw"].judge(worst["redraw_ms"], f"{worst['redraw_ms']:.0f} ms"),
        TARGETS["live_diff"].judge(worst["max_diff"], f"{worst['max_diff']:.1e}"),
    ]
    return {
        "id": "live_explorer",
        "title": "Chapter 14's live explorer in the browser",
        "setup": (f"{len(rows)} runs of {TEST.split('::')[0]} in headless Chromium, each in a fresh "
                  "browser, the built book served from 127.0.0.1; onnxruntime-web on one thread"),
        "reference": None,
        "rows": rows,
        "checks": {},
        "errors": errors,  # the end of each failed run's output
        "targets": targets,
    }
