"""Sign-up, log-in, log-out and the password-reset views."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from app.accounts.queries import user_by_email
from app.dbtypes import utcnow
from tests.factories import PASSWORD
from tests.support.pages import link_in, text

NEW_PASSWORD = "a much better passphrase"


def signup_form(**overrides):
    return {"display_name": "Nora Newcomer", "email": "nora@example.test",
            "password": "plenty of entropy here", **overrides}


def assert_signed_in(client, name: str):
    resp = client.get("/dashboard/")
    assert resp.status_code == 200, "not signed in"
    assert f"Hello, {name}" in text(resp)


def assert_anonymous(client):
    resp = client.get("/dashboard/")
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith("/auth/login")


# --- sign-up ---------------------------------------------------------------------------


def test_signup_page_renders_with_layout(client):
    resp = client.get("/auth/signup")
    assert resp.status_code == 200
    assert b"<html" in resp.data and b"Create your account" in resp.data
    assert b'autocomplete="new-password"' in resp.data


def test_signup_page_for_htmx_is_the_form_only(htmx):
    resp = htmx.get("/auth/signup")
    assert resp.status_code == 200
    assert b"<html" not in resp.data
    assert b'name="display_name"' in resp.data and b"Sign up</button>" in resp.data
    assert "HX-Request" in resp.headers["Vary"]


CHECK_MAIL = "Check your e-mail to finish signing up"


def confirm_link(outbox) -> str:
    return link_in(outbox.last(), "/auth/signup/confirm/")


def test_signup_asks_to_check_the_mail_and_its_link_signs_in(client, outbox, emitted):
    resp = client.post("/auth/signup", data=signup_form())
    assert resp.status_code == 200 and b"<html" in resp.data
    assert CHECK_MAIL in text(resp) and "nora@example.test" in text(resp)
    assert_anonymous(client)
    assert user_by_email("nora@example.test").email_verified_at is None
    assert "accounts.user.signed_up" in [e.name for e in emitted]

    mail = outbox.last()
    assert (mail["To"], mail["Subject"]) == ("nora@example.test", "Finish signing up to Lyceum")
    page = client.get(confirm_link(outbox))
    assert page.status_code == 200 and "Confirm and sign in" in text(page)
    assert_anonymous(client)  # opening the link (a mail scanner may) does not sign in

    resp = client.post(confirm_link(outbox))
    assert resp.status_code == 302 and resp.headers["Location"] == "/dashboard/"
    assert "Welcome to Lyceum, Nora Newcomer!" in text(client.get("/dashboard/"))
    assert_signed_in(client, "Nora Newcomer")
    assert user_by_email("nora@example.test").email_verified_at is not None


def test_the_signup_link_works_once(client, outbox):
    client.post("/auth/signup", data=signup_form())
    link = confirm_link(outbox)
    client.post(link)
    client.post("/auth/logout")
    again = client.post(link)
    assert again.status_code == 400 and "This link is invalid or has expired." in text(again)
    assert_anonymous(client)


@pytest.mark.parametrize("link", ["/auth/signup/confirm/garbage", "/auth/signup/confirm/" + "x" * 3000])
def test_a_bad_signup_link_is_a_clear_400_page(client, link):
    for resp in (client.get(link), client.post(link)):
        assert resp.status_code == 400 and b"<html" in resp.data
        assert "This link is invalid or has expired. Ask for a new one." in text(resp)


def test_a_bad_signup_link_over_htmx_is_an_alert(htmx):
    resp = htmx.post("/auth/signup/confirm/garbage")
    assert resp.status_code == 400 and b"<html" not in resp.data
    assert resp.headers["HX-Retarget"] == "#alerts" and "This link is invalid" in text(resp)


def test_signup_over_htmx_answers_with_the_fragment(htmx, client, outbox):
    resp = htmx.post("/auth/signup", data=signup_form())
    assert resp.status_code == 200 and b"<html" not in resp.data
    assert CHECK_MAIL in text(resp)
    assert_anonymous(client)


def test_signed_in_user_is_sent_from_signup_to_the_dashboard(client, login, learner):
    login(learner)
    resp = client.get("/auth/signup")
    assert resp.status_code == 302 and resp.headers["Location"] == "/dashboard/"


def assert_kept(resp, name="Nora Newcomer", email="nora@example.test"):
    body = resp.get_data(as_text=True)
    assert f'value="{name}"' in body, "typed name was lost"
    assert f'value="{email}"' in body, "typed e-mail was lost"
    assert "plenty of entropy" not in body, "a password is never sent back"


def test_signup_with_a_taken_email_answers_as_for_a_new_one_and_tells_the_owner(client, make_user,
                                                                              outbox):
    owner = make_user(email="nora@example.test", display_name="Nora Owner")
    taken = client.post("/auth/signup", data=signup_form(display_name="Nora Again"))
    mail = outbox.last()
    fresh = client.post("/auth/signup", data=signup_form(email="nina@example.test"))
    assert taken.status_code == fresh.status_code == 200
    assert text(taken).replace("nora@", "nina@") == text(fresh)
    assert user_by_email("nora@example.test") is owner and owner.display_name == "Nora Owner"
    assert (mail["To"], mail["Subject"]) == ("nora@example.test",
                                            "Someone tried to sign up with your e-mail address")
    assert "http://localhost/auth/login" in mail.get_content()
    assert "http://localhost/auth/password/forgot" in mail.get_content()
    assert_anonymous(client)


def test_signup_with_a_weak_password_shows_why_and_keeps_the_input(client):
    resp = client.post("/auth/signup", data=signup_form(password="short"))
    assert resp.status_code == 422
    assert "Use at least 10 characters." in text(resp)
    assert_kept(resp)
    assert user_by_email("nora@example.test") is None


def test_signup_with_a_common_password_is_refused(client):
    resp = client.post("/auth/signup", data=signup_form(password="password123"))
    assert resp.status_code == 422
    assert "too common" in text(resp)


def test_signup_with_an_invalid_email_shows_the_error_and_keeps_the_input(client):
    resp = client.post("/auth/signup", data=signup_form(email="not-an-email"))
    assert resp.status_code == 422
    assert "Enter a valid e-mail address" in text(resp)
    assert_kept(resp, email="not-an-email")


def test_signup_errors_over_htmx_return_the_form_fragment(htmx):
    resp = htmx.post("/auth/signup", data=signup_form(password="short"))
    assert resp.status_code == 422
    assert b"<html" not in resp.data
    assert "Use at least 10 characters." in text(resp)
    assert 'value="Nora Newcomer"' in text(resp)


def test_signup_with_missing_fields_says_which(client):
    resp = client.post("/auth/signup", data={})
    assert resp.status_code == 422
    assert text(resp).count("This field is required.") == 3


@pytest.mark.parametrize("form", [
    signup_form(display_name="x" * 81),
    signup_form(display_name="   "),
    signup_form(email="x" * 250 + "@example.test"),
    signup_form(email="nora@"),
    signup_form(email="nora@example.test\x00"),
    signup_form(display_name="Nora\x00"),
    signup_form(password="p" * 5000),
    {"display_name": ["a", "b"], "email": "nora@example.test", "password": "plenty of entropy here"},
    {"email": "nora@example.test"},
])
def test_signup_with_bad_input_is_never_a_server_error(client, form):
    resp = client.post("/auth/signup", data=form)
    assert resp.status_code < 500
    assert resp.status_code in (200, 400, 422)


# --- log-in ----------------------------------------------------------------------------


def test_login_page_renders_with_layout(client):
    resp = client.get("/auth/login")
    assert resp.status_code == 200
    assert b"<html" in resp.data and b"<h1>Log in</h1>" in resp.data
    assert b"Forgot your password?" in resp.data


def test_login_page_for_htmx_is_the_form_only(htmx):
    resp = htmx.get("/auth/login")
    assert resp.status_code == 200
    assert b"<html" not in resp.data
    assert b'name="email"' in resp.data and b"Forgot your password?" not in resp.data


def test_login_signs_in_and_redirects_to_the_dashboard(client, learner):
    resp = client.post("/auth/login", data={"email": learner.email, "password": PASSWORD})
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/dashboard/"
    assert_signed_in(client, "Lena Learner")


def test_login_ignores_the_case_of_the_email(client, learner):
    resp = client.post("/auth/login", data={"email": "  LEARNER@Example.TEST ", "password": PASSWORD})
    assert resp.status_code == 302


def test_login_over_htmx_redirects_with_hx_redirect(htmx, learner):
    resp = htmx.post("/auth/login", data={"email": learner.email, "password": PASSWORD})
    assert resp.status_code == 204
    assert resp.headers["HX-Redirect"] == "/dashboard/"


def test_wrong_password_and_unknown_email_get_the_same_message(client, learner):
    wrong = client.post("/auth/login", data={"email": learner.email, "password": "not my password"})
    unknown = client.post("/auth/login", data={"email": "nobody@example.test", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 422
    assert "Wrong e-mail or password." in text(wrong)
    assert "Wrong e-mail or password." in text(unknown)
    assert 'value="nobody@example.test"' in text(unknown)
    assert_anonymous(client)


def test_login_errors_over_htmx_return_the_form_fragment(htmx, learner):
    resp = htmx.post("/auth/login", data={"email": learner.email, "password": "nope"})
    assert resp.status_code == 422
    assert b"<html" not in resp.data and "Wrong e-mail or password." in text(resp)


def test_suspended_user_is_refused_with_the_reason(client, make_user):
    make_user(email="sus@example.test", suspended_at=utcnow(), suspension_reason="Spamming reviews")
    resp = client.post("/auth/login", data={"email": "sus@example.test", "password": PASSWORD})
    assert resp.status_code in (403, 422)
    assert "Your account is suspended: Spamming reviews" in text(resp)
    assert_anonymous(client)


def test_temporarily_suspended_user_is_told_until_when(client, make_user):
    until = datetime(2099, 1, 31, tzinfo=UTC)
    make_user(email="sus@example.test", suspended_at=utcnow(), suspended_until=until,
              suspension_reason="Cooling off")
    resp = client.post("/auth/login", data={"email": "sus@example.test", "password": PASSWORD})
    assert "Your account is suspended until 31 Jan 2099: Cooling off" in text(resp)


def test_expired_suspension_no_longer_blocks_login(client, make_user):
    make_user(email="was@example.test", suspended_at=utcnow() - timedelta(days=3),
              suspended_until=utcnow() - timedelta(days=1), suspension_reason="Old")
    resp = client.post("/auth/login", data={"email": "was@example.test", "password": PASSWORD})
    assert resp.status_code == 302


@pytest.mark.parametrize("target", ["/notifications/", "/auth/settings?tab=1"])
def test_login_follows_a_same_site_next(client, learner, target):
    resp = client.post("/auth/login", query_string={"next": target},
                       data={"email": learner.email, "password": PASSWORD})
    assert resp.headers["Location"] == target


@pytest.mark.parametrize("target", [
    "//evil.com", "https://evil.com", "http://evil.com/x", "/\\evil.com", "\\\\evil.com",
    "/\t/evil.com", "/\n/evil.com", " //evil.com", "javascript:alert(1)", "///evil.com",
])
def test_login_ignores_a_next_that_leaves_the_site(client, learner, target):
    resp = client.post("/auth/login", query_string={"next": target},
                       data={"email": learner.email, "password": PASSWORD})
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/dashboard/"


def test_login_form_keeps_the_next_parameter(client):
    resp = client.get("/auth/login?next=/notifications/")
    assert 'action="/auth/login?next=/notifications/"' in text(resp)


def test_signed_in_user_visiting_login_goes_to_next_or_the_dashboard(client, login, learner):
    login(learner)
    assert client.get("/auth/login").headers["Location"] == "/dashboard/"
    assert client.get("/auth/login?next=//evil.com").headers["Location"] == "/dashboard/"


def test_remember_me_sets_a_lasting_http_only_cookie(client, learner):
    client.post("/auth/login", data={"email": learner.email, "password": PASSWORD, "remember": "y"})
    cookie = client.get_cookie("remember_token")
    assert cookie is not None
    assert cookie.http_only and cookie.same_site == "Lax"
    assert cookie.expires is not None and cookie.expires > datetime.now(UTC) + timedelta(days=29)


def test_remember_cookie_alone_signs_the_user_back_in(app, client, learner):
    client.post("/auth/login", data={"email": learner.email, "password": PASSWORD, "remember": "y"})
    token = client.get_cookie("remember_token").value
    fresh = app.test_client()
    fresh.set_cookie("remember_token", token)
    assert fresh.get("/dashboard/").status_code == 200


def test_without_remember_me_there_is_no_remember_cookie(client, learner):
    client.post("/auth/login", data={"email": learner.email, "password": PASSWORD})
    assert client.get_cookie("remember_token") is None


@pytest.mark.parametrize("form", [
    {}, {"email": "a@b.c"}, {"email": "learner@example.test\x00", "password": "x"},
    {"email": "x" * 5000, "password": "y"}, {"email": "learner@example.test", "password": "\x00"},
])
def test_login_with_bad_input_is_never_a_server_error(client, learner, form):
    resp = client.post("/auth/login", data=form)
    assert resp.status_code in (400, 422)


# --- log-out ---------------------------------------------------------------------------


def test_logout_signs_out_and_goes_home(client, login, learner):
    login(learner)
    resp = client.post("/auth/logout")
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    assert "You are logged out." in text(client.get("/"))
    assert_anonymous(client)


def test_logout_over_htmx_redirects_with_hx_redirect(client, htmx, login, learner):
    login(learner)
    resp = htmx.post("/auth/logout")
    assert resp.status_code == 204 and resp.headers["HX-Redirect"] == "/"
    assert_anonymous(client)


def test_logout_forgets_the_remember_cookie(client, learner):
    client.post("/auth/login", data={"email": learner.email, "password": PASSWORD, "remember": "y"})
    client.post("/auth/logout")
    assert client.get_cookie("remember_token") is None
    assert_anonymous(client)


def test_logout_by_get_is_a_405_page_with_the_layout(client, login, learner):
    login(learner)
    resp = client.get("/auth/logout")
    assert resp.status_code == 405
    assert b"<html" in resp.data and b"Method not allowed" in resp.data
    assert "GET" not in resp.headers["Allow"] and "POST" in resp.headers["Allow"]
    assert_signed_in(client, "Lena Learner")


def test_header_offers_a_logout_button_not_a_link(client, login, learner):
    login(learner)
    body = text(client.get("/"))
    assert '<form action="/auth/logout" method="post"' in body
    assert 'href="/auth/logout"' not in body


# --- forgotten password ----------------------------------------------------------------


def test_forgot_password_page_renders_with_layout(client):
    resp = client.get("/auth/password/forgot")
    assert resp.status_code == 200
    assert b"<html" in resp.data and b"Reset your password" in resp.data


def test_forgot_password_page_for_htmx_is_the_form_only(htmx):
    resp = htmx.get("/auth/password/forgot")
    assert resp.status_code == 200
    assert b"<html" not in resp.data and b"Send the link" in resp.data


def test_forgot_password_mails_a_link_that_sets_a_new_password(client, learner, outbox):
    resp = client.post("/auth/password/forgot", data={"email": learner.email})
    assert resp.status_code == 302 and resp.headers["Location"] == "/auth/login"
    assert "a reset link is on its way" in text(client.get("/auth/login"))

    assert len(outbox) == 1
    mail = outbox.last()
    assert mail["To"] == learner.email and mail["Subject"] == "Reset your Lyceum password"
    link = link_in(mail, "/auth/password/reset/")

    page = client.get(link)
    assert page.status_code == 200 and b"Choose a new password" in page.data
    resp = client.post(link, data={"password": NEW_PASSWORD})
    assert resp.status_code == 302 and resp.headers["Location"] == "/auth/login"

    old = client.post("/auth/login", data={"email": learner.email, "password": PASSWORD})
    assert old.status_code == 422
    new = client.post("/auth/login", data={"email": learner.email, "password": NEW_PASSWORD})
    assert new.status_code == 302

    used = client.get(link)
    assert used.status_code == 400
    assert b"<html" in used.data
    assert "This link is invalid or has expired." in text(used)
    assert client.post(link, data={"password": "yet another passphrase"}).status_code == 400


def test_password_reset_mails_a_notice_that_the_password_changed(client, learner, outbox):
    client.post("/auth/password/forgot", data={"email": learner.email})
    client.post(link_in(outbox.last(), "/auth/password/reset/"), data={"password": NEW_PASSWORD})
    assert outbox.last()["Subject"] == "Your Lyceum password was changed"


def test_password_reset_ends_other_sessions(client, other_client, login, learner, outbox):
    login(learner, on=other_client)
    client.post("/auth/password/forgot", data={"email": learner.email})
    client.post(link_in(outbox.last(), "/auth/password/reset/"), data={"password": NEW_PASSWORD})
    assert_anonymous(other_client)


def test_forgot_password_says_the_same_for_an_unknown_email(client, outbox):
    resp = client.post("/auth/password/forgot", data={"email": "nobody@example.test"},
                       follow_redirects=True)
    assert "If an account uses that e-mail, a reset link is on its way." in text(resp)
    assert len(outbox) == 0


def test_forgot_password_with_an_invalid_email_sends_nothing(client, outbox):
    resp = client.post("/auth/password/forgot", data={"email": "nonsense"})
    assert resp.status_code == 302
    assert len(outbox) == 0


def test_forgot_password_without_an_email_shows_the_error(client):
    resp = client.post("/auth/password/forgot", data={})
    assert resp.status_code == 422
    assert "This field is required." in text(resp)


def test_reset_with_a_weak_password_shows_why_and_keeps_the_link_valid(client, learner, outbox):
    client.post("/auth/password/forgot", data={"email": learner.email})
    link = link_in(outbox.last(), "/auth/password/reset/")
    resp = client.post(link, data={"password": "short"})
    assert resp.status_code == 422
    assert "Use at least 10 characters." in text(resp)
    assert client.get(link).status_code == 200


def test_reset_form_for_htmx_is_the_form_only(client, htmx, learner, outbox):
    client.post("/auth/password/forgot", data={"email": learner.email})
    resp = htmx.get(link_in(outbox.last(), "/auth/password/reset/"))
    assert resp.status_code == 200
    assert b"<html" not in resp.data and b"Save the new password" in resp.data


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "x" * 3000])
def test_reset_with_a_bad_link_is_a_clear_400_page(client, token):
    resp = client.get(f"/auth/password/reset/{token}")
    assert resp.status_code == 400
    assert b"<html" in resp.data
    assert "This link is invalid or has expired. Ask for a new one." in text(resp)
    assert 'href="/auth/password/forgot"' in text(resp)


def test_reset_with_a_bad_link_over_htmx_is_an_error_fragment(htmx):
    resp = htmx.get("/auth/password/reset/garbage")
    assert resp.status_code == 400
    assert b"<html" not in resp.data
    assert "This link is invalid or has expired." in text(resp)


def test_reset_link_expires(app, client, learner, outbox, monkeypatch):
    client.post("/auth/password/forgot", data={"email": learner.email})
    link = link_in(outbox.last(), "/auth/password/reset/")
    monkeypatch.setitem(app.config, "PASSWORD_RESET_MAX_AGE", -1)
    resp = client.get(link)
    assert resp.status_code == 400
    assert "has expired" in text(resp)


# --- social log-in (the providers are faked at the HTTP boundary) ----------------------

GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"
GOOGLE_USERINFO_URL = "https://openidconnect.googleapis.com/v1/userinfo"


def start_oauth(client, provider: str = "google") -> str:
    """Open the log-in redirect and return the `state` the provider would send back."""
    resp = client.get(f"/auth/oauth/{provider}")
    assert resp.status_code == 302
    return parse_qs(urlsplit(resp.headers["Location"]).query)["state"][0]


def google_replies(mock, **profile):
    mock.post(GOOGLE_TOKEN_URL, json={"access_token": "ya29.test", "token_type": "Bearer",
                                      "expires_in": 3600})
    mock.get(GOOGLE_USERINFO_URL, json={"sub": "g-123", "email": "gina@example.test",
                                        "email_verified": True, "name": "Gina Google", **profile})


def test_login_page_offers_the_configured_providers(client):
    body = text(client.get("/auth/login"))
    assert 'href="/auth/oauth/google"' in body and 'href="/auth/oauth/github"' in body


def test_oauth_start_redirects_to_the_provider(client):
    resp = client.get("/auth/oauth/google")
    assert resp.status_code == 302
    url = urlsplit(resp.headers["Location"])
    assert (url.scheme, url.netloc, url.path) == ("https", "accounts.google.com", "/o/oauth2/v2/auth")
    query = parse_qs(url.query)
    assert query["client_id"] == ["google-test-client"]
    assert query["redirect_uri"] == ["http://localhost/auth/oauth/google/callback"]
    assert query["state"][0]


@pytest.mark.parametrize("url", ["/auth/oauth/myspace", "/auth/oauth/myspace/callback?code=x"])
def test_unknown_provider_is_404(client, url):
    resp = client.get(url)
    assert resp.status_code == 404 and b"<html" in resp.data


def test_google_sign_in_creates_the_account_and_signs_in(client):
    state = start_oauth(client)
    with responses.RequestsMock() as mock:
        google_replies(mock)
        resp = client.get(f"/auth/oauth/google/callback?code=c0de&state={state}")
        assert "code=c0de" in str(mock.calls[0].request.body)
    assert resp.status_code == 302 and resp.headers["Location"] == "/dashboard/"
    assert user_by_email("gina@example.test").display_name == "Gina Google"
    assert_signed_in(client, "Gina Google")


def test_github_sign_in_uses_the_primary_verified_email(client):
    state = start_oauth(client, "github")
    with responses.RequestsMock() as mock:
        mock.post("https://github.com/login/oauth/access_token",
                  json={"access_token": "gho_test", "token_type": "bearer", "scope": "read:user"})
        mock.get("https://api.github.com/user", json={"id": 42, "login": "octo", "name": None})
        mock.get("https://api.github.com/user/emails", json=[
            {"email": "old@example.test", "primary": False, "verified": True},
            {"email": "octo@example.test", "primary": True, "verified": True}])
        resp = client.get(f"/auth/oauth/github/callback?code=c0de&state={state}")
    assert resp.status_code == 302
    assert user_by_email("octo@example.test").display_name == "octo"


def test_provider_refusal_sends_back_to_login_with_a_message(client):
    state = start_oauth(client)
    resp = client.get(f"/auth/oauth/google/callback?error=access_denied&state={state}")
    assert resp.status_code == 302 and resp.headers["Location"] == "/auth/login"
    assert "Sign-in with Google did not complete" in text(client.get("/auth/login"))
    assert_anonymous(client)


def test_callback_with_a_forged_state_is_refused(client):
    start_oauth(client)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        google_replies(mock)
        resp = client.get("/auth/oauth/google/callback?code=c0de&state=forged")
        assert len(mock.calls) == 0
    assert resp.status_code == 302 and resp.headers["Location"] == "/auth/login"
    assert_anonymous(client)


def test_callback_does_not_echo_text_from_the_query_string(client):
    client.get("/auth/oauth/google/callback?error=Call+555-0100+to+unlock+your+account")
    assert "555-0100" not in text(client.get("/auth/login"))


def test_provider_outage_is_a_message_not_a_server_error(client):
    state = start_oauth(client)
    with responses.RequestsMock() as mock:
        mock.post(GOOGLE_TOKEN_URL, body=requests.ConnectionError("provider down"))
        resp = client.get(f"/auth/oauth/google/callback?code=c0de&state={state}")
    assert resp.status_code == 302 and resp.headers["Location"] == "/auth/login"
    assert "Sign-in with Google did not complete" in text(client.get("/auth/login"))


def test_provider_sign_in_of_a_suspended_user_is_refused_with_the_reason(client, make_user):
    make_user(email="gina@example.test", suspended_at=utcnow(), suspension_reason="Fraud")
    state = start_oauth(client)
    with responses.RequestsMock() as mock:
        google_replies(mock)
        resp = client.get(f"/auth/oauth/google/callback?code=c0de&state={state}")
    assert resp.headers["Location"] == "/auth/login"
    assert "Your account is suspended: Fraud" in text(client.get("/auth/login"))
    assert_anonymous(client)


def test_unverified_provider_email_does_not_take_over_an_account(client, make_user):
    make_user(email="gina@example.test")
    state = start_oauth(client)
    with responses.RequestsMock() as mock:
        google_replies(mock, email_verified=False)
        client.get(f"/auth/oauth/google/callback?code=c0de&state={state}")
    assert "Log in with your password instead." in text(client.get("/auth/login"))
    assert_anonymous(client)
