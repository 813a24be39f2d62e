"""GET /api/v1/docs: the API reference page, Swagger UI from our own origin under the site's
strict CSP (the browser check that it renders is tests/e2e/test_api_docs.py)."""
from __future__ import annotations

import json
from pathlib import Path

from app.blueprints.security import CSP

ROOT = Path(__file__).resolve().parents[3]
STATIC = ROOT / "app" / "static"


def test_the_reference_page_is_public_and_keeps_the_sites_strict_csp(anonymous):
    resp = anonymous.get("/api/v1/docs")
    assert resp.status_code == 200
    assert resp.mimetype == "text/html"
    assert resp.headers["Content-Security-Policy"] == CSP
    assert "script-src 'self'" in CSP and "style-src 'self'" in CSP and "unsafe" not in CSP
    page = resp.get_data(as_text=True)
    assert 'data-document-url="/api/v1/openapi.json"' in page
    assert "<script>" not in page and "style=" not in page  # nothing inline
    for src in ("/static/vendor/swagger-ui-bundle.js", "/static/vendor/swagger-ui.css",
                "/static/js/api-docs.js", "/static/css/api-docs.css"):
        assert src in page
        assert anonymous.get(src).status_code == 200


def test_swagger_ui_is_vendored_like_htmx():
    """Pinned in package.json, fetched by `make vendor` into app/static/vendor/."""
    manifest = json.loads((ROOT / "package.json").read_text())
    assert set(manifest["vendorFiles"]["swagger-ui-dist"].values()) == {"swagger-ui-bundle.js", "swagger-ui.css"}
    for name in ("swagger-ui-bundle.js", "swagger-ui.css"):
        assert (STATIC / "vendor" / name).stat().st_size > 10_000
    assert (STATIC / "js" / "api-docs.js").exists()


def test_the_page_is_reachable_with_a_token_too(api, learner):
    assert api(learner, "read").get("/api/v1/docs").status_code == 200
