"""The Chinese edition: extract the English messages, update the catalogues, build, check.

The Chinese edition (中文版) is the same book with its prose translated: the same
notebooks, the same executed outputs, figures and widget state. Sphinx's own
translation machinery does the work: every paragraph, heading, list item, table cell
and admonition of the prose pages (``book/*.md``) and of the notebooks' markdown cells
is a *message*; ``locales/zh_CN/LC_MESSAGES/<domain>.po`` holds its translation; a
build with ``language = "zh_CN"`` swaps each message for its translation. Code cells,
outputs, figures and widgets are not messages: both editions show the same ones.

    python scripts/i18n.py extract   # English messages -> _build/gettext/*.pot
    python scripts/i18n.py update    # extract, then merge into locales/zh_CN/LC_MESSAGES/*.po
    python scripts/i18n.py status    # per document: translated / untranslated / fuzzy / stale
    python scripts/i18n.py build     # the Chinese edition -> _build/html/zh/ (no execution)

``update`` works like ``msgmerge``: a message whose English is unchanged keeps its
translation; a message whose English changed keeps the old translation marked
``#, fuzzy`` (with the old English as ``#| msgid``) so that the translator sees what
changed; a new message is added untranslated; a message that no longer exists is
kept as obsolete (``#~``). Translate in the .po files (any text editor or Poedit),
remove the ``#, fuzzy`` flag once a translation matches its new English, then run
``tests/test_translations.py``. Domains (one .po per document) are
``book/<name>.po`` for a prose page and ``notebooks/<name>.po`` for a chapter.

Documents whose translation is not done yet are listed in ``locales/zh_CN/PENDING.txt``;
``tests/test_translations.py`` requires every other document to be completely
translated and current, and fails when a listed document is in fact complete (take it
off the list then).
"""
from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LANGUAGE = "zh_CN"
LOCALES = ROOT / "locales"
CATALOGUES = LOCALES / LANGUAGE / "LC_MESSAGES"
PENDING = LOCALES / LANGUAGE / "PENDING.txt"
POT_DIR = ROOT / "_build" / "gettext"
#: Where the Chinese edition goes, relative to the English site root.
ZH_SUBDIR = "zh"
HEADER_COMMENT = (
    "# Chinese translation of {domain} (Inside the Transformer).\n"
    "# Generated and updated by scripts/i18n.py; see CONTRIBUTING.md, \"Translations\".\n"
    "#")


def _sphinx_build(outdir: Path, doctreedir: Path, builder: str, overrides: dict,
                  warnings_are_errors: bool = False) -> int:
    """Build the book the way ``jupyter-book build .`` does, with config overrides."""
    from jupyter_book.sphinx import build_sphinx

    confoverrides = {"external_toc_path": "_toc.yml", "latex_individualpages": False}
    confoverrides.update(overrides)
    result = build_sphinx(
        str(ROOT), str(outdir), noconfig=True, path_config=str(ROOT / "_config.yml"),
        confoverrides=confoverrides, doctreedir=str(doctreedir), builder=builder,
        warningiserror=warnings_are_errors, keep_going=warnings_are_errors, quiet=True,
    )
    if isinstance(result, Exception):
        raise result
    return int(result or 0)


def extract(pot_dir: Path = POT_DIR) -> Path:
    """Write the English messages, one .pot per document, to ``pot_dir``."""
    doctrees = pot_dir.parent / ".doctrees-gettext"
    shutil.rmtree(doctrees, ignore_errors=True)  # stale doctrees give an incomplete extraction
    shutil.rmtree(pot_dir, ignore_errors=True)
    # no source locations: line numbers change with every edit above a message (noisy diffs)
    # gettext_compact False: one catalogue per document (book/preface.pot, notebooks/02_...pot)
    rc = _sphinx_build(pot_dir, doctrees, "gettext",
                       {"gettext_compact": False, "gettext_uuid": False,
                        "gettext_location": False, "gettext_last_translator": "",
                        "gettext_additional_targets": ["index"]})
    shutil.rmtree(doctrees, ignore_errors=True)
    if rc:
        raise SystemExit(f"gettext extraction failed (exit {rc})")
    return pot_dir


# --- catalogues -----------------------------------------------------------------------


def domains(pot_dir: Path = POT_DIR) -> list[str]:
    """Every document's domain ("book/preface", "notebooks/02_...") in the extraction."""
    return sorted(p.relative_to(pot_dir).with_suffix("").as_posix() for p in pot_dir.rglob("*.pot"))


def po_path(domain: str) -> Path:
    return CATALOGUES / f"{domain}.po"


def read_catalogue(path: Path):
    from babel.messages.pofile import read_po

    with path.open("rb") as f:
        return read_po(f, locale=LANGUAGE, domain=path.stem)


def write_catalogue(catalog, path: Path) -> None:
    from babel.messages.pofile import write_po

    path.parent.mkdir(parents=True, exist_ok=True)
    catalog.fuzzy = False  # the header is not a translation
    with path.open("wb") as f:
        # no line wrapping: one message, one line, so that a diff shows what changed
        write_po(f, catalog, width=0, include_previous=True, sort_output=False,
                 omit_header=False, ignore_obsolete=False)


def update(pot_dir: Path = POT_DIR, only: list[str] | None = None) -> list[str]:
    """Merge the extracted messages into the .po files (msgmerge); return the domains written."""
    from babel.messages.catalog import Catalog

    written = []
    for domain in domains(pot_dir):
        if only and domain not in only:
            continue
        template = read_catalogue(pot_dir / f"{domain}.pot")
        path = po_path(domain)
        if path.is_file():
            catalog = read_catalogue(path)
        else:
            catalog = Catalog(locale=LANGUAGE, domain=domain, project="Inside the Transformer",
                              language_team="Chinese (Simplified)", fuzzy=False,
                              header_comment=HEADER_COMMENT.format(domain=domain))
        # keeps translations of unchanged messages; a changed message keeps its old translation
        # as fuzzy (with the old English as #| msgid); a removed one becomes obsolete (#~)
        catalog.update(template, no_fuzzy_matching=False, update_header_comment=False)
        write_catalogue(catalog, path)
        written.append(domain)
    return written


def pending() -> list[str]:
    """Documents listed in PENDING.txt (not translated yet)."""
    if not PENDING.is_file():
        return []
    lines = (line.split("#", 1)[0].strip() for line in PENDING.read_text("utf-8").splitlines())
    return [line for line in lines if line]


def check(domain: str, pot_dir: Path = POT_DIR) -> dict[str, list[str]]:
    """Problems of one document's translation against the current English messages.

    ``missing``: English messages with no translation (or no .po at all); ``fuzzy``: translations
    marked fuzzy (their English changed); ``stale``: translated messages whose English is no longer
    in the document (translated from an older text); ``untranslated``: empty translations.
    """
    template = read_catalogue(pot_dir / f"{domain}.pot")
    english = [m.id for m in template if m.id]
    problems: dict[str, list[str]] = {"missing": [], "untranslated": [], "fuzzy": [], "stale": []}
    path = po_path(domain)
    if not path.is_file():
        problems["missing"] = english
        return problems
    catalog = read_catalogue(path)
    for msgid in english:
        message = catalog.get(msgid)
        if message is None:
            problems["missing"].append(msgid)
        elif message.fuzzy:
            problems["fuzzy"].append(msgid)
        elif not (message.string or "").strip():
            problems["untranslated"].append(msgid)
    current = set(english)
    for message in catalog:
        if message.id and message.id not in current and (message.string or "").strip():
            problems["stale"].append(message.id)
    return problems


def status(pot_dir: Path = POT_DIR) -> int:
    listed = set(pending())
    bad = 0
    for domain in domains(pot_dir):
        problems = check(domain, pot_dir)
        total = sum(1 for m in read_catalogue(pot_dir / f"{domain}.pot") if m.id)
        todo = sum(len(v) for k, v in problems.items() if k != "stale")
        state = "pending" if domain in listed else ("ok" if not any(problems.values()) else "FAIL")
        bad += state == "FAIL"
        detail = ", ".join(f"{len(v)} {k}" for k, v in problems.items() if v)
        print(f"{state:8s} {domain:45s} {total - todo:4d}/{total:<4d} {detail}")
    return bad


# --- the Chinese edition ----------------------------------------------------------------


def build_zh(html_root: Path = ROOT / "_build" / "html", warnings_are_errors: bool = True) -> int:
    """Build the Chinese edition into ``html_root/zh/`` from the committed notebook outputs."""
    outdir = html_root / ZH_SUBDIR
    overrides = {
        "language": LANGUAGE,
        "locale_dirs": [str(LOCALES.relative_to(ROOT)) + "/"],
        "gettext_compact": False,
        "html_title": "深入 Transformer",
        "html_search_language": "zh",
        "edition_other_root": "../",
        "edition_other_label": "English",
        "edition_other_lang": "en",
        # myst-nb's buttons of hidden cells ("Show code cell source" / "... content")
        "nb_code_prompt_show": "展开代码单元",
        "nb_code_prompt_hide": "收起代码单元",
    }
    return _sphinx_build(outdir, ROOT / "_build" / ".doctrees-zh", "html", overrides,
                         warnings_are_errors=warnings_are_errors)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["extract", "update", "status", "build"])
    parser.add_argument("domains", nargs="*", help="update: only these documents (e.g. book/preface)")
    args = parser.parse_args(argv)
    if args.command in ("extract", "update", "status"):
        extract()
    if args.command == "update":
        for domain in update(only=args.domains or None):
            print("updated", po_path(domain).relative_to(ROOT))
    if args.command in ("update", "status"):
        return 1 if status() else 0
    if args.command == "build":
        return build_zh()
    return 0


if __name__ == "__main__":
    sys.exit(main())
