"""Timing helpers shared by the chapters and the benchmarks: one way to time code.

``median_time(fn)`` times one function (warm-up, then the median of repeats).
``compare(fns, reference)`` times several functions side by side and gives ratios.

Every comparison runs the candidate and the reference in the same process, in
alternating order, round after round:

    warm-up: every function runs ``warmup`` times (kernels chosen, memory touched)
    round r: every function runs once, the order rotated by r
    result:  median time per function, and the median of the per-round ratios
             candidate / reference (a ratio from one round compares two runs that
             saw the same machine load)

so that a burst of load from another process slows both sides of a ratio
instead of one.
"""
from __future__ import annotations

import math
import os
import platform
import statistics
import time
from collections.abc import Callable

import torch

__all__ = [
    "compare", "median_time", "peak_memory_bytes", "loglog_slope", "machine_info", "synchronize",
]


def synchronize(device: str) -> None:
    """Wait for queued GPU work (no-op on the CPU)."""
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _time_once(fn: Callable[[], object], number: int, device: str) -> float:
    synchronize(device)
    start = time.perf_counter()
    for _ in range(number):
        fn()
    synchronize(device)
    return (time.perf_counter() - start) / number


def median_time(
    fn: Callable[[], object], repeats: int = 7, warmup: int = 1, device: str = "cpu"
) -> float:
    """Median seconds per call of ``fn`` over ``repeats`` calls, after ``warmup`` untimed calls.

    The median (not the minimum or the mean) is what the book quotes: one burst of load
    from another program moves it little. To compare two functions, prefer ``compare``,
    which interleaves their calls so that both see the same load.
    """
    if not callable(fn):
        raise TypeError(f"fn must be a function with no arguments, got {type(fn).__name__} {fn!r}")
    if not isinstance(repeats, int) or isinstance(repeats, bool) or repeats < 1:
        raise ValueError(f"repeats must be an integer >= 1, got {repeats!r}")
    return compare({"fn": fn}, reference=None, repeats=repeats, warmup=warmup, device=device)["fn"]["median_s"]


def compare(
    fns: dict[str, Callable[[], object]],
    reference: str | None,
    repeats: int,
    warmup: int = 1,
    min_sample_s: float = 0.0,
    device: str = "cpu",
) -> dict[str, dict]:
    """Time every function of ``fns`` in interleaved rounds.

    Args:
        fns: name -> function with no arguments.
        reference: the name the ratios are taken against (None: no ratios).
        repeats: number of rounds (samples per function).
        warmup: untimed calls of each function first.
        min_sample_s: a sample repeats a fast function until it lasts this long
            (the time per call is the sample divided by the calls).
        device: "cpu" or "cuda" (GPU work is synchronised around each sample).

    Returns:
        name -> {"median_s", "min_s", "iqr_s", "samples", "number", and with a
        reference: "ratio" (median of per-round ratios), "ratio_iqr"}.
    """
    if not isinstance(fns, dict) or not fns or not all(callable(f) for f in fns.values()):
        raise TypeError(f"fns must be a non-empty dict of name -> function with no arguments, got {fns!r}")
    if reference is not None and reference not in fns:
        raise ValueError(f"reference={reference!r} is not one of the names in fns: {sorted(fns)}")
    if not isinstance(repeats, int) or isinstance(repeats, bool) or repeats < 1:
        raise ValueError(f"repeats must be an integer >= 1, got {repeats!r}")
    names = list(fns)
    number = {}
    for name in names:
        first = None
        for _ in range(max(warmup, 1)):
            first = _time_once(fns[name], 1, device)
        number[name] = max(1, math.ceil(min_sample_s / max(first, 1e-9))) if min_sample_s else 1
    samples: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeats):
        order = names[r % len(names):] + names[: r % len(names)]
        for name in order:
            samples[name].append(_time_once(fns[name], number[name], device))
    out = {}
    for name in names:
        s = sorted(samples[name])
        out[name] = {
            "median_s": statistics.median(s),
            "min_s": s[0],
            "iqr_s": _iqr(s),
            "samples": len(s),
            "number": number[name],
        }
        if reference is not None:
            ratios = [a / b for a, b in zip(samples[name], samples[reference])]
            out[name]["ratio"] = statistics.median(ratios)
            out[name]["ratio_iqr"] = _iqr(sorted(ratios))
    return out


def _iqr(sorted_values: list[float]) -> float:
    if len(sorted_values) < 4:
        return sorted_values[-1] - sorted_values[0]
    q = statistics.quantiles(sorted_values, n=4)
    return q[2] - q[0]


def peak_memory_bytes(fn: Callable[[], object], device: str = "cuda") -> int:
    """Peak bytes the CUDA allocator held while ``fn`` ran, above what it held before.

    (PyTorch has no such statistic for the CPU: see benchmarks/memprobe.py.)
    """
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    before = torch.cuda.memory_allocated()
    fn()
    torch.cuda.synchronize()
    return int(torch.cuda.max_memory_allocated() - before)


def loglog_slope(xs, ys) -> float:
    """Least-squares slope of log(y) against log(x): the exponent p of y ~ x^p."""
    lx = [math.log(x) for x in xs]
    ly = [math.log(y) for y in ys]
    mx, my = statistics.fmean(lx), statistics.fmean(ly)
    num = sum((a - mx) * (b - my) for a, b in zip(lx, ly))
    den = sum((a - mx) ** 2 for a in lx)
    return num / den if den else float("nan")


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(package: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def machine_info() -> dict:
    """What the numbers were measured on (no host names, no paths)."""
    info = {
        "cpu": _cpu_model(),
        "logical_cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
        "torch": torch.__version__,
        "transformers": _version("transformers"),
        "sentence_transformers": _version("sentence-transformers"),
        "transformer_lib": _version("transformer_lib"),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }
    try:
        info["load_average_1min"] = round(os.getloadavg()[0], 2)
    except OSError:
        info["load_average_1min"] = None
    return info
