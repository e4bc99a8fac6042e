"""Chapter 14's live explorer in a real browser: MiniLM computed in the page.

Uses test_book.py's server (the built book on 127.0.0.1) and its page visit, which
blocks and records every request that leaves localhost, every failed request and
every console error or warning. The explorer (book/_ext/static/live-explorer.js)
shows what it drew on data attributes; this test types sentences into it and
compares the token ids with transformer_lib's tokenizer and the shown head's
weights with ``load_bert()``'s, to 2e-3 (the page's model has float16 weights).

The budgets of the issue are measured and printed (``pytest -s`` shows them), not
asserted: the model's download and start, the first result, a redraw after a
keystroke on a 20-token sentence, and the bytes the page loads before the reader
asks for the model. With ``TL_LIVE_EXPLORER_RECORD`` set to a file name, the test
also appends them to that file as one JSON line: ``python -m benchmarks.run
--browser`` runs it a few times that way and writes the performance appendix's table.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
import torch
from test_book import (  # browser and server: test_book.py's fixtures, one shared browser
    BOOK,
    PageVisit,
    browser,  # noqa: F401
    require_book,
    server,  # noqa: F401
)

PAGE = "notebooks/14_pretrained.html"
TOLERANCE = 2e-3
#: Sentences the book does not use anywhere.
SENTENCES = [
    "My neighbour's parrot repeats everything the television says.",
    "Sailors tied the boat to the pier before the storm arrived.",
    "Zebras don't sunbathe; they just stand around looking striped.",
    "The café's naïve owner served crème brûlée at 3:45 p.m.",
]
#: 20 tokens with [CLS] and [SEP], for the redraw budget.
TWENTY = "The small dog chased a red ball across the wet green garden until it got very tired today"
BIG_FILES = ("minilm-fp16.onnx", ".wasm", "ort.wasm.min.js", "vocab.txt")


@pytest.fixture(scope="module")
def minilm():
    from transformer_lib.pretrained.bert import load_bert

    return load_bert()


def python_head(minilm, text: str, layer: int, head: int):
    model, tokenizer = minilm
    ids = tokenizer.encode(text)
    with torch.no_grad():
        _, weights = model(torch.tensor([ids]), return_weights=True)
    return ids, weights[layer][0, head].numpy()


def shown(box) -> dict:
    d = box.evaluate("b => ({...b.dataset})")
    return {
        "state": d.get("state"), "text": d.get("text"),
        "ids": json.loads(d.get("tokenIds", "null") or "null"),
        "weights": json.loads(d.get("weights", "null") or "null"),
        "layer": int(d["layer"]) if "layer" in d else None,
        "head": int(d["head"]) if "head" in d else None,
        "ms": float(d["ms"]) if "ms" in d else None,
    }


def wait_for_text(page, box, text: str, state: str = "ready", timeout: int = 20_000) -> None:
    page.wait_for_function(
        "([b, t, s]) => b.dataset.text === t && b.dataset.state === s",
        arg=[box.element_handle(), text, state], timeout=timeout,
    )


def check_against_python(minilm, got: dict) -> float:
    ids, want = python_head(minilm, got["text"], got["layer"], got["head"])
    assert got["ids"] == ids, f"token ids differ for {got['text']!r}: page {got['ids']}, Python {ids}"
    matrix = torch.tensor(got["weights"])
    assert matrix.shape == want.shape
    diff = float((matrix - torch.from_numpy(want)).abs().max())
    assert diff < TOLERANCE, f"{got['text']!r} layer {got['layer']} head {got['head']}: off by {diff:.2e}"
    return diff


def record(measured: dict) -> None:
    """Append the measurements to the file named by TL_LIVE_EXPLORER_RECORD (if set)."""
    target = os.environ.get("TL_LIVE_EXPLORER_RECORD")
    if target:
        with Path(target).open("a", encoding="utf-8") as f:
            f.write(json.dumps(measured) + "\n")


def test_live_explorer(browser, server, minilm):  # noqa: F811
    require_book()
    if not (BOOK / PAGE).exists():
        pytest.fail(f"{PAGE} is not in the built book")
    visit = PageVisit(browser, server, PAGE)
    page = visit.page
    requests: list[tuple[str, int]] = []
    page.on("requestfinished", lambda r: requests.append((r.url, (r.sizes() or {}).get("responseBodySize", 0))))
    try:
        box = page.locator(".tl-live-explorer")
        assert box.count() == 1, "chapter 14 has one live explorer"
        assert box.get_attribute("data-state") == "idle"
        before = page.evaluate(
            "performance.getEntriesByType('resource').map(e => [e.name, e.encodedBodySize || e.transferSize])"
        )
        assert not [u for u, _ in before if u.endswith(BIG_FILES)], "the model was fetched before the click"
        own = sum(n for u, n in before if "live-explorer" in u)
        assert own > 0, "the page does not load live-explorer.js"

        box.scroll_into_view_if_needed()
        t0 = time.perf_counter()
        box.locator(".tl-live-button").click()
        page.wait_for_function("b => b.dataset.state === 'ready'", arg=box.element_handle(), timeout=180_000)
        load_s = time.perf_counter() - t0
        first = shown(box)
        diffs = [check_against_python(minilm, first)]

        for sentence in SENTENCES:
            box.locator(".tl-live-text").fill(sentence)
            wait_for_text(page, box, sentence)
            diffs.append(check_against_python(minilm, shown(box)))
        for layer, head in [(0, 0), (5, 11), (2, 7)]:
            box.locator(".tl-live-layer").select_option(str(layer))
            box.locator(".tl-live-head").select_option(str(head))
            got = shown(box)
            assert (got["layer"], got["head"]) == (layer, head)
            diffs.append(check_against_python(minilm, got))

        # typed key by key: the last keystroke's result is the one shown
        field = box.locator(".tl-live-text")
        field.fill("")
        wait_for_text(page, box, "", state="empty")
        assert "empty" in box.locator(".tl-live-message").inner_text()
        field.press_sequentially(TWENTY[:-1], delay=5)
        wait_for_text(page, box, TWENTY[:-1])
        t1 = time.perf_counter()
        field.press(TWENTY[-1])
        wait_for_text(page, box, TWENTY)
        redraw_ms = (time.perf_counter() - t1) * 1e3
        typed = shown(box)
        diffs.append(check_against_python(minilm, typed))

        long_text = "attention " * 80
        field.fill(long_text)
        wait_for_text(page, box, long_text, state="too-long")
        assert "Shorten" in box.locator(".tl-live-message").inner_text()
        assert box.locator(".tl-live-canvas").is_hidden()

        loaded = sum(n for _, n in requests)
        record({
            "page_own_kB": own / 1e3,
            "download_MB": loaded / 1e6,
            "download_parts_MB": {name: sum(n for u, n in requests if u.endswith(name)) / 1e6
                                  for name in BIG_FILES},
            "load_s": load_s,
            "first_ms": first["ms"], "first_tokens": len(first["ids"]),
            "redraw_ms": redraw_ms, "redraw_tokens": len(typed["ids"]), "redraw_model_ms": typed["ms"],
            "max_diff": max(diffs),
        })
        print(f"\nlive explorer: page's own script and style before the click {own / 1e3:.1f} kB; "
              f"model + runtime + vocabulary loaded and started in {load_s:.1f} s ({loaded / 1e6:.1f} MB); "
              f"first result {first['ms']:.0f} ms ({len(first['ids'])} tokens); keystroke to redraw "
              f"{redraw_ms:.0f} ms for {len(typed['ids'])} tokens (model {typed['ms']:.0f} ms); "
              f"largest difference from Python {max(diffs):.1e}")
        visit.settle()
        problems = visit.problems()
        assert not problems, "; ".join(problems)
    finally:
        visit.close()


def test_live_explorer_without_webassembly(browser, server):  # noqa: F811
    require_book()
    # the same visit as every page's, in a browser that has no WebAssembly
    original = browser.new_context

    def no_wasm_context(**kwargs):
        context = original(**kwargs)
        context.add_init_script("delete window.WebAssembly;")
        return context

    class NoWasmBrowser:
        def __getattr__(self, name):
            return no_wasm_context if name == "new_context" else getattr(browser, name)

    visit = PageVisit(NoWasmBrowser(), server, PAGE)
    try:
        box = visit.page.locator(".tl-live-explorer")
        box.locator(".tl-live-button").click()
        visit.page.wait_for_function("b => b.dataset.state === 'error'", arg=box.element_handle(), timeout=10_000)
        assert "WebAssembly" in box.locator(".tl-live-message").inner_text()
        visit.settle()
        problems = visit.problems()
        assert not problems, "; ".join(problems)
    finally:
        visit.close()
