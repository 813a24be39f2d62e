"""The one Markdown renderer for every user-written text (descriptions, lessons, posts).

markdown-it-py renders CommonMark with raw HTML disabled; nh3 then sanitises the result
(allow-listed tags and attributes, safe URL schemes only, rel=noopener on links), so
`<script>`, `javascript:` links and `onerror=` attributes come out harmless.
"""
from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
    ["table", "strikethrough"])

# markdown-it writes ~~strikethrough~~ as <s>, and table column alignment as a style.
ALLOWED_TAGS = {"p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "s",
                "a", "ul", "ol", "li", "blockquote", "code", "pre", "table", "thead", "tbody",
                "tr", "th", "td", "img"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"},
                      "th": {"align"}, "td": {"align"}, "ol": {"start"}}
# The only styles kept are these exact values (any other style attribute is dropped).
ALIGN_STYLES = {"style": {"text-align:left", "text-align:center", "text-align:right"}}
TAG_ATTRIBUTE_VALUES = {"th": ALIGN_STYLES, "td": ALIGN_STYLES}
URL_SCHEMES = {"http", "https", "mailto"}


def render_markdown(text: str | None) -> Markup:
    html = _md.render(text or "")
    clean = nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                      tag_attribute_values=TAG_ATTRIBUTE_VALUES, url_schemes=URL_SCHEMES,
                      link_rel="noopener noreferrer nofollow")
    return Markup(clean)


# Chat and direct messages: "Markdown-light" — `code`, fenced code, links (bare URLs become
# links) and line breaks; no headings, lists, images or emphasis games.
_md_light = (MarkdownIt("zero", {"html": False, "linkify": True, "breaks": True})
             .enable(["backticks", "fence", "link", "autolink", "linkify", "newline", "escape"]))
LIGHT_TAGS = {"p", "br", "a", "code", "pre"}


def render_message(text: str | None) -> Markup:
    html = _md_light.render(text or "")
    clean = nh3.clean(html, tags=LIGHT_TAGS, attributes={"a": {"href"}}, url_schemes={"http", "https"},
                      link_rel="noopener noreferrer nofollow ugc")
    return Markup(clean)
