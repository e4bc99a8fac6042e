"""The built book in a real browser: pages, offline, sliders, maths.

Run after `jupyter-book build .` (README command 2 does both):

    pytest browser_tests/            # BOOK_HTML=_build/html, CHROMIUM=/usr/bin/chromium by default

The built HTML is served on 127.0.0.1 and opened in headless Chromium (driven by
Playwright from PyPI; the browser is Debian's ``chromium``). Every request that
does not go to the local server is blocked *and* recorded as a failure.
Everything is discovered from the build, so new chapters are checked with no
change here:

* the book has been built: with no build, the tests fail (they never skip);
* every page loads, and after its network has settled (and again after every
  slider was moved) there is no console error or warning, no failed request
  (HTTP 4xx/5xx seen by the browser *or* by the local server, e.g. the favicon
  the browser asks for by itself, or a load that failed) and no request that
  left localhost;
* every internal link and resource exists (checked on the files);
* every explorer (``.tl-explorer``, see transformer_lib/widgets.py) renders, and
  each of its sliders is moved to every value: after each move the visible
  picture changes and its alt text names the values the sliders show;
* on pages with maths, MathJax renders every formula;
* Chinese text (sidebar, prose, code, widget labels) is drawn with the book's web
  font (book/_ext/cjk_font.py), as Chromium reports through the DevTools protocol,
  not with whatever the machine happens to have.
"""
from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import threading
import time
import urllib.error
import urllib.request
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


#: Stands for "no page" when the book has not been built: every test then fails on it.
NO_BOOK = "<no built book>"
#: CJK characters (the same ranges as the book's web font, book/_ext/cjk_font.py).
CJK_JS_CLASS = (
    "[\\u2e80-\\u2fdf\\u3000-\\u303f\\u3040-\\u30ff\\u3100-\\u312f\\u3190-\\u33ff"
    "\\u3400-\\u4dbf\\u4e00-\\u9fff\\uf900-\\ufaff\\ufe30-\\ufe4f\\uff00-\\uffef]"
)
CJK_FONT_FAMILY = "Book CJK"
#: How Chromium names the web font's face (its source font's names) in what it reports.
CJK_FONT_NAMES = ("Noto Sans CJK SC", "NotoSansCJKsc", CJK_FONT_FAMILY)


def book_pages() -> list[str]:
    if not (BOOK / "index.html").exists():
        return []
    pages = []
    for path in sorted(BOOK.rglob("*.html")):
        rel = path.relative_to(BOOK).as_posix()
        # also zh/_static/... : the Chinese edition (scripts/i18n.py build) is a site in zh/
        if {"_static", "_sources", "_images"} & set(rel.split("/")[:-1]) or rel in SKIP_PAGES:
            continue
        if "http-equiv=\"Refresh\"" in path.read_text(encoding="utf-8", errors="replace")[:2000]:
            continue  # the root index.html is only a redirect
        pages.append(rel)
    return pages


PAGES = book_pages()


def require_book(page: str = "") -> None:
    """Fail (never skip) when there is no built book to test."""
    if not PAGES or page == NO_BOOK:
        pytest.fail(f"no built book at {BOOK}: run `jupyter-book build .` first (README command 2 does)")


def test_the_book_has_pages():
    require_book()
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


@pytest.mark.parametrize("page", PAGES or [NO_BOOK])
def test_internal_links_resolve(page):
    require_book(page)
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


#: A chapter's page: its HTML (with the explorers' pictures in the widget state) and the
#: images it shows. Shared assets (_static/: scripts, fonts, styles) are not counted.
MAX_PAGE_BYTES = 4_000_000


@pytest.mark.parametrize("page", PAGES or [NO_BOOK])
def test_page_size(page):
    require_book(page)
    path = BOOK / page
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    images = {
        (path.parent / unquote(urlparse(ref).path)).resolve()
        for ref in parser.refs
        if not urlparse(ref).scheme
        and "_static/" not in ref
        and ref.lower().endswith((".png", ".jpg", ".jpeg", ".svg", ".gif"))
    }
    size = path.stat().st_size + sum(p.stat().st_size for p in images if p.is_file())
    assert size < MAX_PAGE_BYTES, f"{page}: {size / 1e6:.2f} MB with its {len(images)} images"


# --- the browser ---------------------------------------------------------------------------


class Server:
    """The built book on 127.0.0.1; it records every answer it gives with status >= 400.

    The server's own record catches requests that the page's events do not show, such
    as the favicon that the browser asks the site for by itself.
    """

    def __init__(self):
        errors = self.errors = []

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_request(self, code="-", size="-"):
                code = getattr(code, "value", code)
                if isinstance(code, int) and code >= 400:
                    errors.append(f"{self.path} (HTTP {code}, seen by the server)")

            def log_message(self, *args):
                pass

        handler = functools.partial(Handler, directory=str(BOOK))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"

    def take_errors(self) -> list[str]:
        taken, self.errors[:] = list(self.errors), []
        return taken


@pytest.fixture(scope="session")
def server():
    require_book()
    srv = Server()
    yield srv
    srv.httpd.shutdown()


#: The running browser, shared by every test file that imports the fixture below
#: (Playwright's sync API allows one instance at a time; each importing file gets its own
#: fixture, and all but the first reuse the first one's browser).
_SHARED_BROWSER: list = []


@pytest.fixture(scope="session")
def browser():
    if _SHARED_BROWSER:
        yield _SHARED_BROWSER[0]
        return
    exe = chromium_path()
    if exe is None:
        pytest.fail("no chromium found: install Debian's chromium (apt-get install chromium) or set CHROMIUM")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, headless=True, args=CHROMIUM_FLAGS)
        _SHARED_BROWSER.append(b)
        yield b
        _SHARED_BROWSER.clear()
        b.close()


class PageVisit:
    """One page opened with every outside request blocked and every message recorded."""

    def __init__(self, browser, server: Server, page_path):
        self.server = server
        server.take_errors()  # what an earlier page left behind is not this page's
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.outside: list[str] = []
        self.console: list[str] = []
        self.failed: list[str] = []
        host = urlparse(server.url).netloc

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
        self.page.goto(urljoin(server.url, page_path), wait_until="load")
        self.settle()

    def settle(self) -> None:
        """Wait until the page's network is quiet (500 ms with no request) and its fonts are in."""
        self.page.wait_for_load_state("networkidle", timeout=30_000)
        self.page.evaluate("document.fonts.ready.then(() => true)")
        # The server may still be writing the last answer's log line.
        time.sleep(0.05)

    def problems(self) -> list[str]:
        self.failed += self.server.take_errors()
        out = []
        if self.outside:
            out.append(f"requests leaving localhost: {self.outside}")
        if self.failed:
            out.append(f"failed requests: {self.failed}")
        if self.console:
            out.append(f"console messages: {self.console}")
        return out

    def close(self):
        self.context.close()


def widget_state(page_path: str) -> dict:
    text = (BOOK / page_path).read_text(encoding="utf-8")
    m = re.search(rf'<script type="{re.escape(WIDGET_STATE)}">(.*?)</script>', text, re.DOTALL)
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


@pytest.mark.parametrize("page_path", PAGES or [NO_BOOK])
def test_page_in_browser(browser, server, page_path):
    require_book(page_path)
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
            rendered = page.locator("mjx-container").count()
            assert rendered >= n_math, f"{page_path}: {rendered} of {n_math} formulas rendered"
        check_cjk_font(visit, page_path)
        check_icons(visit, page_path)
        visit.settle()
        problems = visit.problems()
        assert not problems, f"{page_path}: " + "; ".join(problems)
    finally:
        visit.close()


def check_icons(visit: PageVisit, page_path: str) -> None:
    """The page's icon and the site's /favicon.ico exist (no 404 in a reader's console).

    A browser with a window asks for both by itself; headless Chromium does not, and
    Playwright does not let a page fetch them, so they are fetched here from the server.
    """
    icons = visit.page.evaluate("[...document.querySelectorAll('link[rel~=\"icon\"]')].map(l => l.href)")
    assert icons, f"{page_path}: the page names no icon (html.favicon in _config.yml)"
    for url in [*icons, urljoin(visit.server.url, "/favicon.ico")]:
        try:
            with urllib.request.urlopen(url, timeout=10) as answer:
                body = answer.read()
        except urllib.error.HTTPError as error:
            visit.failed.append(f"{url} (HTTP {error.code})")
            continue
        assert len(body) > 100, f"{page_path}: the icon {url} is empty"


# Marks up to one visible element per kind that holds CJK text in its own text nodes.
MARK_CJK_JS = """
(cls) => {
  const re = new RegExp(cls);
  const kinds = {nav: '.bd-sidebar-primary, nav', code: 'pre, code', widget: '.jupyter-widgets',
                 text: 'article, main'};
  const found = {};
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let node;
  while ((node = walker.nextNode())) {
    const el = node.parentElement;
    if (!el || !re.test(node.nodeValue) || el.closest('script, style, title, mjx-container')) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || getComputedStyle(el).visibility === 'hidden') continue;
    for (const [kind, sel] of Object.entries(kinds)) {
      if (!found[kind] && el.closest(sel)) {
        el.setAttribute('data-cjk-check', kind);
        found[kind] = [...node.nodeValue].filter(c => re.test(c)).join('');
        break;
      }
    }
  }
  return found;
}
"""


def check_cjk_font(visit: PageVisit, page_path: str) -> None:
    """Every kind of Chinese text on the page is drawn with the book's web font."""
    page = visit.page
    found = page.evaluate(MARK_CJK_JS, CJK_JS_CLASS)
    if not found:
        return
    assert page.evaluate(
        "([fam, text]) => document.fonts.check(`16px \"${fam}\"`, text) && "
        "[...document.fonts].some(f => f.family.replace(/\"/g, '') === fam && f.status === 'loaded')",
        [CJK_FONT_FAMILY, "".join(found.values())],
    ), f"{page_path}: the web font {CJK_FONT_FAMILY!r} did not load"
    cdp = visit.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
    for kind, chars in found.items():
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": f'[data-cjk-check="{kind}"]'})
        fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node["nodeId"]})["fonts"]
        web = [
            f for f in fonts
            if f.get("isCustomFont")
            and any(f.get(k, "").startswith(CJK_FONT_NAMES) for k in ("familyName", "postScriptName"))
        ]
        assert web, f"{page_path}: {kind} text {chars!r} is drawn with {fonts}, not the book's web font"
        other = [f for f in fonts if not f.get("isCustomFont")]
        assert sum(f["glyphCount"] for f in web) >= len(set(chars)) or not other, (
            f"{page_path}: part of the {kind} text {chars!r} is drawn with {fonts}"
        )
    cdp.detach()


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
    assert box.evaluate(
        "b => [...b.querySelectorAll('img.tl-explorer-image')].every(i => i.alt && i.alt.trim())"
    ), f"explorer {k}: a picture has no alt text"
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
