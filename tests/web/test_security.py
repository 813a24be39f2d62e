"""Security headers, cookies, CSRF (forms and htmx), and pages the CSP can serve as they are."""
from __future__ import annotations

import re

import pytest

from app.accounts.queries import get_user
from app.config import Config
from app.extensions import db
from app.messaging.notifications import notify
from tests.factories import PASSWORD
from tests.support.pages import HX, csrf_header_token, form_token, text

PAGES = ["/", "/auth/login", "/auth/signup", "/auth/password/forgot", "/healthz",
         "/no-such-page", "/static/css/app.css", "/dashboard/"]
SIGNED_IN_PAGES = ["/dashboard/", "/auth/settings", "/notifications/", "/admin/",
                   "/admin/users", "/admin/audit"]


def assert_security_headers(resp):
    csp = resp.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["default-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "*" not in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


@pytest.mark.parametrize("url", PAGES)
def test_every_page_sends_the_security_headers(client, url):
    assert_security_headers(client.get(url))


@pytest.mark.parametrize("url", SIGNED_IN_PAGES)
def test_signed_in_pages_send_the_security_headers_and_are_not_cached(client, login, admin, url):
    login(admin)
    resp = client.get(url)
    assert resp.status_code == 200
    assert_security_headers(resp)
    assert resp.headers["Cache-Control"] == "private, no-store"


def test_fragments_redirects_and_errors_send_the_security_headers(client, htmx, login, learner):
    assert_security_headers(htmx.get("/auth/login"))
    assert_security_headers(client.get("/dashboard/"))  # a redirect
    assert_security_headers(client.post("/"))  # 405
    login(learner)
    assert_security_headers(htmx.get("/admin/"))  # 403 fragment


def test_no_hsts_over_plain_http_in_tests(client):
    assert "Strict-Transport-Security" not in client.get("/").headers


def test_session_cookie_is_http_only_and_same_site_lax(client, learner):
    resp = client.post("/auth/login", data={"email": learner.email, "password": PASSWORD})
    [cookie] = [c for c in resp.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get_cookie("session").http_only


def test_production_cookie_settings_are_http_only_and_lax():
    assert Config.SESSION_COOKIE_HTTPONLY and Config.SESSION_COOKIE_SAMESITE == "Lax"
    assert Config.REMEMBER_COOKIE_HTTPONLY and Config.REMEMBER_COOKIE_SAMESITE == "Lax"
    assert Config.REMEMBER_COOKIE_SECURE == Config.SESSION_COOKIE_SECURE


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ATTR = re.compile(r"<[^>]+\sstyle\s*=", re.IGNORECASE)


@pytest.mark.parametrize("url", ["/", "/auth/login", "/auth/signup", "/auth/password/forgot",
                                 "/no-such-page", *SIGNED_IN_PAGES])
def test_pages_need_nothing_the_csp_forbids(client, login, admin, url):
    if url in SIGNED_IN_PAGES:
        login(admin)
        notify(admin, "welcome", name="Ada")
        db.session.commit()
    body = client.get(url).get_data(as_text=True)
    assert not INLINE_SCRIPT.search(body), "inline <script>"
    assert not EVENT_HANDLER.search(body), "inline on…= handler"
    assert not STYLE_ATTR.search(body), "inline style attribute"
    assert "javascript:" not in body


def test_user_text_is_escaped(client, login, admin, make_user):
    make_user(display_name='<img src=x onerror="alert(1)">')
    login(admin)
    body = client.get("/admin/users").get_data(as_text=True)
    assert "<img src=x" not in body and "&lt;img src=x" in body


# --- CSRF ------------------------------------------------------------------------------


def test_post_without_a_csrf_token_is_a_clear_400_page(client, learner, csrf_on):
    resp = client.post("/auth/login", data={"email": learner.email, "password": PASSWORD})
    assert resp.status_code == 400
    assert b"<html" in resp.data
    assert "Your form expired or came from another site. Reload the page and try again." in text(resp)
    assert client.get("/dashboard/").status_code == 302


def test_htmx_post_without_a_csrf_token_is_an_alert_fragment(client, login, learner, csrf_on):
    login(learner)
    resp = client.post("/notifications/read-all", headers=HX)
    assert resp.status_code == 400
    assert b"<html" not in resp.data and resp.headers["HX-Retarget"] == "#alerts"
    assert "Your form expired" in text(resp)


def test_form_with_its_csrf_token_is_accepted(client, learner, csrf_on):
    token = form_token(client.get("/auth/login"))
    resp = client.post("/auth/login", data={"email": learner.email, "password": PASSWORD,
                                            "csrf_token": token})
    assert resp.status_code == 302


def test_htmx_request_with_the_token_from_hx_headers_is_accepted(client, login, learner, csrf_on):
    notify(learner, "welcome", name="Lena")
    db.session.commit()
    login(learner)
    token = csrf_header_token(client.get("/notifications/"))
    resp = client.post("/notifications/read-all", headers={**HX, "X-CSRFToken": token})
    assert resp.status_code == 200
    assert b"badge-empty" in resp.data


def test_csrf_token_of_another_session_is_refused(app, client, login, learner, make_user, csrf_on):
    stranger = app.test_client()
    login(make_user(), on=stranger)
    token = csrf_header_token(stranger.get("/"))
    login(learner)
    client.get("/")
    resp = client.post("/notifications/read-all", headers={**HX, "X-CSRFToken": token})
    assert resp.status_code == 400


def test_logout_button_carries_a_csrf_token(client, login, learner, csrf_on):
    login(learner)
    page = client.get("/").get_data(as_text=True)
    form = page[page.index('<form action="/auth/logout"'):].split("</form>")[0]
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    assert client.post("/auth/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/dashboard/").status_code == 302


@pytest.mark.parametrize("url", ["/auth/login", "/auth/signup", "/auth/password/forgot",
                                 "/auth/settings", "/notifications/", "/admin/users/{id}"])
def test_every_post_form_carries_a_csrf_token(client, login, admin, learner, csrf_on, url):
    notify(admin, "welcome", name="Ada")
    db.session.commit()
    if url != "/auth/login" and url != "/auth/signup" and url != "/auth/password/forgot":
        login(admin)
    body = client.get(url.format(id=learner.id)).get_data(as_text=True)
    forms = re.findall(r"<form\b[^>]*>.*?</form>", body, re.DOTALL)
    posts = [f for f in forms if re.search(r'method="post"', f, re.IGNORECASE)]
    assert posts
    for form in posts:
        assert 'name="csrf_token"' in form, form[:200]


def test_suspension_form_with_csrf_works_end_to_end(client, login, admin, learner, csrf_on):
    login(admin)
    page = client.get(f"/admin/users/{learner.id}")
    token = form_token(page)
    resp = client.post(f"/admin/users/{learner.id}/suspend",
                       data={"csrf_token": token, "reason": "Spam"})
    assert resp.status_code == 302
    db.session.expire_all()
    assert get_user(learner.id).is_suspended()


def test_visitors_pages_hand_htmx_no_csrf_token(client):
    """Visitors make no state-changing htmx requests, and their pages can be cached for all."""
    assert "X-CSRFToken" not in client.get("/").get_data(as_text=True)
