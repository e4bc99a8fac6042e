"""The two editions of the book: translated numbered titles and captions, the language switch.

**Numbered titles.** Sphinx translates a heading by parsing its translation again as a
one-line document in the page's own markup, with an underline added
(``msgstr + "\\n" + "=" * ...``, sphinx/transforms/i18n.py). A chapter's title and
its section headings start with a number ("2. Attention as a weighted update",
"1. Four words, four vectors"); in Markdown (MyST, the parser of the notebooks and of
the prose pages) "2. 注意力……" followed by a line is an *ordered list*, not a
heading, so Sphinx finds no title in the parsed translation and silently keeps the
English one: on the page, in ``<title>``, the sidebar, the previous/next links. The
transform below runs right after Sphinx's own (``Locale``, priority 20) and
translates every heading that is still English and has a translation, with its
leading list marker escaped ("2\\. 注意力……"), so that it parses as a heading again.

The sidebar's part captions (``_toc.yml``) are inserted by sphinx-external-toc after
Sphinx has translated the page; ``TranslateTocCaptions`` translates them from the root
page's catalogue (``book/intro.po``).

**Generated tables stay data.** The performance appendix includes tables that the
benchmark suite writes (``benchmarks/results/md/*.md``): machine names, versions,
timings. As prose, each cell would be a message, and every new benchmark run would
leave the Chinese edition with dozens of untranslated numbers. A page marks such a block
``generated-data`` (a ``{container}`` with that class around the ``{include}``; Sphinx's own
stylesheet already uses the class ``untranslated``);
``KeepGeneratedData`` marks the text inside it as not translatable before
extraction and translation, so both editions show the same generated table.

**Language switch.** Every page of the English edition (site root) links to the same
page of the Chinese one (``zh/``) and back: ``html_context["edition_switch"]`` is
filled per page and rendered by ``static/edition-switch.js`` as a link in the header
(and a ``<link rel="alternate" hreflang>``). Set ``edition_other_root`` (relative URL
from the site root of this edition to that of the other, e.g. ``"zh/"`` or ``"../"``)
and ``edition_other_label`` in the Sphinx config; the English build sets it in
``_config.yml``, the Chinese build (scripts/i18n.py build) overrides it.
"""
from __future__ import annotations

import re
from os import path

from docutils import nodes
from sphinx.locale import init as init_locale
from sphinx.transforms import SphinxTransform
from sphinx.transforms.i18n import publish_msgstr
from sphinx.util.i18n import docname_to_domain
from sphinx.util.nodes import extract_messages

#: A heading text that Markdown would read as a list item or block quote when it starts a line.
BLOCK_MARKER = re.compile(r"^(\d{1,9})([.)])(\s)|^([-+*>#])(\s)")


def escape_block_marker(text: str) -> str:
    """``"2. 注意力"`` -> ``"2\\. 注意力"`` (a heading, not a list item, when parsed again)."""
    return BLOCK_MARKER.sub(
        lambda m: f"{m[1]}\\{m[2]}{m[3]}" if m[1] else f"\\{m[4]}{m[5]}", text, count=1)


def _catalog(transform: SphinxTransform):
    """The translation catalogue of the document ``transform`` works on (None: there is none)."""
    domain = docname_to_domain(transform.env.docname, transform.config.gettext_compact)
    dirs = [path.join(transform.env.srcdir, d) for d in transform.config.locale_dirs]
    catalog, has_catalog = init_locale(dirs, transform.config.language, domain)
    return catalog if has_catalog else None


#: Class of a block whose text both editions show as it is (generated data, not prose).
GENERATED_CLASS = "generated-data"


class KeepGeneratedData(SphinxTransform):
    """Mark the text inside blocks of class ``generated-data`` as not translatable."""

    default_priority = 15  # before sphinx.transforms.i18n.Locale (20) and message extraction

    def apply(self, **kwargs) -> None:
        for block in self.document.findall(nodes.Element):
            if GENERATED_CLASS in block.get("classes", []):
                for node in block.findall(nodes.TextElement):
                    node["translatable"] = False


class TranslateMarkedTitles(SphinxTransform):
    """Translate the headings that Sphinx's Locale transform left in English."""

    default_priority = 21  # just after sphinx.transforms.i18n.Locale (20)

    def apply(self, **kwargs) -> None:
        if not self.config.language or self.config.language == "en":
            return
        catalog = _catalog(self)
        if catalog is None:
            return
        settings, source = self.document.settings, self.document["source"]
        for node, msg in list(extract_messages(self.document)):
            if not isinstance(node, nodes.title) or not BLOCK_MARKER.match(msg):
                continue
            msgstr = catalog.gettext(msg)
            if not msgstr.strip() or msgstr == msg or node.get("translated"):
                continue  # untranslated, or already translated by Sphinx (which marks the node)
            text = escape_block_marker(msgstr)
            patch = publish_msgstr(self.app, text + "\n" + "=" * len(text) * 2, source,
                                   node.line, self.config, settings)
            title = patch.next_node(nodes.title) if isinstance(patch, nodes.Element) else None
            if title is None:
                continue
            for child in title.children:
                child.parent = node
            node.children = title.children
            node["translated"] = True


class TranslateTocCaptions(SphinxTransform):
    """Translate the captions of the toctrees that sphinx-external-toc inserts (_toc.yml's
    "Before you start", "Chapters", ...): it inserts them (priority 100) after Sphinx's
    Locale transform has run, so they would stay English in the sidebar."""

    default_priority = 110  # after sphinx_external_toc's InsertToctrees (100)

    def apply(self, **kwargs) -> None:
        from sphinx import addnodes

        if not self.config.language or self.config.language == "en":
            return
        toctrees = [n for n in self.document.findall(addnodes.toctree) if n.get("caption")]
        if not toctrees:
            return
        catalog = _catalog(self)
        if catalog is None:
            return
        for node in toctrees:
            msgstr = catalog.gettext(node["caption"])
            if msgstr.strip() and msgstr != node["caption"]:
                node["caption"] = node["rawcaption"] = msgstr


# --- the switch between the editions -------------------------------------------------


def add_switch(app, pagename, templatename, context, doctree):
    other_root = app.config.edition_other_root
    if not other_root:
        return
    # pagename "notebooks/02_x" -> relative URL to the same page in the other edition
    depth = pagename.count("/")
    target = "../" * depth + other_root + pagename + app.builder.out_suffix
    context["edition_switch"] = {
        "href": target,
        "label": app.config.edition_other_label,
        "lang": app.config.edition_other_lang,
    }
    # the link is drawn by a small script (the theme has no slot for it in every layout)
    # from this meta element; the <link rel=alternate> is for search engines and readers.
    metatags = context.get("metatags", "")
    context["metatags"] = metatags + (
        f'\n<link rel="alternate" hreflang="{app.config.edition_other_lang}" href="{target}" />'
        f'\n<meta name="edition-switch" content="{target}" '
        f'data-label="{app.config.edition_other_label}" '
        f'data-lang="{app.config.edition_other_lang}" />'
    )


def setup(app):
    app.add_transform(KeepGeneratedData)
    app.add_transform(TranslateMarkedTitles)
    app.add_transform(TranslateTocCaptions)
    app.add_config_value("edition_other_root", "", "html")
    app.add_config_value("edition_other_label", "", "html")
    app.add_config_value("edition_other_lang", "", "html")
    app.add_js_file("edition-switch.js", priority=600)
    app.add_css_file("edition-switch.css")
    app.connect("html-page-context", add_switch)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
