"""A web font with exactly the Chinese characters the book uses.

A reader's machine may have no Chinese font: the page text "glossary English / 中文"
or a code cell's ``["今天", "晚上", "吃", "汉堡"]`` would then show empty boxes. The
figures are fine (matplotlib draws them with "Noto Sans CJK SC" from the ``mplfonts``
package); this module gives the *pages* the same font, cut down to the characters
the book uses (a few hundred glyphs, tens of kilobytes instead of 16 MB).

The characters are collected at every build from:

* the book's sources: ``_toc.yml``, ``_config.yml``, ``book/**/*.md``, every string
  of every ``notebooks/**/*.ipynb`` (markdown, code, outputs, widget labels);
* translations: ``locales/**/*.po`` (a translated edition is covered automatically);
* the book's own page scripts, ``book/_ext/static/*.js`` (the live explorer's words);
* the built HTML pages themselves (whatever else ends up in them).

The subset is written to ``_static/fonts/book-cjk.woff``; ``static/cjk-font.css``
declares it as the font family "Book CJK" restricted (``unicode-range``) to CJK
code points and puts it first in the page, heading, code and widget font lists,
so that Latin text keeps its usual font and only Chinese uses the web font. The
subset is regenerated only when the set of characters changes.
"""
from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

FONT_FILE = "NotoSansCJKsc-Regular.otf"  # shipped by the mplfonts package
OUTPUT = Path("_static") / "fonts" / "book-cjk.woff"
FAMILY = "Book CJK"

#: Code point ranges that count as CJK (must match unicode-range in static/cjk-font.css).
CJK_RANGES = [
    (0x2E80, 0x2FDF),  # radicals
    (0x3000, 0x303F),  # CJK symbols and punctuation (、。「」)
    (0x3040, 0x30FF),  # hiragana, katakana
    (0x3100, 0x312F),  # bopomofo
    (0x3190, 0x31FF),  # kanbun, bopomofo extended, strokes, katakana extension
    (0x3200, 0x33FF),  # enclosed CJK letters, compatibility
    (0x3400, 0x4DBF),  # extension A
    (0x4E00, 0x9FFF),  # unified ideographs
    (0xF900, 0xFAFF),  # compatibility ideographs
    (0xFE30, 0xFE4F),  # compatibility forms
    (0xFF00, 0xFFEF),  # half- and full-width forms (，：（）)
    (0x20000, 0x2FA1F),  # extensions B-F, compatibility supplement
]
_CJK_CLASS = "".join(f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in CJK_RANGES)
CJK_RE = re.compile(f"[{_CJK_CLASS}]")
_JSON_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def cjk_characters(text: str) -> set[str]:
    """The CJK characters in ``text`` (``\\uXXXX`` escapes, as in JSON, are read too)."""
    text = _JSON_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text) if "\\u" in text else text
    return set(CJK_RE.findall(text))


def _strings(obj):
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield k
            yield from _strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _strings(v)


def source_files(root: Path) -> list[Path]:
    """The files whose text can reach a page: book sources, notebooks, translations."""
    files = [root / "_toc.yml", root / "_config.yml"]
    files += sorted((root / "book").rglob("*.md"))
    files += sorted((root / "notebooks").rglob("*.ipynb"))
    files += sorted((root / "locales").rglob("*.po"))
    files += sorted((root / "book" / "_ext" / "static").glob("*.js"))  # words the scripts write
    return [f for f in files if f.is_file() and ".ipynb_checkpoints" not in f.parts]


def collect(root: Path, html_dir: Path | None = None) -> set[str]:
    """Every CJK character in the book's sources (and in the built pages, if given)."""
    chars: set[str] = set()
    for path in source_files(root):
        text = path.read_text(encoding="utf-8", errors="replace")
        if path.suffix == ".ipynb":
            try:
                text = "\n".join(_strings(json.loads(text)))
            except ValueError:
                pass
        chars |= cjk_characters(text)
    if html_dir is not None:
        for page in html_dir.rglob("*.html"):
            chars |= cjk_characters(page.read_text(encoding="utf-8", errors="replace"))
    return chars


def source_font() -> Path | None:
    """Noto Sans CJK SC from the mplfonts package (the font the figures use)."""
    spec = importlib.util.find_spec("mplfonts")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "fonts" / FONT_FILE
    return path if path.is_file() else None


def make_subset(chars: set[str], font_path: Path, out: Path) -> int:
    """Write a WOFF font holding only ``chars`` (deterministic bytes); return its size."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.flavor = "woff"
    options.layout_features = ["*"]  # keep vertical forms, punctuation width features
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.recalc_timestamp = False
    options.drop_tables += ["DSIG"]
    font = TTFont(font_path, recalcTimestamp=False, lazy=True)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(ord(c) for c in chars))
    subsetter.subset(font)
    out.parent.mkdir(parents=True, exist_ok=True)
    font.flavor = "woff"
    font.save(out, reorderTables=True)
    return out.stat().st_size


def write_font(root: Path, html_dir: Path, logger=None) -> tuple[int, int] | None:
    """Generate ``html_dir/_static/fonts/book-cjk.woff`` for the book; (characters, bytes)."""
    chars = collect(root, html_dir)
    out = html_dir / OUTPUT
    listing = out.with_suffix(".txt")
    text = "".join(sorted(chars))
    if not chars:
        return None
    if out.is_file() and listing.is_file() and listing.read_text(encoding="utf-8") == text:
        return len(chars), out.stat().st_size
    font = source_font()
    if font is None:
        if logger is not None:
            logger.warning(
                "the book uses %d Chinese characters but the mplfonts package (Noto Sans CJK SC) "
                "is missing: pages will show them only where the reader has a Chinese font",
                len(chars),
            )
        return None
    size = make_subset(chars, font, out)
    listing.write_text(text, encoding="utf-8")
    return len(chars), size
