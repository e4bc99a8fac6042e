"""Peak memory of one attention call on the CPU, measured in a fresh process.

    python -m benchmarks.memprobe --impl explicit --lengths 128,256,512 --heads 8 --d-head 64

PyTorch keeps no peak-memory statistic for the CPU, so this process measures its own
resident memory (Linux): it resets the kernel's high-water mark (/proc/self/clear_refs),
reads the resident size with the inputs allocated, runs the call, and reads the
high-water mark (VmHWM): the difference is the call's peak. Run with large
allocations served by mmap (MALLOC_MMAP_THRESHOLD_), so freed memory leaves the process
and the resident size follows what is alive. Prints one JSON list of {"T", "peak_bytes"}.
"""
from __future__ import annotations

import argparse
import json

import torch
import torch.nn.functional as F

import transformer_lib as tl


def _status_bytes(field: str) -> int:
    with open("/proc/self/status", encoding="utf-8") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024  # reported in kB
    raise RuntimeError(f"{field} not in /proc/self/status")


def _reset_high_water_mark() -> None:
    with open("/proc/self/clear_refs", "w", encoding="utf-8") as f:
        f.write("5")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--impl", choices=["explicit", "fused"], required=True)
    parser.add_argument("--lengths", required=True)
    parser.add_argument("--heads", type=int, default=8)
    parser.add_argument("--d-head", type=int, default=64)
    args = parser.parse_args(argv)
    fn = (lambda q, k, v: tl.scaled_dot_product_attention(q, k, v)) if args.impl == "explicit" \
        else (lambda q, k, v: F.scaled_dot_product_attention(q, k, v))
    rows = []
    with torch.inference_mode():
        warm = torch.randn(1, args.heads, 8, args.d_head)
        fn(warm, warm, warm)  # load kernels and thread pools before measuring
        for T in sorted(int(t) for t in args.lengths.split(",")):
            q, k, v = (torch.randn(1, args.heads, T, args.d_head) for _ in range(3))
            _reset_high_water_mark()
            before = _status_bytes("VmRSS")
            out = fn(q, k, v)
            peak = _status_bytes("VmHWM") - before
            del out
            rows.append({"T": T, "peak_bytes": max(peak, 0)})
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
