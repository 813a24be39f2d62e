"""The one Markdown renderer (app/rendering.py): useful Markdown in, harmless HTML out."""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from markupsafe import Markup

from app.rendering import render_markdown


class Elements(HTMLParser):
    """Every element of a fragment as (tag, {attribute: value}), plus its text."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, dict]] = []
        self.text = ""
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text += data

    def tags(self) -> set[str]:
        return {tag for tag, _ in self.found}

    def attributes(self) -> set[str]:
        return {name for _, attrs in self.found for name in attrs}

    def urls(self) -> list[str]:
        return [attrs[name] for _, attrs in self.found for name in ("href", "src")
                if attrs.get(name) is not None]


def elements(text: str) -> Elements:
    return Elements(str(render_markdown(text)))


def assert_harmless(text: str) -> Elements:
    found = elements(text)
    assert not found.tags() & {"script", "iframe", "object", "embed", "style", "svg", "form",
                               "input", "math", "base", "meta", "link"}
    assert not {name for name in found.attributes() if name.startswith("on")}
    assert "style" not in found.attributes()
    for url in found.urls():
        # As a browser reads it: tabs and newlines dropped, then an RFC 3986 scheme, if any.
        cleaned = re.sub(r"[\t\n\r]", "", url).lstrip("\x00 ")
        scheme = re.match(r"([a-zA-Z][a-zA-Z0-9+.-]*):", cleaned)
        assert scheme is None or scheme.group(1).lower() in ("http", "https", "mailto"), url
    return found


# --- what stays ------------------------------------------------------------------------------

def test_it_returns_markup_safe_to_put_in_a_template():
    assert isinstance(render_markdown("hi"), Markup)
    assert render_markdown(None) == "" and render_markdown("") == ""


def test_bold_italic_and_strikethrough_stay():
    assert str(render_markdown("**bold** *it* ~~old~~")) == \
        "<p><strong>bold</strong> <em>it</em> <s>old</s></p>\n"


def test_links_stay_and_are_marked_nofollow():
    [(tag, attrs)] = elements("[Lyceum](https://lyceum.test/courses)").found[1:]
    assert tag == "a" and attrs["href"] == "https://lyceum.test/courses"
    assert set(attrs["rel"].split()) == {"noopener", "noreferrer", "nofollow"}


def test_mailto_and_relative_links_stay():
    assert elements("[mail](mailto:a@b.test) [here](/courses)").urls() == \
        ["mailto:a@b.test", "/courses"]


def test_code_spans_and_blocks_stay_with_their_text_escaped():
    html = str(render_markdown("Use `a < b`.\n\n```python\nprint('<b>')\n```"))
    assert "<code>a &lt; b</code>" in html
    assert "<pre><code>print('&lt;b&gt;')\n</code></pre>" in html


def test_tables_stay_with_their_column_alignment():
    found = elements("| Step | Minutes |\n|------|--------:|\n| Read | 5 |\n")
    assert {"table", "thead", "tbody", "tr", "th", "td"} <= found.tags()
    assert "Read" in found.text and "Minutes" in found.text
    assert ("td", {"style": "text-align:right"}) in found.found
    assert ("td", {}) in found.found


def test_headings_lists_quotes_and_images_stay():
    found = elements("## Title\n\n- one\n- two\n\n1. first\n\n> quoted\n\n![alt](https://x.test/a.png)")
    assert {"h2", "ul", "ol", "li", "blockquote", "img"} <= found.tags()
    assert ("img", {"src": "https://x.test/a.png", "alt": "alt"}) in found.found


# --- what goes -------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "<script>alert(1)</script>",
    "Hello <script src=https://evil.test/x.js></script> world",
    "<SCRIPT>alert(1)</SCRIPT>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">click</a>',
    "<iframe src=https://evil.test></iframe>",
    "<div style=\"background:url(javascript:alert(1))\">x</div>",
    "<svg onload=alert(1)>",
    '<p onclick="alert(1)">hi</p>',
    "<details open ontoggle=alert(1)>",
])
def test_raw_html_is_shown_as_text_not_run(text):
    found = assert_harmless(text)
    assert found.tags() <= {"p"}


@pytest.mark.parametrize("text", [
    "[click](javascript:alert(1))",
    "[click](JAVASCRIPT:alert(1))",
    "[click]( javascript:alert(1) )",
    "[click](&#106;avascript:alert(1))",
    "[click](java&#x09;script:alert(1))",
    "[click](jav\tascript:alert(1))",
    "<javascript:alert(1)>",
    "[click](vbscript:msgbox(1))",
    "[click][ref]\n\n[ref]: javascript:alert(1)",
    "![x](javascript:alert(1))",
])
def test_javascript_links_are_defused(text):
    assert_harmless(text)


@pytest.mark.parametrize("text", [
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](data:image/png;base64,iVBORw0KGgo=)",
    "![pixel](data:image/png;base64,iVBORw0KGgo=)",
    "<data:text/html,<script>alert(1)</script>>",
])
def test_data_urls_are_dropped(text):
    found = assert_harmless(text)
    assert not any(url.lower().startswith("data:") for url in found.urls())


def test_an_onerror_in_a_title_stays_a_harmless_attribute_value():
    found = assert_harmless('![a](https://x.test/a.png "x\\" onerror=\\"alert(1)")')
    [attrs] = [attrs for tag, attrs in found.found if tag == "img"]
    assert set(attrs) <= {"src", "alt", "title"}


def test_the_text_around_removed_things_survives():
    found = elements("Before <script>alert(1)</script> after [ok](https://ok.test)")
    assert "Before" in found.text and "after" in found.text
    assert found.urls() == ["https://ok.test"]
