"""The book's Sphinx extension helpers (book/_ext): the CJK web font and the logo."""
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "book" / "_ext"))
import cjk_font  # noqa: E402
import logo  # noqa: E402


def test_cjk_characters_found_in_text_and_json_escapes():
    assert cjk_font.cjk_characters("glossary English / 中文，ok") == {"中", "文", "，"}
    assert cjk_font.cjk_characters('"\\u6c49\\u5821"') == {"汉", "堡"}
    assert cjk_font.cjk_characters("attention (B, T, D) — é ü") == set()


def test_collect_reads_sources_notebooks_and_translations(tmp_path):
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "intro.md").write_text("# 前言", encoding="utf-8")
    (tmp_path / "_toc.yml").write_text("root: book/intro  # 目录\n", encoding="utf-8")
    nb = {"cells": [{"cell_type": "code", "source": ["x = '吃'"], "outputs": [{"text": "汉"}]}],
          "metadata": {"widgets": {"state": {"labels": ["堡"]}}}}
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "01_x.ipynb").write_text(json.dumps(nb), encoding="utf-8")  # \\u-escaped
    po = tmp_path / "locales" / "zh_CN" / "LC_MESSAGES"
    po.mkdir(parents=True)
    (po / "intro.po").write_text('msgid "Preface"\nmsgstr "序"\n', encoding="utf-8")
    html = tmp_path / "html"
    html.mkdir()
    (html / "page.html").write_text("<p>页</p>", encoding="utf-8")
    assert cjk_font.collect(tmp_path) == set("前言目录吃汉堡序")
    assert cjk_font.collect(tmp_path, html) == set("前言目录吃汉堡序页")


def test_the_book_uses_chinese_and_the_font_is_found():
    chars = cjk_font.collect(ROOT)
    assert {"中", "文", "汉", "堡"} <= chars
    assert cjk_font.source_font() is not None, "mplfonts (Noto Sans CJK SC) is not installed"


def test_subset_holds_exactly_the_characters_and_is_deterministic(tmp_path):
    from fontTools.ttLib import TTFont

    chars = set("今天晚上吃汉堡，中文")
    a, b = tmp_path / "a.woff", tmp_path / "b.woff"
    size = cjk_font.make_subset(chars, cjk_font.source_font(), a)
    cjk_font.make_subset(chars, cjk_font.source_font(), b)
    assert a.read_bytes() == b.read_bytes()
    assert size < 60_000
    font = TTFont(a)
    assert font.flavor == "woff"
    covered = {chr(c) for c in font.getBestCmap()}
    assert chars <= covered
    assert not (covered - chars) & {chr(c) for c in range(0x4E00, 0xA000)}  # no other ideographs


def test_write_font_skips_work_when_the_characters_did_not_change(tmp_path):
    html = tmp_path / "html"
    (html / "_static").mkdir(parents=True)
    (html / "p.html").write_text("<p>汉堡</p>", encoding="utf-8")
    (tmp_path / "book").mkdir()
    n, size = cjk_font.write_font(tmp_path, html)
    out = html / cjk_font.OUTPUT
    assert (n, size) == (2, out.stat().st_size)
    stamp = out.stat().st_mtime_ns
    assert cjk_font.write_font(tmp_path, html) == (2, size)
    assert out.stat().st_mtime_ns == stamp


def test_css_unicode_range_matches_the_collected_ranges():
    css = (ROOT / "book" / "_ext" / "static" / "cjk-font.css").read_text(encoding="utf-8")
    for lo, hi in cjk_font.CJK_RANGES:
        assert f"U+{lo:X}-{hi:X}" in css
    assert f'font-family: "{cjk_font.FAMILY}"' in css


@pytest.mark.parametrize("name", ["logo.svg", "favicon.png", "favicon.ico"])
def test_logo_files_are_up_to_date(tmp_path, name):
    logo.write(tmp_path)
    committed = ROOT / "book" / "_assets" / name
    assert committed.read_bytes() == (tmp_path / name).read_bytes(), (
        f"book/_assets/{name} differs from book/_ext/logo.py: run python book/_ext/logo.py"
    )


def test_dense_png_on_a_prose_page_shows_at_its_72_dpi_size(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import book_ext
    import matplotlib.pyplot as plt
    from docutils import nodes

    from transformer_lib import plotting

    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([0, 1])
    plotting.save_figure(fig, tmp_path / "dense.png")
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([0, 1])
    fig.savefig(tmp_path / "plain.png", dpi=72)
    plt.close(fig)
    width, dpi = book_ext.png_width_and_dpi(tmp_path / "dense.png")
    assert round(dpi) == 144
    doc = nodes.document(None, None)
    dense, plain = nodes.image(uri="dense.png"), nodes.image(uri="plain.png")
    given = nodes.image(uri="dense.png", width="50px")
    doc += [dense, plain, given]
    book_ext.size_dense_images(type("App", (), {"srcdir": str(tmp_path)})(), doc)
    assert dense["width"] == f"{round(width / 2)}px"
    assert "width" not in plain
    assert given["width"] == "50px"
