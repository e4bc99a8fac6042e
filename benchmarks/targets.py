"""Every target of the benchmarks and the book's time budgets, written once.

The figures (``benchmarks/figures.py``, ``benchmarks/notebooks.py``) judge their
measurements with :meth:`Target.judge`, the plots draw :attr:`Target.value` as a
dashed line, and ``scripts/execute_notebooks.py`` flags a chapter over
:data:`CHAPTER_BUDGET_S`. Change a number here and every place follows.

Ratios are candidate time / reference time (below 1: the candidate is faster).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Target", "TARGETS", "CHAPTER_BUDGET_S", "BOOK_BUDGET_S", "KV_CACHE_TARGET_TOKENS"]

#: Seconds one chapter notebook may take, executed top to bottom on a laptop CPU.
CHAPTER_BUDGET_S = 60.0
#: Seconds the whole book may take from scratch: every notebook plus an uncached build.
BOOK_BUDGET_S = 360.0


@dataclass(frozen=True)
class Target:
    """One target: ``measured <op> value`` (``op`` is "<=", ">=" or "about", i.e. within ``tolerance``)."""

    what: str
    op: str
    value: float
    unit: str = ""
    tolerance: float = 0.0

    @property
    def wanted(self) -> str:
        """The target as the tables print it, e.g. ``<= 1.1`` or ``>= 5x`` or ``about 2``."""
        return f"{self.op} {self.value:g}{self.unit}"

    @property
    def label(self) -> str:
        """The legend of the target's line in a plot."""
        return f"target {self.wanted}"

    def met(self, measured: float) -> bool:
        if math.isnan(measured):
            return False
        if self.op == "<=":
            return measured <= self.value
        if self.op == ">=":
            return measured >= self.value
        return abs(measured - self.value) <= self.tolerance

    def judge(self, measured: float, shown: str | None = None, applies: bool = True) -> dict:
        """The JSON row of a figure's ``targets`` list; ``applies=False`` records it without a verdict."""
        return {"what": self.what, "target": self.wanted, "measured": shown if shown is not None else f"{measured:.2f}",
                "met": self.met(measured) if applies else None}


TARGETS = {
    "mha_sdpa": Target("use_sdpa path / nn.MultiheadAttention (worst length)", "<=", 1.1),
    "mha_explicit": Target("explicit path / nn.MultiheadAttention (worst length)", "<=", 2.0),
    "scaling_slope": Target("log-log slope of the explicit path's time", "about", 2.0, tolerance=0.4),
    "kv_cache_speedup": Target("speed-up of the cache at 512 new tokens", ">=", 5.0, unit="x"),
    "gpt2_forward": Target("forward: faster tl path / transformers (worst length)", "<=", 1.0),
    "gpt2_generate": Target("cached generation: faster tl path / transformers (worst length)", "<=", 1.0),
    "smollm2_prefill": Target("SmolLM2 prefill: use_sdpa path / transformers", "<=", 1.0),
    "smollm2_generate": Target("SmolLM2 cached generation: use_sdpa path / transformers", "<=", 1.0),
    "minilm": Target("faster tl path / sentence-transformers", "<=", 1.1),
    "chapter_wall": Target("slowest chapter", "<=", CHAPTER_BUDGET_S, unit=" s"),
    "chapter_cpu": Target("slowest chapter, CPU seconds used by its kernel", "<=", CHAPTER_BUDGET_S, unit=" s"),
    "live_page": Target("live explorer: the page's own script and style before the click", "<=", 100,
                        unit=" kB"),
    "live_first": Target("live explorer: first result after the model is loaded", "<=", 3, unit=" s"),
    "live_redraw": Target("live explorer: keystroke to redrawn heatmap, 20 tokens", "<=", 200, unit=" ms"),
    "live_diff": Target("live explorer: largest weight difference from transformer_lib", "<=", 2e-3),
    "book": Target("whole book from scratch (every notebook + uncached build)", "<=", BOOK_BUDGET_S, unit=" s"),
}

#: The number of new tokens at which :data:`TARGETS` ["kv_cache_speedup"] applies.
KV_CACHE_TARGET_TOKENS = 512
