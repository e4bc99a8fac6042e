"""The built book in a real browser: pages, offline, sliders, maths.

Run after `jupyter-book build .` (README command 2 does both):

    pytest browser_tests/            # BOOK_HTML=_build/html, CHROMIUM=/usr/bin/chromium by default

The built HTML is served on 127.0.0.1 and opened in headless Chromium (driven by
Playwright from PyPI; the browser is Debian's ``chromium``). Every request that
does not go to the local server is blocked *and* recorded as a failure.
Everything is discovered from the build, so new chapters are checked with no
change here:

* every page loads with no console error or warning and no failed request;
* every internal link and resource exists (checked on the files);
* every explorer (``.tl-explorer``, see transformer_lib/widgets.py) renders, and
  each of its sliders is moved to every value: after each move the visible
  picture changes and its alt text names the values the sliders show;
* on pages with maths, MathJax renders every formula.
"""
from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

import pytest

ROOT = Path(__file__).resolve().parent.parent
BOOK = Path(os.environ.get("BOOK_HTML", ROOT / "_build" / "html")).resolve()
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
# Console messages that are not of note, each with the reason.
IGNORED_CONSOLE = [
    # @jupyter-widgets/html-manager 1.0.6 validates the embedded widget state with ajv in
    # strict mode; ajv warns that the state schema (shipped with the manager) uses a union
    # type. Nothing is wrong with the page or the state.
    re.compile(r"^warning: strict mode: use allowUnionTypes to allow union type keyword"),
]
# Sphinx pages that are generated, not written by the book's authors.
SKIP_PAGES: set[str] = set()


def chromium_path() -> str | None:
    return os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def book_pages() -> list[str]:
    if not (BOOK / "index.html").exists():
        return []
    pages = []
    for path in sorted(BOOK.rglob("*.html")):
        rel = path.relative_to(BOOK).as_posix()
        if rel.startswith(("_static/", "_sources/", "_images/")) or rel in SKIP_PAGES:
            continue
        if "http-equiv=\"Refresh\"" in path.read_text(encoding="utf-8", errors="replace")[:2000]:
            continue  # the root index.html is only a redirect
        pages.append(rel)
    return pages


PAGES = book_pages()
pytestmark = pytest.mark.skipif(not PAGES, reason=f"no built book at {BOOK}: run jupyter-book build . first")


def test_the_book_has_pages():
    assert "book/intro.html" in PAGES or "intro.html" in PAGES
    assert any(p.startswith("notebooks/") for p in PAGES), PAGES


# --- links and resources, checked on the files --------------------------------------------


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("href", "src"):
            if a.get(key) and not (tag == "a" and key == "src"):
                self.refs.append(a[key])
                if tag != "a" and a[key].startswith(("http:", "https:", "//")):
                    self.fetched_outside.append(f"<{tag} {key}={a[key]}>")

    fetched_outside: list[str]

    def reset(self):
        super().reset()
        self.fetched_outside = []


@pytest.mark.parametrize("page", PAGES)
def test_internal_links_resolve(page):
    parser = _Links()
    parser.feed((BOOK / page).read_text(encoding="utf-8"))
    broken = []
    for ref in parser.refs:
        url = urlparse(ref)
        if url.scheme or ref.startswith(("#", "//", "mailto:", "data:", "javascript:")):
            continue
        target = (BOOK / page).parent / unquote(url.path)
        if url.path and not target.resolve().exists():
            broken.append(ref)
    assert not broken, f"{page}: links to missing files: {broken}"
    assert not parser.fetched_outside, f"{page}: resources loaded from outside: {parser.fetched_outside}"


# --- the browser ---------------------------------------------------------------------------


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def server():
    handler = functools.partial(_QuietHandler, directory=str(BOOK))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


@pytest.fixture(scope="session")
def browser():
    exe = chromium_path()
    if exe is None:
        pytest.fail("no chromium found: install Debian's chromium (apt-get install chromium) or set CHROMIUM")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, headless=True, args=CHROMIUM_FLAGS)
        yield b
        b.close()


class PageVisit:
    """One page opened with every outside request blocked and every message recorded."""

    def __init__(self, browser, server, page_path):
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.outside: list[str] = []
        self.console: list[str] = []
        self.failed: list[str] = []
        host = urlparse(server).netloc

        def route(r):
            url = r.request.url
            if url.startswith(("data:", "blob:")) or urlparse(url).netloc == host:
                r.continue_()
            else:
                self.outside.append(url)
                r.abort()

        self.context.route("**/*", route)
        def on_console(m):
            text = f"{m.type}: {m.text}"
            if m.type in ("error", "warning") and not any(p.search(text) for p in IGNORED_CONSOLE):
                self.console.append(text)

        self.page.on("console", on_console)
        self.page.on("pageerror", lambda e: self.console.append(f"pageerror: {e}"))
        self.page.on(
            "requestfailed",
            lambda r: urlparse(r.url).netloc == host and self.failed.append(f"{r.url} ({r.failure})"),
        )
        self.page.on(
            "response",
            lambda r: r.status >= 400 and self.failed.append(f"{r.url} (HTTP {r.status})"),
        )
        self.page.goto(urljoin(server, page_path), wait_until="load")

    def close(self):
        self.context.close()


def widget_state(page_path: str) -> dict:
    text = (BOOK / page_path).read_text(encoding="utf-8")
    m = re.search(r'<script type="%s">(.*?)</script>' % re.escape(WIDGET_STATE), text, re.S)
    return json.loads(m.group(1))["state"] if m else {}


def expected_explorers(state: dict) -> list[dict]:
    """The explorers in the embedded widget state: their sliders' labels, in order."""
    found = []
    for model in state.values():
        s = model.get("state", {})
        if "tl-explorer" in s.get("_dom_classes", []):
            sliders = []
            for ref in s.get("children", []):
                child = state.get(ref.replace("IPY_MODEL_", ""), {})
                if child.get("model_name") == "SelectionSliderModel":
                    cs = child["state"]
                    sliders.append({"description": cs["description"], "labels": cs["_options_labels"]})
            found.append({"sliders": sliders})
    return found


def math_count(page_path: str) -> int:
    text = (BOOK / page_path).read_text(encoding="utf-8")
    return len(re.findall(r'class="math notranslate nohighlight"', text))


@pytest.mark.parametrize("page_path", PAGES)
def test_page_in_browser(browser, server, page_path):
    visit = PageVisit(browser, server, page_path)
    page = visit.page
    try:
        explorers = expected_explorers(widget_state(page_path))
        n_math = math_count(page_path)
        if explorers:
            page.wait_for_function(
                "n => document.querySelectorAll('.tl-explorer').length >= n", arg=len(explorers), timeout=30_000
            )
            for k, expected in enumerate(explorers):
                drive_explorer(page, k, expected)
        if n_math:
            page.wait_for_function(
                "n => document.querySelectorAll('mjx-container').length >= n", arg=n_math, timeout=30_000
            )
            assert page.locator("mjx-merror").count() == 0, f"{page_path}: MathJax reported an error"
        page.wait_for_timeout(300)  # let late console messages arrive
        assert not visit.outside, f"{page_path}: requests leaving localhost: {visit.outside}"
        assert not visit.failed, f"{page_path}: failed requests: {visit.failed}"
        assert not visit.console, f"{page_path}: console messages: {visit.console}"
    finally:
        visit.close()


VISIBLE_IMAGE_JS = """
(box) => {
  const imgs = [...box.querySelectorAll('img.tl-explorer-image')]
      .filter(i => i.offsetParent !== null && i.getBoundingClientRect().height > 0);
  return imgs.map(i => ({alt: i.alt, values: i.dataset.values || i.title, src: i.src.slice(-200), len: i.src.length,
                         loaded: i.complete && i.naturalWidth > 0}));
}
"""


def drive_explorer(page, k: int, expected: dict) -> None:
    box = page.locator(".tl-explorer").nth(k)
    box.scroll_into_view_if_needed()
    sliders = box.locator(".widget-slider")
    assert sliders.count() == len(expected["sliders"]), "explorer slider count differs from its state"

    def readouts() -> list[str]:
        return [sliders.nth(i).locator(".widget-readout").inner_text().strip() for i in range(sliders.count())]

    def visible() -> dict:
        imgs = box.evaluate(VISIBLE_IMAGE_JS)
        assert len(imgs) == 1, f"explorer {k}: expected exactly one visible picture, found {len(imgs)}"
        assert imgs[0]["loaded"], f"explorer {k}: the visible picture did not load"
        return imgs[0]

    def check_alt(img):
        wanted = ", ".join(
            f"{s['description'].rstrip(':')}: {value}" for s, value in zip(expected["sliders"], readouts())
        )
        assert img["values"] == wanted, f"explorer {k}: picture shows {img['values']!r}, sliders say {wanted!r}"
        assert img["alt"] == wanted or img["alt"].endswith(f"({wanted})"), (
            f"explorer {k}: alt text {img['alt']!r} does not end with the slider values {wanted!r}"
        )

    current = visible()
    check_alt(current)
    for i, spec in enumerate(expected["sliders"]):
        handle = sliders.nth(i).locator(".noUi-handle")
        handle.focus()
        handle.press("Home")
        page.wait_for_timeout(50)
        labels_seen = []
        for step in range(len(spec["labels"])):
            if step > 0:
                before = visible()
                handle.press("ArrowRight")
                page.wait_for_function(
                    "([box, old]) => { const i = [...box.querySelectorAll('img.tl-explorer-image')]"
                    ".find(x => x.offsetParent !== null); return i && (i.dataset.values || i.title) !== old; }",
                    arg=[box.element_handle(), before["values"]],
                    timeout=5_000,
                )
                after = visible()
                assert (after["src"], after["len"]) != (before["src"], before["len"]), (
                    f"explorer {k}, slider {spec['description']}: the picture did not change"
                )
            img = visible()
            check_alt(img)
            labels_seen.append(readouts()[i])
        assert labels_seen == spec["labels"], (
            f"explorer {k}: slider {spec['description']} showed {labels_seen}, expected {spec['labels']}"
        )
