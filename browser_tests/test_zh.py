"""The Chinese edition (中文版, ``_build/html/zh/``) and the switch between the editions.

test_book.py finds its pages recursively, so every Chinese page is also checked there
exactly like an English one (loads offline, no console error, no failed request, no
request leaving localhost, every slider moved to every value, maths rendered, Chinese
drawn with the book's web font, internal links and resources exist). This module checks
what is particular to the two editions:

* every English page has its Chinese page, and the Chinese pages say ``lang="zh-CN"``;
* the switch (English -> 中文 and back) on every page points at the same page of the
  other edition, shows in the page header, and clicking it lands there in the browser;
* a translated chapter's own title is Chinese on its page, in ``<title>``, in the
  sidebar and in the previous/next links (Sphinx kept numbered titles English: see
  book/_ext/edition.py);
* Chinese search: the index is segmented into words (jieba) and a Chinese word finds
  chapter 2, in searchindex.js and on the search page.
"""
from __future__ import annotations

import json
import re
import sys
from html import unescape
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest
from test_book import BOOK, NO_BOOK, PAGES, PageVisit, browser, require_book, server  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import i18n  # noqa: E402

EN_PAGES = [p for p in PAGES if not p.startswith(f"{i18n.ZH_SUBDIR}/")]
ZH_PAGES = [p for p in PAGES if p.startswith(f"{i18n.ZH_SUBDIR}/")]
#: Documents whose translation is complete (tests/test_translations.py holds them to it).
TRANSLATED = [p for p in EN_PAGES if p.removesuffix(".html") not in i18n.pending()
              and i18n.po_path(p.removesuffix(".html")).is_file()]
CHAPTER_2 = "notebooks/02_attention_weighted_update.html"


def zh(page: str) -> str:
    return f"{i18n.ZH_SUBDIR}/{page}"


def html(page: str) -> str:
    return (BOOK / page).read_text(encoding="utf-8")


def switch_target(page: str) -> str | None:
    """The page the edition switch of ``page`` leads to, relative to the site root."""
    m = re.search(r'<meta name="edition-switch" content="([^"]+)"', html(page))
    if not m:
        return None
    return urlparse(urljoin(f"http://x/{page}", m.group(1))).path.lstrip("/")


def test_every_page_has_its_chinese_page():
    require_book()
    assert ZH_PAGES, f"no Chinese edition under {BOOK / i18n.ZH_SUBDIR}: run scripts/i18n.py build"
    missing = [p for p in EN_PAGES if zh(p) not in ZH_PAGES]
    assert not missing, f"English pages without a Chinese page: {missing}"


@pytest.mark.parametrize("page", EN_PAGES or [NO_BOOK])
def test_switch_points_at_the_same_page(page):
    require_book(page)
    assert switch_target(page) == zh(page), f"{page}: the switch leads to {switch_target(page)}"
    assert switch_target(zh(page)) == page, f"{zh(page)}: the switch leads to {switch_target(zh(page))}"
    assert re.search(r'<html[^>]*\blang="zh-CN"', html(zh(page))), f"{zh(page)}: not lang=zh-CN"
    assert re.search(r'<html[^>]*\blang="en"', html(page)), f"{page}: not lang=en"


def test_sidebar_captions_translated():
    """The parts of the book in the sidebar (_toc.yml captions) are translated."""
    require_book()
    catalogue = i18n.read_catalogue(i18n.po_path("book/intro"))
    page = html(zh("book/intro.html"))
    captions = re.findall(r'<p aria-level="2" class="caption"[^>]*>(.*?)</p>', page, re.DOTALL)
    captions = [re.sub(r"<[^>]+>", "", c).strip() for c in captions]
    assert captions, "no part captions in the sidebar"
    for english in re.findall(r"caption: (.+)", (ROOT / "_toc.yml").read_text("utf-8")):
        chinese = catalogue.get(english.strip()).string
        assert chinese in captions and english.strip() not in captions, captions


def _headings(page: str, levels: str = "1-4") -> list[str]:
    """The text of the page's own headings (those with a headerlink: the sidebar's site title has none)."""
    found = re.findall(rf"<h([{levels}])>(.*?)</h\1>", html(page), re.DOTALL)
    texts = [re.sub(r"<a class=\"headerlink\".*?</a>|<[^>]+>", "", h) for _, h in found if "headerlink" in h]
    return [re.sub(r"\s+", " ", t).strip() for t in texts]


def _first_heading(page: str) -> str:
    heads = _headings(page, "1")
    assert heads, f"{page}: no <h1>"
    return heads[0]


@pytest.mark.parametrize("page", TRANSLATED or [NO_BOOK])
def test_every_heading_translated(page):
    """No heading of a translated page is left in English: numbered ones, ones with code or maths."""
    require_book(page)
    english, chinese = _headings(page), _headings(zh(page))
    assert len(english) == len(chinese), f"{zh(page)}: {len(chinese)} headings, the English page has {len(english)}"
    catalogue = i18n.read_catalogue(i18n.po_path(page.removesuffix(".html")))
    kept = {m.id for m in catalogue if m.id and m.string == m.id}  # translated as themselves
    same = [e for e, c in zip(english, chinese) if e == c and e not in kept]
    assert not same, f"{zh(page)}: headings left in English: {same}"


@pytest.mark.parametrize("page", TRANSLATED or [NO_BOOK])
def test_translated_title_everywhere(page):
    """The page's own title: Chinese in <h1>, <title>, the sidebar and the prev/next links.

    A title with maths or code is compared on its words before the first formula.
    """
    require_book(page)
    heading = unescape(_first_heading(page))
    catalogue = i18n.read_catalogue(i18n.po_path(page.removesuffix(".html")))

    def words(text: str) -> str:  # the text before the first formula or code
        return re.split(r"[$`]", text)[0].strip()

    message = max((m for m in catalogue if m.id and words(m.id) and heading.startswith(words(m.id))),
                  key=lambda m: len(words(m.id)))
    english, chinese = words(message.id), words(message.string)
    assert unescape(_first_heading(zh(page))).startswith(chinese) and chinese != english
    title = unescape(re.search(r"<title>(.*?)</title>", html(zh(page)), re.DOTALL).group(1))
    assert title.startswith(chinese), f"{zh(page)}: <title>{title}</title>"
    # the sidebar of another page, and the previous/next links of the neighbours
    linked = [p for p in ZH_PAGES if p != zh(page)
              and re.search(rf'href="[^"]*{re.escape(Path(page).name)}"', html(p))]
    assert linked, f"no Chinese page links to {page}"
    for other in linked:
        texts = re.findall(
            rf'<a[^>]*href="[^"]*{re.escape(Path(page).name)}"[^>]*>(.*?)</a>', html(other), re.DOTALL)
        texts = [unescape(re.sub(r"<[^>]+>|\s+", " ", t).strip()) for t in texts]
        assert any(chinese in t for t in texts), f"{other}: links to {page} read {texts}"
        assert not any(english in t for t in texts), f"{other}: links to {page} read {texts}"
    pager = [p for p in linked if 'class="left-prev"' in html(p) or 'class="right-next"' in html(p)]
    assert pager, f"no previous/next link to {page}"


@pytest.mark.parametrize("page", ["book/intro.html", CHAPTER_2])
def test_switch_in_the_browser(browser, server, page):  # noqa: F811
    """The switch is visible in the header; clicking it lands on the same page, both ways."""
    require_book()
    for here, there, label in ((page, zh(page), "中文"), (zh(page), page, "English")):
        visit = PageVisit(browser, server, here)
        try:
            link = visit.page.locator("a.edition-switch")
            assert link.count() == 1, f"{here}: no edition switch"
            assert link.is_visible(), f"{here}: the edition switch is not visible"
            assert link.inner_text().strip() == label
            with visit.page.expect_navigation():
                link.click()
            visit.settle()
            assert urlparse(visit.page.url).path == "/" + there, visit.page.url
            want = "zh-CN" if there.startswith(f"{i18n.ZH_SUBDIR}/") else "en"
            assert visit.page.evaluate("document.documentElement.lang") == want
            problems = visit.problems()
            assert not problems, f"{here} -> {there}: " + "; ".join(problems)
        finally:
            visit.close()


def _search_index(root: Path) -> dict:
    text = (root / "searchindex.js").read_text(encoding="utf-8")
    return json.loads(text[text.index("(") + 1:text.rindex(")")])


#: Words of chapter 2's translation that a reader would search for.
QUERIES = ["注意力", "加权", "点积", "正交"]


def test_chinese_search_index():
    require_book()
    index = _search_index(BOOK / i18n.ZH_SUBDIR)
    chapter = index["docnames"].index(CHAPTER_2.removesuffix(".html"))
    for word in QUERIES:
        hits = set()
        for table in ("terms", "titleterms"):  # a word of a page's title is only in titleterms
            found = index[table].get(word)
            hits |= {found} if isinstance(found, int) else set(found or [])
        assert chapter in hits, f"the Chinese search index does not find {word!r} in chapter 2"
    # without a word segmenter (jieba), whole runs of Chinese text would be single "words"
    assert not any(len(t) > 12 and re.fullmatch(r"[\u4e00-\u9fff]+", t) for t in index["terms"])


def test_chinese_search_page(browser, server):  # noqa: F811
    require_book()
    # a word of chapter 2's prose, not of its title
    visit = PageVisit(browser, server, f"{i18n.ZH_SUBDIR}/search.html?q={QUERIES[-1]}")
    try:
        visit.page.wait_for_selector("#search-results ul.search li", timeout=30_000)
        links = visit.page.eval_on_selector_all(
            "#search-results ul.search li a", "as => as.map(a => a.getAttribute('href'))")
        assert any(CHAPTER_2 in (h or "") for h in links), links
        problems = visit.problems()
        assert not problems, "; ".join(problems)
    finally:
        visit.close()
