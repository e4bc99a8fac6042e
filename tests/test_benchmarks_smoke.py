"""Smoke run of the benchmark suite (issue 7): it runs and writes well-formed results.

Benchmarks are not tests: nothing here looks at a time or a ratio's value, only at
the files (``--tiny`` uses toy sizes so that this takes seconds, not minutes).
"""
import csv
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.figures import FIGURES

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def results_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--tiny", "--no-progress", "--threads", "1", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def test_results_json_is_well_formed(results_dir):
    results = json.loads((results_dir / "results.json").read_text(encoding="utf-8"))
    assert results["mode"] == "tiny" and results["errors"] == []
    assert {"cpu", "torch", "logical_cpus"} <= set(results["machine"])
    skipped = {s["figure"] for s in results["skipped"] if s["device"] == "cpu"}
    for name in FIGURES:
        if name in skipped:  # e.g. transformers not installed: recorded, not run
            continue
        fig = results["figures"][name]
        assert fig["rows"], name
        for row in fig["rows"]:
            assert row["median_s"] > 0 and math.isfinite(row["median_s"])
            assert row["ratio"] > 0 and math.isfinite(row["ratio"])
        assert any(r["name"] == fig["reference"] and r["ratio"] == 1.0 for r in fig["rows"])
        for target in fig["targets"]:
            assert {"what", "target", "measured", "met"} <= set(target)


def test_targets_are_the_ones_of_targets_py(results_dir):
    """Each target is written once (benchmarks/targets.py); the results quote it as it is there."""
    from benchmarks.targets import TARGETS

    wanted = {t.what: t.wanted for t in TARGETS.values()}
    quoted = [t for fig in json.loads((results_dir / "results.json").read_text(encoding="utf-8"))["figures"].values()
              for t in fig["targets"]]
    assert any(t["what"] in wanted for t in quoted)
    for t in quoted:
        if t["what"] in wanted:
            assert t["target"] == wanted[t["what"]], t


def test_outputs_that_match_their_references(results_dir):
    figs = json.loads((results_dir / "results.json").read_text(encoding="utf-8"))["figures"]
    assert figs["mha"]["checks"]["max_abs_diff_vs_reference"] < 1e-4
    assert figs["kv_cache"]["checks"]["identical_tokens"] is True
    assert figs["heads"]["checks"]["max_abs_diff"] < 1e-5
    if "gpt2_vs_hf" in figs:
        assert figs["gpt2_vs_hf"]["checks"]["max_abs_logit_diff"] < 1e-3
    if "minilm" in figs:
        assert figs["minilm"]["checks"]["max_abs_embedding_diff"] < 1e-4


def test_csv_plots_and_tables_are_written(results_dir):
    with open(results_dir / "results.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert rows and {"figure", "case", "name", "median_s", "ratio"} <= set(rows[0])
    results = json.loads((results_dir / "results.json").read_text(encoding="utf-8"))
    for key in results["figures"]:
        assert (results_dir / "md" / f"{key}.md").read_text(encoding="utf-8").count("|") > 4
    assert (results_dir / "md" / "machine.md").exists()
    pngs = sorted(results_dir.glob("fig*.png"))
    assert len(pngs) == len(results["figures"])
    for png in pngs:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_committed_results_are_well_formed():
    """The appendix reads benchmarks/results/: it must hold a complete run."""
    folder = ROOT / "benchmarks" / "results"
    if not (folder / "results.json").exists():
        pytest.skip("no committed results yet")
    results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    for key in results["figures"]:
        assert (folder / "md" / f"{key}.md").exists()
    for name in ("machine.md",):
        assert (folder / "md" / name).exists()


def test_committed_tables_are_generated_from_the_results():
    """The appendix's tables are report.py's rendering of results.json, never edited by hand."""
    from benchmarks import report

    folder = ROOT / "benchmarks" / "results"
    if not (folder / "results.json").exists():
        pytest.skip("no committed results yet")
    results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    assert (folder / "md" / "machine.md").read_text(encoding="utf-8") == report.machine_md(results)
    for key, fig in results["figures"].items():
        assert (folder / "md" / f"{key}.md").read_text(encoding="utf-8") == report.figure_md(fig), key
    live = results["figures"].get("live_explorer")
    if live:  # section 9: measured by `python -m benchmarks.run --browser` on the built book
        assert live["rows"] and all(t["met"] is not None for t in live["targets"])
