"""Turn results.json into the CSV, the PNG plots and the Markdown tables of the appendix.

    python -m benchmarks.report --out benchmarks/results    # redraw from a results.json

The Markdown snippets (``md/<figure>.md``) are included by ``book/performance.md``;
the book build only reads these files, it never runs a benchmark.
"""
from __future__ import annotations

import argparse
import csv
import json
import math
from pathlib import Path

from .targets import CHAPTER_BUDGET_S, KV_CACHE_TARGET_TOKENS, TARGETS

__all__ = ["write_all"]

PLOT_NAMES = {
    "mha": "fig1_mha.png",
    "scaling": "fig2_scaling.png",
    "kv_cache": "fig3_kv_cache.png",
    "gpt2_vs_hf": "fig4_gpt2_vs_hf.png",
    "minilm": "fig5_minilm.png",
    "heads": "fig6_heads.png",
    "notebooks": "fig7_notebooks.png",
    "smollm2": "fig8_smollm2.png",
}


def _key(fig_id: str, device: str) -> str:
    return fig_id if device == "cpu" else f"{fig_id}_{device}"


# --------------------------------------------------------------------------- CSV


def write_csv(results: dict, path: Path) -> None:
    fields = ["figure", "device", "case", "name", "median_s", "min_s", "iqr_s", "samples", "ratio",
              "ratio_iqr", "extra"]
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        for fig in results["figures"].values():
            for row in fig["rows"]:
                case = {k: v for k, v in row.items() if k in ("T", "new_tokens", "heads", "batch", "task", "notebook")}
                extra = {k: v for k, v in row.items() if k not in fields and k not in case}
                writer.writerow({
                    "figure": fig["id"], "device": fig.get("device", "cpu"),
                    "case": " ".join(f"{k}={v}" for k, v in case.items()),
                    "name": row.get("name", row.get("notebook", "")),
                    "median_s": row.get("median_s", row.get("seconds")),
                    "min_s": row.get("min_s"), "iqr_s": row.get("iqr_s"), "samples": row.get("samples"),
                    "ratio": row.get("ratio"), "ratio_iqr": row.get("ratio_iqr"),
                    "extra": json.dumps(extra, sort_keys=True) if extra else "",
                })


# --------------------------------------------------------------------------- plots


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from transformer_lib.plotting import use_book_style

    use_book_style()
    return plt


#: Figure sizes are multiplied by this: the book shows a plot at 72 px per inch of figure
#: (transformer_lib.plotting.save_figure: 2x pixels, shown at 1x), so 1.25x inches keep
#: the on-screen size the plots had when they were saved at 90 dpi.
SIZE_SCALE = 1.25


def _subplots(plt, width: float, height: float, *args, **kwargs):
    """``plt.subplots(*args)`` with the figure size (inches at 90 dpi) scaled by :data:`SIZE_SCALE`."""
    return plt.subplots(*args, figsize=(width * SIZE_SCALE, height * SIZE_SCALE), **kwargs)


def _save(fig, path: Path) -> None:
    """Write ``fig`` as the book writes every figure: ``transformer_lib.plotting.save_figure``."""
    from transformer_lib.plotting import save_figure

    fig.tight_layout()
    save_figure(fig, path)


def _log2_axis(ax, xs) -> None:
    """A base-2 log axis labelled with the measured values themselves."""
    ax.set_xscale("log", base=2)
    xs = sorted(set(xs))
    if xs:
        ax.set_xticks(xs, [str(x) for x in xs])
        ax.minorticks_off()


def _series(rows, x_key, name, y_key):
    pts = sorted((r[x_key], r[y_key]) for r in rows if r.get("name") == name and r.get(y_key) is not None)
    return [p[0] for p in pts], [p[1] for p in pts]


def _names(fig):
    seen = []
    for r in fig["rows"]:
        if r.get("name") not in seen:
            seen.append(r.get("name"))
    return seen


def _ratio_plot(plt, fig, x_key, xlabel, targets, path, title_extra=""):
    f, ax = _subplots(plt, 6.4, 3.8)
    for name in _names(fig):
        if name == fig["reference"]:
            continue
        xs, ys = _series(fig["rows"], x_key, name, "ratio")
        ax.plot(xs, ys, marker="o", label=f"{name} / {fig['reference']}")
    ax.axhline(1.0, color="0.5", lw=1, ls=":", label="same speed")
    for (value, label), color, style in zip(targets, ("tab:red", "tab:purple"), ("--", "-."), strict=False):
        ax.axhline(value, color=color, lw=1, ls=style, label=label)
    _log2_axis(ax, [r[x_key] for r in fig["rows"]])
    ax.set_xlabel(xlabel)
    ax.set_ylabel("time ratio (lower is faster)")
    ax.set_title(fig["title"] + title_extra, fontsize=10)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)  # below: no curve hidden
    _save(f, path)


def _plot_scaling(plt, fig, path):
    f, (a1, a2) = _subplots(plt, 9, 3.8, 1, 2)
    slopes = fig["checks"]["slopes"]
    for name in _names(fig):
        xs, ys = _series(fig["rows"], "T", name, "median_s")
        a1.plot(xs, [y * 1e3 for y in ys], marker="o", label=f"{name} (slope {slopes[name]['time_slope']:.2f})")
        xs, ys = _series(fig["rows"], "T", name, "peak_bytes")
        if xs:
            a2.plot(xs, [max(y, 1) / 2**20 for y in ys], marker="o",
                    label=f"{name} (slope {slopes[name]['memory_slope']:.2f})")
    for ax, ylabel, title in ((a1, "time per call (ms)", "Time"), (a2, "peak memory (MiB)", "Peak memory")):
        ax.set_yscale("log")
        _log2_axis(ax, [r["T"] for r in fig["rows"]])
        ax.set_xlabel("sequence length T")
        ax.set_ylabel(ylabel)
        ax.set_title(f"{title} vs length (log-log)", fontsize=10)
        ax.legend(fontsize=8)
    f.suptitle(fig["title"], fontsize=10)
    _save(f, path)


def _plot_kv(plt, fig, path):
    f, (a1, a2) = _subplots(plt, 9, 3.8, 1, 2)
    for name in _names(fig):
        xs, ys = _series(fig["rows"], "new_tokens", name, "tokens_per_s")
        a1.plot(xs, ys, marker="o", label=name)
    xs, ratios = _series(fig["rows"], "new_tokens", "with cache", "ratio")
    a2.plot(xs, [1 / r for r in ratios], marker="o", label="speed-up of the cache")
    speedup = TARGETS["kv_cache_speedup"]
    a2.axhline(speedup.value, color="tab:red", ls="--", lw=1, label=f"{speedup.label} (at {KV_CACHE_TARGET_TOKENS})")
    for ax in (a1, a2):
        _log2_axis(ax, [r["new_tokens"] for r in fig["rows"]])
        ax.set_xlabel("new tokens N")
        ax.legend(fontsize=8)
    a1.set_yscale("log")
    a1.set_ylabel("tokens per second")
    a1.set_title("Generation speed", fontsize=10)
    a2.set_ylabel("time without cache / time with cache")
    a2.set_title("Speed-up", fontsize=10)
    f.suptitle(fig["title"], fontsize=10)
    _save(f, path)


def _plot_bars(plt, fig, path, group_of, ylabel="time ratio (lower is faster)", target=None):
    groups = []
    for r in fig["rows"]:
        if group_of(r) not in groups:
            groups.append(group_of(r))
    names = [n for n in _names(fig) if n != fig["reference"]]
    width = 0.8 / max(len(names), 1)
    f, ax = _subplots(plt, 6.4, 3.8)
    for i, name in enumerate(names):
        ys = [next((r["ratio"] for r in fig["rows"] if group_of(r) == g and r["name"] == name), math.nan)
              for g in groups]
        ax.bar([j + i * width for j in range(len(groups))], ys, width, label=f"{name} / {fig['reference']}")
    ax.axhline(1.0, color="0.5", lw=1, ls=":", label="same speed")
    if target:
        ax.axhline(target[0], color="tab:red", lw=1, ls="--", label=target[1])
    ax.set_xticks([j + width * (len(names) - 1) / 2 for j in range(len(groups))], groups, fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_title(fig["title"], fontsize=10)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2)
    _save(f, path)


def _plot_heads(plt, fig, path):
    f, ax = _subplots(plt, 6.4, 3.8)
    for T in sorted({r.get("T", 0) for r in fig["rows"]}):
        xs, ys = _series([r for r in fig["rows"] if r.get("T", 0) == T], "heads", "loop over heads", "ratio")
        ax.plot(xs, ys, marker="o", label=f"T = {T}: loop over heads / one batched matmul")
    ax.axhline(1.0, color="0.5", lw=1, ls=":", label="same speed")
    _log2_axis(ax, [r["heads"] for r in fig["rows"]])
    ax.set_xlabel("number of heads H (d_model fixed, head width = d_model / H)")
    ax.set_ylabel("time ratio (above 1: the loop is slower)")
    ax.set_title(fig["title"], fontsize=10)
    ax.legend(fontsize=8)
    _save(f, path)


def _plot_notebooks(plt, fig, path):
    rows = fig["rows"]
    build = fig["checks"].get("book_build", {})
    labels = [r["notebook"].removesuffix(".ipynb") for r in rows]
    values = [r["seconds"] for r in rows]
    for label in ("uncached", "cached"):
        if isinstance(build.get(label), dict):
            labels.append(f"book build ({label})")
            values.append(build[label]["seconds"])
    f, ax = _subplots(plt, 6.4, 0.8 + 0.35 * max(len(labels), 1))
    ax.barh(range(len(labels)), values, color="tab:blue")
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.axvline(CHAPTER_BUDGET_S, color="tab:red", ls="--", lw=1, label=f"{CHAPTER_BUDGET_S:g} s per chapter")
    ax.set_xlabel("seconds")
    ax.set_title(fig["title"], fontsize=10)
    ax.legend(fontsize=8)
    _save(f, path)


def _plot_smollm2(plt, fig, path):
    rows = fig["rows"]
    f, (a1, a2) = _subplots(plt, 9, 3.8, 1, 2, gridspec_kw={"width_ratios": [3, 2]})
    tasks = [t for t in ("prefill", "generate (cached)") if any(r["task"] == t for r in rows)]
    labels = [f"prefill\nT={next(r['T'] for r in rows if r['task'] == t)}" if t == "prefill"
              else f"cached generation\nG={next(r['new_tokens'] for r in rows if r['task'] == t)}" for t in tasks]
    names = ["tl.GPT use_sdpa", "tl.GPT explicit"]
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        ys = [next(r["ratio"] for r in rows if r["task"] == t and r["name"] == name) for t in tasks]
        xs = [j + i * width for j in range(len(tasks))]
        bars = a1.bar(xs, ys, width, label=f"{name} / transformers")
        a1.bar_label(bars, [f"{y:.2f}" for y in ys], fontsize=8, padding=2)
    a1.axhline(1.0, color="0.5", lw=1, ls=":", label="same speed")
    target = TARGETS["smollm2_prefill"]
    a1.axhline(target.value, color="tab:red", lw=1, ls="--", label=f"{target.label} (use_sdpa)")
    a1.set_xticks([j + width * (len(names) - 1) / 2 for j in range(len(tasks))], labels, fontsize=8)
    a1.set_ylabel("time ratio (lower is faster)")
    a1.set_ylim(0, max(r.get("ratio", 0) for r in rows if r["task"] in tasks) * 1.25)
    a1.set_title("tl.GPT / transformers, same weights", fontsize=10)
    a1.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=2)
    kv = [r for r in rows if r["task"].startswith("kv cache")]
    if kv:
        order = ["without cache", "with cache"]
        secs = [next(r["median_s"] for r in kv if r["name"] == n) for n in order]
        bars = a2.bar(range(2), secs, 0.6, color=["tab:gray", "tab:green"])
        a2.bar_label(bars, [f"{s:.1f} s" for s in secs], fontsize=8, padding=2)
        a2.set_xticks(range(2), order, fontsize=8)
        a2.set_ylim(0, max(secs) * 1.2)
        a2.set_ylabel("seconds per generation")
        a2.set_title(f"KV cache, G={kv[0]['new_tokens']} after T={kv[0]['T']}: "
                     f"{fig['checks']['kv_cache_speedup']:.1f}x faster", fontsize=10)
    f.suptitle(fig["title"], fontsize=10)
    _save(f, path)


def write_plots(results: dict, out: Path) -> list[str]:
    plt = _plt()
    written = []
    for fig in results["figures"].values():
        if fig["id"] not in PLOT_NAMES:  # a table only (the live explorer)
            continue
        name = PLOT_NAMES[fig["id"]]
        if fig.get("device", "cpu") != "cpu":
            name = name.replace(".png", f"_{fig['device']}.png")
        path = out / name
        if fig["id"] == "mha":
            _ratio_plot(plt, fig, "T", "sequence length T",
                        [(TARGETS[k].value, f"{TARGETS[k].label} ({k.removeprefix('mha_')})")
                         for k in ("mha_sdpa", "mha_explicit")], path)
        elif fig["id"] == "scaling":
            _plot_scaling(plt, fig, path)
        elif fig["id"] == "kv_cache":
            _plot_kv(plt, fig, path)
        elif fig["id"] == "gpt2_vs_hf":
            _plot_bars(plt, fig, path,
                       lambda r: f"{r['task']}\n{'T' if 'T' in r else 'N'}={r.get('T', r.get('new_tokens'))}",
                       target=(TARGETS["gpt2_forward"].value, TARGETS["gpt2_forward"].label))
        elif fig["id"] == "minilm":
            _plot_bars(plt, fig, path, lambda r: f"batch of {r['batch']}",
                       target=(TARGETS["minilm"].value, TARGETS["minilm"].label))
        elif fig["id"] == "heads":
            _plot_heads(plt, fig, path)
        elif fig["id"] == "notebooks":
            _plot_notebooks(plt, fig, path)
        elif fig["id"] == "smollm2":
            _plot_smollm2(plt, fig, path)
        written.append(name)
    return written


# --------------------------------------------------------------------------- Markdown


def _fmt_s(s):
    if s is None:
        return ""
    return f"{s * 1e3:.2f} ms" if s < 1 else f"{s:.2f} s"


def _table(header, rows) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _targets_md(fig) -> str:
    if not fig.get("targets"):
        return ""
    met = {True: "yes", False: "**no**", None: "-"}
    return "\n\n" + _table(["target", "wanted", "measured", "met"],
                           [[t["what"], t["target"], t["measured"], met[t["met"]]] for t in fig["targets"]])


def figure_md(fig) -> str:
    rows = fig["rows"]
    fid = fig["id"]
    ref = fig.get("reference")
    if fid == "live_explorer":
        return live_explorer_md(fig)
    if fid == "notebooks":
        body = _table(["notebook", "seconds (wall)", "CPU seconds", "ran without error"],
                      [[r["notebook"], f"{r['seconds']:.1f}", f"{r.get('cpu_s', float('nan')):.1f}",
                        "yes" if r["ok"] else f"no ({r['error']})"] for r in rows])
        if not rows:
            body = "No chapter notebook existed when this was measured."
        build = fig["checks"].get("book_build", {})
        if "skipped" in build:
            body += f"\n\nBook build: not measured ({build['skipped']})."
        else:
            body += "\n\n" + _table(["book build", "seconds (wall)", "CPU seconds", "succeeded"],
                                    [[k, f"{v['seconds']:.1f}", f"{v.get('cpu_s', float('nan')):.1f}",
                                      "yes" if v["ok"] else "no"] for k, v in build.items()])
        when = (f" Measured {fig['measured']}, load average {fig.get('load_average_start')} at the start "
                f"and {fig.get('load_average_end')} at the end." if fig.get("measured") else "")
        return f"*{fig['setup']}.*{when}\n\n{body}{_targets_md(fig)}\n"
    case_cols = [c for c in ("task", "T", "new_tokens", "heads", "d_head", "batch") if any(c in r for r in rows)]
    header = case_cols + ["implementation", "median time", "rounds", "ratio to reference"]
    extra_cols = [c for c in ("tokens_per_s", "sentences_per_s", "peak_bytes", "identical_tokens")
                  if any(c in r for r in rows)]
    header += [{"tokens_per_s": "tokens/s", "sentences_per_s": "sentences/s", "peak_bytes": "peak memory",
                "identical_tokens": "same tokens"}[c] for c in extra_cols]
    body = []
    for r in rows:
        line = [r.get(c, "") for c in case_cols]
        name = r["name"] + (" (reference)" if r["name"] == ref else "")
        line += [name, _fmt_s(r["median_s"]), r.get("samples", ""), f"{r['ratio']:.2f}" if "ratio" in r else ""]
        for c in extra_cols:
            v = r.get(c)
            if c == "peak_bytes":
                line.append(f"{v / 2**20:.1f} MiB" if v is not None else "")
            elif c == "identical_tokens":
                line.append("" if v is None else ("yes" if v else "no"))
            else:
                line.append(f"{v:.1f}" if v is not None else "")
        body.append(line)
    text = f"*{fig['setup']}.*{_when_md(fig)}\n\n"
    if fid == "smollm2":
        text += _smollm2_summary(fig) + "\n\n"
    text += _table(header, body)
    checks = {k: v for k, v in fig.get("checks", {}).items() if k not in ("slopes", "generation_profile")}
    if fid == "scaling":
        s = fig["checks"]["slopes"]
        text += "\n\n" + _table(["implementation", "time slope", "memory slope", "fitted on T ="],
                                [[n, f"{v['time_slope']:.2f}", f"{v['memory_slope']:.2f}",
                                  ", ".join(map(str, v["fitted_lengths"]))] for n, v in s.items()])
    if checks:
        text += "\n\nChecks: " + "; ".join(f"{k.replace('_', ' ')} = {_fmt_check(v)}" for k, v in checks.items()) + "."
    return text + _targets_md(fig) + "\n"


def _range(values, fmt) -> str:
    low, high = min(values), max(values)
    return fmt(low) if fmt(low) == fmt(high) else f"{fmt(low)} to {fmt(high)}"


def live_explorer_md(fig) -> str:
    """Section 9's table: each measurement as its range over the runs, with its budget."""
    rows = fig["rows"]

    def over(key, fmt):
        return _range([r[key] for r in rows], fmt)

    parts = {k: _range([r["download_parts_MB"].get(name, 0.0) for r in rows], lambda v: f"{v:.1f} MB")
             for k, name in (("model", "minilm-fp16.onnx"), ("vocabulary", "vocab.txt"))}
    runtime = _range([r["download_parts_MB"].get(".wasm", 0.0) + r["download_parts_MB"].get("ort.wasm.min.js", 0.0)
                      for r in rows], lambda v: f"{v:.1f} MB")
    table = _table(["what", "measured", "budget"], [
        ["the page's own script and style, before the reader asks for the model",
         over("page_own_kB", lambda v: f"{v:.1f} kB"), TARGETS["live_page"].wanted],
        [f"download after the click (model {parts['model']}, runtime {runtime}, vocabulary {parts['vocabulary']})",
         f"{over('download_MB', lambda v: f'{v:.1f} MB')}, loaded and started in "
         f"{over('load_s', lambda v: f'{v:.1f} s')}", "none"],
        [f"first result after the model is loaded ({over('first_tokens', str)} tokens)",
         over("first_ms", lambda v: f"{v / 1e3:.2f} s"), TARGETS["live_first"].wanted],
        [f"keystroke to redrawn heatmap, {over('redraw_tokens', str)} tokens",
         f"{over('redraw_ms', lambda v: f'{v:.0f} ms')} (the model's run: "
         f"{over('redraw_model_ms', lambda v: f'{v:.0f} ms')})", TARGETS["live_redraw"].wanted],
        ["largest difference, the page's attention weights against `transformer_lib`",
         over("max_diff", lambda v: f"{v:.1e}"), TARGETS["live_diff"].wanted
         + " (asserted by the test)"],
    ])
    failed = len(fig.get("errors", []))
    note = f" {failed} run(s) failed and are not in the table." if failed else ""
    return f"*{fig['setup']}.*{_when_md(fig)}{note}\n\n{table}{_targets_md(fig)}\n"


def _when_md(fig) -> str:
    """When a figure was measured, with how many torch threads and at what load."""
    if not fig.get("measured"):
        return ""
    text = f" Measured {fig['measured']}"
    if fig.get("torch_threads"):
        text += f" with {fig['torch_threads']} torch thread{'s' if fig['torch_threads'] > 1 else ''}"
    loads = [f"{fig[k]} at the {k.rsplit('_', 1)[1]}" for k in ("load_average_start", "load_average_end")
             if fig.get(k) is not None]
    if loads:
        text += "; 1-minute load average " + " and ".join(loads)
    return text + "."


def _speed(ratio: float) -> str:
    """A ratio (candidate / reference time) in words."""
    shown = round(ratio, 2)  # the verdict agrees with the printed ratio (1.004 is "the same")
    verdict = "faster" if shown < 1 else "slower" if shown > 1 else "the same"
    return f"{ratio:.2f}x transformers' time ({verdict})"


def _smollm2_summary(fig) -> str:
    """The figure's findings in sentences, every number and ordering taken from the results."""
    row = {(r["task"], r["name"]): r for r in fig["rows"]}
    checks = fig["checks"]
    lines = []
    for task, what in (("prefill", "Prefill"), ("generate (cached)", "Cached generation")):
        sdpa, explicit = row[task, "tl.GPT use_sdpa"], row[task, "tl.GPT explicit"]
        order = "below" if sdpa["ratio"] < explicit["ratio"] else "not below"
        lines.append(f"- **{what}**: the `use_sdpa=True` path took {_speed(sdpa['ratio'])}, the explicit "
                     f"path {_speed(explicit['ratio'])}; the fused path's ratio was {order} the explicit "
                     f"one's (medians over {sdpa['samples']} interleaved rounds).")
    kv = [r for r in fig["rows"] if r["task"].startswith("kv cache")]
    if kv:
        same = "the same tokens (checked)" if checks.get("kv_cache_same_tokens") else "different tokens"
        lines.append(f"- **KV cache**: generating {kv[0]['new_tokens']} tokens after a prompt of {kv[0]['T']} "
                     f"tokens was {checks['kv_cache_speedup']:.1f}x as fast with the cache as without it, "
                     f"both runs writing {same}.")
    profile = checks.get("generation_profile")
    if profile:
        hf, ours = profile["transformers"], profile["tl use_sdpa"]
        lines.append(f"- **Where cached generation spends its time** (one run of each under cProfile): "
                     f"{hf['linear_s']:.2f} s (transformers) and {ours['linear_s']:.2f} s (`use_sdpa=True`) "
                     f"in the linear layers' weight products; {hf['other_s']:.2f} s and {ours['other_s']:.2f} s "
                     f"in everything else, with {hf['python_calls']:,} and {ours['python_calls']:,} Python "
                     f"function calls.")
    agree = checks.get("tokens_agreeing_with_transformers", {})
    n = next((r["new_tokens"] for r in fig["rows"] if r["task"] == "generate (cached)"), None)
    if agree and n:
        lines.append(f"- **Same model**: the largest logit difference from transformers on the prefill prompt "
                     f"was {checks['max_abs_logit_diff']:.1e}; of the {n} greedy tokens, the first "
                     + " and ".join(f"{v} ({k})" for k, v in agree.items()) + " agreed with transformers'.")
    return "\n".join(lines)


def _fmt_check(v):
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.2f}" if abs(v) >= 0.1 else f"{v:.1e}"
    if isinstance(v, dict):
        return ", ".join(f"{k} {_fmt_check(x)}" for k, x in v.items())
    return str(v)


def machine_md(results: dict) -> str:
    m = results["machine"]
    rows = [
        ["CPU", f"{m['cpu']} ({m['logical_cpus']} logical CPUs, torch uses {m['torch_threads']} threads)"],
        ["GPU", m.get("cuda") or "none (CUDA figures skipped)"],
        ["operating system", m["os"]],
        ["Python", m["python"]],
        ["torch", m["torch"]],
        ["transformers (figures 4 and 8 reference)", m.get("transformers") or "not installed"],
        ["sentence-transformers (figure 5 reference)", m.get("sentence_transformers") or "not installed"],
        ["1-minute load average at the start", m.get("load_average_1min")],
        ["1-minute load average at the end", results.get("load_average_end")],
        ["mode", f"{results['mode']} (repeats per measurement: {results['sizes']['repeats']})"],
        ["measured", results["started"]],
        ["duration of the run",
         f"{results['duration_s']:.0f} s wall, {results.get('cpu_time_s', 0):.0f} s of CPU time"],
    ]
    for again in results.get("remeasured", []):
        rows.append(["re-measured later", f"`{again['command']}` at {again['started']} (load average "
                     f"{again['load_average_start']} at the start, {again['load_average_end']} at the end)"])
    text = _table(["", ""], rows)
    if results.get("skipped"):
        skipped = (f"{s['figure']} on {s['device']} ({s['reason']})" for s in results["skipped"])
        text += "\n\nSkipped: " + "; ".join(skipped) + "."
    return text + "\n"


def write_markdown(results: dict, out: Path) -> list[str]:
    md = out / "md"
    md.mkdir(parents=True, exist_ok=True)
    written = []
    (md / "machine.md").write_text(machine_md(results), encoding="utf-8")
    written.append("md/machine.md")
    for key, fig in results["figures"].items():
        name = f"md/{key}.md"
        (out / name).write_text(figure_md(fig), encoding="utf-8")
        written.append(name)
    return written


def write_all(results: dict, out: Path) -> list[str]:
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    write_csv(results, out / "results.csv")
    return ["results.json", "results.csv", *write_plots(results, out), *write_markdown(results, out)]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="benchmarks/results", help="folder holding results.json")
    args = parser.parse_args(argv)
    out = Path(args.out)
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    for name in write_all(results, out):
        print(out / name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
