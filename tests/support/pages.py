"""Reading pages and fragments in HTTP-level tests: htmx headers, decoded text, CSRF tokens, mailed
links, what a reader sees, and whether rendered user content stays harmless."""
from __future__ import annotations

import html
import re
from html.parser import HTMLParser

HX = {"HX-Request": "true"}


def text(resp) -> str:
    """The response body with HTML entities decoded, for message checks."""
    return html.unescape(resp.get_data(as_text=True))


def link_in(message, path_prefix: str) -> str:
    """The path of the first link under `path_prefix` in a mail's body."""
    body = message.get_content()
    match = re.search(r"https?://[^/\s]+(" + re.escape(path_prefix) + r"\S+)", body)
    assert match, f"no {path_prefix} link in:\n{body}"
    return match.group(1)


def csrf_header_token(resp) -> str:
    """The token the page hands to htmx in `<body hx-headers='{"X-CSRFToken": …}'>`."""
    match = re.search(r"""<body hx-headers='\{"X-CSRFToken": "([^"]+)"\}'""", resp.get_data(as_text=True))
    assert match, "the page has no hx-headers CSRF token"
    return match.group(1)


def form_token(resp) -> str:
    """The hidden `csrf_token` input of the first form on the page."""
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                      r'type="hidden" name="csrf_token" value="([^"]+)"|'
                      r'name="csrf_token" value="([^"]+)"', resp.get_data(as_text=True))
    assert match, "the page has no csrf_token input"
    return next(g for g in match.groups() if g)


def words(resp) -> str:
    """The response as a reader sees it: tags dropped, entities decoded, spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", text(resp)).split())


def assert_page(resp, status: int = 200):
    assert resp.status_code == status, resp.get_data(as_text=True)[:2000]
    assert b"<html" in resp.data


def assert_fragment(resp, marker: str, status: int = 200):
    assert resp.status_code == status, resp.get_data(as_text=True)[:2000]
    assert b"<html" not in resp.data
    assert marker in resp.get_data(as_text=True)
    assert "HX-Request" in resp.headers.get("Vary", "")


def harmless(html: str) -> None:
    """No script element of ours other than the layout's, no event-handler attribute, no
    javascript: URL in an attribute."""
    for tag in re.findall(r"<script\b[^>]*>", html, flags=re.I):
        assert 'src="/static/' in tag, tag
    assert not re.search(r"<[a-z][^>]*\son[a-z]+\s*=", html, flags=re.I)
    assert not re.search(r"""(href|src|data|action)\s*=\s*["']?\s*javascript:""", html, flags=re.I)


EVIL_MARKDOWN = ("Hello <script>alert('x')</script>\n\n[click me](javascript:alert(1))\n\n"
                 "<img src=x onerror=alert(1)>\n\n![pic](x\" onerror=\"alert(1))\n\n**still bold**")


class FacetCounts(HTMLParser):
    """Every element whose id starts with `facet-`: its count "(n)" and whether it is sent
    out of band (hx-swap-oob), whatever the tag."""

    def __init__(self):
        super().__init__()
        self.current: tuple[str, bool] | None = None
        self.text = ""
        self.found: dict[str, tuple[int, bool]] = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if (a.get("id") or "").startswith("facet-"):
            self.current, self.text = (a["id"], "hx-swap-oob" in a), ""

    def handle_data(self, data):
        if self.current:
            self.text += data

    def handle_endtag(self, tag):
        if self.current:
            match = re.search(r"\((\d+)\)\s*$", self.text)
            assert match, f"no count in {self.current[0]}: {self.text!r}"
            self.found[self.current[0]] = (int(match.group(1)), self.current[1])
            self.current = None


def facets(body: str, *, oob: bool) -> dict[str, int]:
    """Facet counts in the page: the out-of-band ones (oob=True) or those in place."""
    parser = FacetCounts()
    parser.feed(body)
    return {key: n for key, (n, is_oob) in parser.found.items() if is_oob == oob}

