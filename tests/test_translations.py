"""The Chinese edition stays in step with the English text.

The English messages are extracted afresh (scripts/i18n.py extract: Sphinx's gettext
builder on the whole book, about a minute) and compared with the catalogues in
``locales/zh_CN/LC_MESSAGES``. A translated document fails when any of its messages
is missing, empty, fuzzy, or translated from an English text that is no longer in the
document. Documents listed in ``locales/zh_CN/PENDING.txt`` are reported as skipped
("pending"), and the list only shrinks: a listed document that is in fact complete
fails until it is taken off the list. CONTRIBUTING.md ("Translations") says how to
update the catalogues.
"""
from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "book" / "_ext"))
import i18n  # noqa: E402


@pytest.fixture(scope="session")
def pot_dir(tmp_path_factory):
    return i18n.extract(tmp_path_factory.mktemp("gettext") / "gettext")


def _domains():
    # the documents of the book (from the table of contents), without building anything
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text("utf-8"))
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [c["file"] for c in part.get("chapters", [])]
    return files


DOMAINS = _domains()


def _summary(problems: dict[str, list[str]]) -> str:
    lines = []
    for kind, messages in problems.items():
        for msg in messages[:5]:
            lines.append(f"  {kind}: {msg[:100]!r}")
        if len(messages) > 5:
            lines.append(f"  ... {len(messages) - 5} more {kind}")
    return "\n".join(lines)


def test_pending_list_names_documents_of_the_book():
    unknown = set(i18n.pending()) - set(DOMAINS)
    assert not unknown, f"PENDING.txt lists documents the book does not have: {sorted(unknown)}"


def test_extraction_covers_every_document(pot_dir):
    assert set(i18n.domains(pot_dir)) == set(DOMAINS)


@pytest.mark.parametrize("domain", DOMAINS)
def test_document_translated(domain, pot_dir):
    problems = i18n.check(domain, pot_dir)
    done = not any(problems.values())
    if domain in i18n.pending():
        assert not done, (
            f"{domain} is completely translated: take it off locales/zh_CN/PENDING.txt")
        total = sum(1 for m in i18n.read_catalogue(pot_dir / f"{domain}.pot") if m.id)
        todo = len(problems["missing"]) + len(problems["untranslated"]) + len(problems["fuzzy"])
        pytest.skip(f"{domain}: pending translation, {total - todo}/{total} messages translated "
                    "(locales/zh_CN/PENDING.txt)")
    assert done, (
        f"the Chinese translation of {domain} is not in step with the English text "
        f"(run `python scripts/i18n.py update`, translate, see CONTRIBUTING.md):\n"
        + _summary(problems))


def test_no_catalogue_without_a_document():
    orphans = [p for p in i18n.CATALOGUES.rglob("*.po")
               if p.relative_to(i18n.CATALOGUES).with_suffix("").as_posix() not in DOMAINS]
    assert not orphans, f"catalogues of documents the book no longer has: {orphans}"


#: Parts of a message that a translation must keep exactly: code, maths, link targets, roles.
KEEP = [
    re.compile(r"``?[^`]+``?"),            # inline code
    re.compile(r"\$\$?[^$]+\$\$?"),        # inline maths
    re.compile(r"\]\(([^)\s]+)\)"),        # Markdown link targets
    re.compile(r"\{[a-z:]+\}`[^`]*`"),     # roles such as {doc}`...`
]


def _kept(text: str) -> Counter:
    return Counter(m.group(0) for pattern in KEEP for m in pattern.finditer(text))


def test_translations_keep_code_maths_and_links():
    wrong = []
    for path in sorted(i18n.CATALOGUES.rglob("*.po")):
        for message in i18n.read_catalogue(path):
            if not message.id or not message.string or message.fuzzy:
                continue
            if _kept(message.id) != _kept(message.string):
                missing = _kept(message.id) - _kept(message.string)
                extra = _kept(message.string) - _kept(message.id)
                wrong.append(f"{path.name}: {message.id[:60]!r}: lost {dict(missing)}, "
                             f"added {dict(extra)}")
    assert not wrong, "\n".join(wrong)


def test_numbered_titles_are_escaped_for_the_parser():
    import edition

    assert edition.escape_block_marker("2. 注意力") == "2\\. 注意力"
    assert edition.escape_block_marker("10) x") == "10\\) x"
    assert edition.escape_block_marker("- x") == "\\- x"
    assert edition.escape_block_marker("注意力 2. x") == "注意力 2. x"


def _stray_asterisks(text: str, markdown=None) -> int:
    """Asterisks that Markdown leaves as text (an emphasis that does not close)."""
    from markdown_it import MarkdownIt

    tokens = (markdown or MarkdownIt("commonmark")).parseInline(text)
    return sum(child.content.count("*") for token in tokens for child in token.children or []
               if child.type == "text")


def test_translations_keep_their_emphasis():
    """Bold and italics still parse in the translation.

    CommonMark closes ``**`` only when it is not preceded by punctuation and followed by a
    letter: ``**注意力（attention）**的`` stays literal asterisks in Chinese, where no
    space follows. Put the Chinese punctuation outside the markers, or rephrase.
    """
    from markdown_it import MarkdownIt

    markdown, wrong = MarkdownIt("commonmark"), []
    for path in sorted(i18n.CATALOGUES.rglob("*.po")):
        for message in i18n.read_catalogue(path):
            if message.id and message.string and not message.fuzzy:
                if _stray_asterisks(message.string, markdown) > _stray_asterisks(message.id, markdown):
                    wrong.append(f"{path.name}: {message.string[:80]!r}")
    assert not wrong, "emphasis left as literal asterisks:\n" + "\n".join(wrong)
