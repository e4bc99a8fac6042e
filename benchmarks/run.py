"""Run the benchmark suite: every figure as a ratio against its reference, in one run.

    python -m benchmarks.run --quick                 # < 2 min: fewer sizes and repeats
    python -m benchmarks.run --full                  # the sizes of the appendix (see README)
    python -m benchmarks.run --notebooks             # figure 7: every chapter and the book build
    python -m benchmarks.run --browser               # section 9: the live explorer (built book)
    python -m benchmarks.run --quick --only mha,heads --out /some/folder

Writes into --out (default benchmarks/results): results.json, results.csv, one PNG
per figure and md/*.md tables (read by book/performance.md). A --notebooks run, a
--browser run and a benchmark run update their own part of an existing results.json.

Benchmarks are not tests: nothing here fails because something is slow. Figures
run on the CPU, and again on CUDA when a GPU is present (skipped otherwise).
"""
from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # figure 5 reads a model shipped in a package
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import argparse
import datetime
import json
import sys
import time
import traceback
import warnings
from pathlib import Path

import torch
from tqdm.auto import tqdm

from transformer_lib.timing import machine_info

from . import browser, figures, notebooks, report

SCHEMA = 1


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0).isoformat()


def _load_average():
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", dest="mode", action="store_const", const="quick",
                      help="fewer sizes and repeats, under 2 minutes (the default)")
    mode.add_argument("--full", dest="mode", action="store_const", const="full",
                      help="every size of the appendix (tens of minutes on 2 cores)")
    mode.add_argument("--tiny", dest="mode", action="store_const", const="tiny",
                      help="toy sizes, seconds: a smoke run of every code path (CI)")
    mode.add_argument("--notebooks", dest="mode", action="store_const", const="notebooks",
                      help="figure 7: time every chapter notebook and the book build")
    mode.add_argument("--browser", dest="mode", action="store_const", const="browser",
                      help="section 9: chapter 14's live explorer in headless Chromium (needs the built book)")
    parser.add_argument("--runs", type=int, default=3, help="with --browser: runs of the browser test")
    parser.add_argument("--out", default="benchmarks/results", help="output folder (default: %(default)s)")
    parser.add_argument("--only", default="", help=f"comma-separated figures, from: {','.join(figures.FIGURES)}")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto",
                        help="auto: the CPU, and CUDA too when available")
    parser.add_argument("--repeats", type=int, default=None, help="override the rounds per measurement")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads (default: torch's own choice); 1 is steadier on a busy machine")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="override one size of the mode, e.g. --set gen_new_tokens=32,64,128 "
                             "(fields: benchmarks/figures.py Sizes)")
    parser.add_argument("--no-book", action="store_true", help="with --notebooks: skip the book build")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    args.mode = args.mode or "quick"
    return args


def _existing(out: Path) -> dict | None:
    path = out / "results.json"
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if data.get("schema") == SCHEMA else None


def _override(sizes, item: str) -> None:
    field, _, value = item.partition("=")
    if not hasattr(sizes, field) or not value:
        raise SystemExit(f"--set {item!r}: expected FIELD=VALUE with FIELD one of {sorted(sizes.to_dict())}")
    current = getattr(sizes, field)
    if isinstance(current, list):
        setattr(sizes, field, [int(v) for v in value.split(",")])
    else:
        setattr(sizes, field, type(current)(value))


def run_benchmarks(args, out: Path) -> dict:
    sizes = figures.SIZES[args.mode]
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.repeats:
        sizes.repeats = args.repeats
    for item in args.set:
        _override(sizes, item)
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(figures.FIGURES)
    unknown = [n for n in names if n not in figures.FIGURES]
    if unknown:
        raise SystemExit(f"unknown figure(s) {unknown}; choose from {list(figures.FIGURES)}")
    devices, skipped = [], []
    if args.device in ("auto", "cpu"):
        devices.append("cpu")
    if args.device in ("auto", "cuda"):
        if torch.cuda.is_available():
            devices.append("cuda")
        else:
            skipped += [{"figure": n, "device": "cuda", "reason": "no CUDA device"} for n in names]
    results = {
        "schema": SCHEMA,
        "mode": args.mode,
        "started": _now(),
        "command": " ".join(["python -m benchmarks.run", f"--{args.mode}"]
                            + ([f"--only {args.only}"] if args.only else [])
                            + ([f"--threads {args.threads}"] if args.threads else [])
                            + ([f"--repeats {args.repeats}"] if args.repeats else [])
                            + [f"--set {item}" for item in args.set]),
        "sizes": sizes.to_dict(),
        "machine": machine_info(),
        "figures": {},
        "skipped": skipped,
        "errors": [],
    }
    total = sum(figures.n_steps(n, sizes) for n in names) * len(devices)
    start, cpu_start = time.perf_counter(), time.process_time()
    with tqdm(total=total, desc="benchmarks", unit="step", disable=args.no_progress, file=sys.stderr) as bar:
        def tick(label):
            bar.set_description(label)
            bar.update(1)

        for device in devices:
            for name in names:
                fig_start, fig_cpu = time.perf_counter(), time.process_time()
                load_start = _load_average()
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        fig = figures.FIGURES[name](sizes, device, tick)
                except figures.SkipFigure as exc:
                    results["skipped"].append({"figure": name, "device": device, "reason": str(exc)})
                    continue
                except ImportError as exc:
                    results["skipped"].append({"figure": name, "device": device, "reason": f"missing package: {exc}"})
                    continue
                except Exception as exc:  # record and go on: one broken figure must not lose the others
                    results["errors"].append({"figure": name, "device": device, "error": repr(exc),
                                              "traceback": traceback.format_exc(limit=5)})
                    print(f"figure {name} on {device} failed: {exc!r}", file=sys.stderr)
                    continue
                fig["device"] = device
                fig["measured"] = _now()
                fig["torch_threads"] = torch.get_num_threads()
                fig["load_average_start"] = load_start
                fig["load_average_end"] = _load_average()
                fig["elapsed_s"] = time.perf_counter() - fig_start
                fig["cpu_s"] = time.process_time() - fig_cpu
                results["figures"][report._key(name, device)] = fig
    results["duration_s"] = time.perf_counter() - start
    # CPU seconds this process used: close to the wall time the run would take alone on the machine
    results["cpu_time_s"] = time.process_time() - cpu_start
    results["load_average_end"] = _load_average()
    return results


def main(argv=None) -> int:
    args = parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    previous = _existing(out)
    if args.mode in ("notebooks", "browser"):
        if args.mode == "notebooks":
            steps, measure = notebooks.n_steps(args.no_book), (
                lambda tick: notebooks.notebooks_figure(tick, skip_book=args.no_book))
        else:
            steps, measure = args.runs, (
                lambda tick: browser.live_explorer_figure(tick, runs=args.runs))
        with tqdm(total=steps, desc=args.mode, unit="step", disable=args.no_progress, file=sys.stderr) as bar:
            def tick(label):
                bar.set_description(label)
                bar.update(1)

            start = time.perf_counter()
            load = _load_average()
            fig = measure(tick)
        fig.update(device="cpu", measured=_now(), elapsed_s=time.perf_counter() - start,
                   load_average_start=load, load_average_end=_load_average())
        if previous is None:
            previous = {"schema": SCHEMA, "mode": f"{args.mode} only", "started": _now(), "duration_s": 0.0,
                        "sizes": figures.Sizes().to_dict(), "machine": machine_info(), "figures": {},
                        "skipped": [], "errors": []}
        previous["figures"][fig["id"]] = fig
        results = previous
    else:
        results = run_benchmarks(args, out)
        if previous and args.only:
            # --only re-measures some figures: keep the others of the earlier run (each figure
            # records when it was measured), and note the re-measurement.
            merged = dict(previous["figures"])
            merged.update(results["figures"])
            previous["figures"] = merged
            previous.setdefault("remeasured", []).append(
                {"command": results["command"], "started": results["started"],
                 "duration_s": results["duration_s"], "load_average_start": results["machine"]["load_average_1min"],
                 "load_average_end": results["load_average_end"]})
            previous["errors"] = previous.get("errors", []) + results["errors"]
            previous["skipped"] = previous.get("skipped", []) + [
                s for s in results["skipped"] if s not in previous.get("skipped", [])]
            results = previous
        elif previous:  # keep what --notebooks and --browser measured (not figures of this run)
            results["figures"].update({k: fig for k, fig in previous.get("figures", {}).items()
                                       if fig["id"] not in figures.FIGURES})
    written = report.write_all(results, out)
    print(f"wrote {len(written)} files to {out}: " + ", ".join(written))
    for fig in results["figures"].values():
        for t in fig.get("targets", []):
            flag = {True: "met", False: "MISSED", None: "-"}[t["met"]]
            print(f"  [{flag:6}] {fig['id']:<11} {t['what']}: {t['measured']} (target {t['target']})")
    for e in results.get("errors", []):
        print(f"  [error ] {e['figure']} on {e['device']}: {e['error']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
