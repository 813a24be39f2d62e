"""Full page or HTMX fragment from one template (jinja2-fragments)."""
from __future__ import annotations

from flask import Response, make_response, redirect, render_template, request, url_for
from jinja2_fragments.flask import render_block


def wants_fragment() -> bool:
    h = request.headers
    return (h.get("HX-Request") == "true" and "HX-Boosted" not in h
            and "HX-History-Restore-Request" not in h)


def render_page(template: str, block: str, *, status: int = 200, **ctx) -> Response:
    """The whole page, or only `{% block <block> %}` for an HTMX request."""
    fragment = wants_fragment()
    ctx.setdefault("fragment", fragment)
    html = render_block(template, block, **ctx) if fragment else render_template(template, **ctx)
    resp = make_response(html, status)
    resp.vary.add("HX-Request")
    return resp


def redirect_to(endpoint: str, **values) -> Response:
    """Redirect, telling htmx to follow with a full navigation."""
    return redirect_url(url_for(endpoint, **values))


def redirect_url(target: str) -> Response:
    """Redirect to a URL (already checked to be on this site). htmx would follow a 302
    inside its XHR and swap the whole next page into the fragment's target, so an htmx
    request gets `HX-Redirect` instead."""
    if wants_fragment():
        resp = make_response("", 204)
        resp.headers["HX-Redirect"] = target
        return resp
    return redirect(target)


def page_arg(name: str = "page", maximum: int = 100_000) -> int:
    """A page number from the query string: bad or absurd values become 1 or the maximum
    (a page number past 2**63 overflows the database's OFFSET)."""
    return min(max(request.args.get(name, 1, type=int), 1), maximum)


def client_ip() -> str | None:
    return request.remote_addr
