"""Social log-in (app/accounts/oauth.py): the linking rules, then the real callback flow
against faked Google and GitHub HTTP endpoints."""
from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
import sqlalchemy as sa

from app.accounts.errors import AccountSuspended
from app.accounts.models import OAuthIdentity, User
from app.accounts.oauth import ProviderProfile, enabled_providers, sign_in_with_provider
from app.accounts.queries import user_by_email
from app.errors import Conflict, Invalid

GOOGLE_TOKEN = "https://oauth2.googleapis.com/token"
GOOGLE_USERINFO = "https://openidconnect.googleapis.com/v1/userinfo"
GITHUB_TOKEN = "https://github.com/login/oauth/access_token"
GITHUB_USER = "https://api.github.com/user"
GITHUB_EMAILS = "https://api.github.com/user/emails"


def google(subject="g-123", email="ada@example.com", verified=True, name="Ada Lovelace"):
    return ProviderProfile("google", subject, email, verified, name)


def _identities(db, user=None) -> list[tuple[str, str]]:
    stmt = sa.select(OAuthIdentity.provider, OAuthIdentity.subject)
    if user is not None:
        stmt = stmt.where(OAuthIdentity.user_id == user.id)
    return [tuple(row) for row in db.session.execute(stmt)]


def _suspend(db, user, until=None):
    user.suspended_at = datetime(2020, 1, 1, tzinfo=UTC)
    user.suspended_until = until
    user.suspension_reason = "Fraud"
    db.session.commit()


# --- the rules ---------------------------------------------------------------------------


def test_known_identity_signs_in_its_user(db, learner):
    db.session.add(OAuthIdentity(user_id=learner.id, provider="google", subject="g-123",
                                 email=learner.email))
    db.session.commit()
    assert sign_in_with_provider(google(email="whatever@example.com", verified=False)) is learner


def test_verified_matching_email_links_the_existing_account(db, make_user, emitted):
    ada = make_user(email="ada@example.com")
    user = sign_in_with_provider(google(email="ADA@example.com"))
    db.session.commit()
    assert user is ada
    assert _identities(db, ada) == [("google", "g-123")]
    assert ada.password_hash is not None  # the password still works
    assert "accounts.user.signed_up" not in [e.name for e in emitted]


def test_linked_identity_is_used_the_next_time(db, make_user):
    ada = make_user(email="ada@example.com")
    sign_in_with_provider(google())
    db.session.commit()
    assert sign_in_with_provider(google()) is ada
    db.session.commit()
    assert _identities(db) == [("google", "g-123")]


def test_unverified_matching_email_is_refused_and_links_nothing(db, make_user):
    ada = make_user(email="ada@example.com")
    with pytest.raises(Conflict, match="Log in with your password"):
        sign_in_with_provider(google(verified=False))
    db.session.commit()
    assert _identities(db, ada) == []


def test_new_email_creates_an_account_without_a_password(db, emitted):
    user = sign_in_with_provider(google(email="New.Person@Example.com", name="  New Person "))
    db.session.commit()
    assert (user.email, user.display_name) == ("new.person@example.com", "New Person")
    assert user.password_hash is None
    assert user.email_verified_at is not None
    assert _identities(db, user) == [("google", "g-123")]
    assert [e.payload for e in emitted if e.name == "accounts.user.signed_up"] == [{"user_id": user.id}]


def test_an_unverified_email_cannot_start_a_new_account(db):
    with pytest.raises(Invalid, match="not verified"):
        sign_in_with_provider(google(email="new@example.com", verified=False))
    assert user_by_email("new@example.com") is None

def test_new_account_without_a_name_is_named_after_the_email(db):
    assert sign_in_with_provider(google(email="grace@example.com", name="")).display_name == "grace"


def test_very_long_provider_name_is_shortened(db):
    assert len(sign_in_with_provider(google(name="N" * 300)).display_name) == 80


def test_profile_without_an_email_is_refused(db):
    with pytest.raises(Invalid, match="no e-mail"):
        sign_in_with_provider(google(email=None))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_suspended_user_with_a_known_identity_is_refused(db, learner):
    db.session.add(OAuthIdentity(user_id=learner.id, provider="google", subject="g-123"))
    db.session.commit()
    _suspend(db, learner)
    with pytest.raises(AccountSuspended, match="Fraud"):
        sign_in_with_provider(google())


def test_suspended_user_with_a_matching_email_is_refused_and_not_linked(db, make_user):
    ada = make_user(email="ada@example.com")
    _suspend(db, ada)
    with pytest.raises(AccountSuspended):
        sign_in_with_provider(google())
    db.session.commit()
    assert _identities(db) == []


def test_user_whose_suspension_ended_signs_in(db, make_user):
    ada = make_user(email="ada@example.com")
    _suspend(db, ada, until=datetime(2021, 1, 1, tzinfo=UTC))
    assert sign_in_with_provider(google()) is ada


def test_same_subject_at_another_provider_is_another_identity(db, make_user):
    ada = make_user(email="ada@example.com")
    sign_in_with_provider(google(subject="42"))
    sign_in_with_provider(ProviderProfile("github", "42", "ada@example.com", True, "ada"))
    db.session.commit()
    assert sorted(_identities(db, ada)) == [("github", "42"), ("google", "42")]


def test_configured_providers_are_offered(app):
    assert enabled_providers(app) == [("google", "Google"), ("github", "GitHub")]


# --- the HTTP flow, with the providers faked at the HTTP boundary ------------------------


@pytest.fixture
def provider_http():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def _start(client, provider: str) -> dict:
    """Follow the log-in button; return the provider authorisation URL's query."""
    resp = client.get(f"/auth/oauth/{provider}")
    assert resp.status_code == 302
    query = parse_qs(urlsplit(resp.headers["Location"]).query)
    assert query["client_id"] == [f"{provider}-test-client"]
    assert query["redirect_uri"] == [f"http://localhost/auth/oauth/{provider}/callback"]
    return query


def _fake_google(mock, *, sub="g-123", email="ada@example.com", verified=True, name="Ada Lovelace"):
    mock.add(responses.POST, GOOGLE_TOKEN,
             json={"access_token": "google-access", "token_type": "Bearer", "expires_in": 3599,
                   "scope": "email profile"})
    mock.add(responses.GET, GOOGLE_USERINFO,
             json={"sub": sub, "email": email, "email_verified": verified, "name": name})


def _fake_github(mock, *, uid=4242, login="octoada", name="Ada Octo", emails=None):
    mock.add(responses.POST, GITHUB_TOKEN,
             json={"access_token": "github-access", "token_type": "bearer",
                   "scope": "read:user,user:email"})
    mock.add(responses.GET, GITHUB_USER, json={"id": uid, "login": login, "name": name,
                                               "email": None})
    mock.add(responses.GET, GITHUB_EMAILS, json=emails if emails is not None else [
        {"email": "ada@users.noreply.github.com", "primary": False, "verified": True},
        {"email": "ada@example.com", "primary": True, "verified": True},
    ])


def _signed_in(client) -> bool:
    return client.get("/dashboard/").status_code == 200


def test_google_sign_in_creates_the_account_and_logs_in(db, client, provider_http):
    _fake_google(provider_http)
    state = _start(client, "google")["state"][0]
    resp = client.get(f"/auth/oauth/google/callback?code=the-code&state={state}")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/dashboard/")
    assert _signed_in(client)
    user = db.session.scalar(sa.select(User).where(User.email == "ada@example.com"))
    assert user.display_name == "Ada Lovelace"
    assert _identities(db, user) == [("google", "g-123")]


def test_google_callback_sends_the_code_and_uses_the_access_token(client, provider_http):
    _fake_google(provider_http)
    state = _start(client, "google")["state"][0]
    client.get(f"/auth/oauth/google/callback?code=the-code&state={state}")
    token_call = next(c for c in provider_http.calls if c.request.url == GOOGLE_TOKEN)
    sent = parse_qs(token_call.request.body)
    assert sent["code"] == ["the-code"] and sent["grant_type"] == ["authorization_code"]
    assert sent["redirect_uri"] == ["http://localhost/auth/oauth/google/callback"]
    userinfo_call = next(c for c in provider_http.calls if c.request.url == GOOGLE_USERINFO)
    assert userinfo_call.request.headers["Authorization"] == "Bearer google-access"


def test_google_sign_in_links_a_verified_existing_account(db, client, provider_http, make_user):
    ada = make_user(email="ada@example.com")
    _fake_google(provider_http)
    state = _start(client, "google")["state"][0]
    client.get(f"/auth/oauth/google/callback?code=x&state={state}")
    assert _signed_in(client)
    assert _identities(db, ada) == [("google", "g-123")]


def test_google_unverified_email_of_an_existing_account_does_not_log_in(db, client, provider_http,
                                                                         make_user):
    ada = make_user(email="ada@example.com")
    _fake_google(provider_http, verified=False)
    state = _start(client, "google")["state"][0]
    resp = client.get(f"/auth/oauth/google/callback?code=x&state={state}")
    assert resp.status_code == 302 and "/auth/login" in resp.headers["Location"]
    assert not _signed_in(client)
    assert _identities(db, ada) == []


def test_github_sign_in_uses_the_primary_verified_email(db, client, provider_http):
    _fake_github(provider_http)
    state = _start(client, "github")["state"][0]
    client.get(f"/auth/oauth/github/callback?code=x&state={state}")
    assert _signed_in(client)
    user = db.session.scalar(sa.select(User).where(User.email == "ada@example.com"))
    assert user.display_name == "Ada Octo" and user.email_verified_at is not None
    assert _identities(db, user) == [("github", "4242")]


def test_github_token_is_asked_for_as_json(client, provider_http):
    # GitHub answers form-encoded unless the request accepts JSON.
    _fake_github(provider_http)
    state = _start(client, "github")["state"][0]
    client.get(f"/auth/oauth/github/callback?code=x&state={state}")
    token_call = next(c for c in provider_http.calls if c.request.url == GITHUB_TOKEN)
    assert "application/json" in token_call.request.headers["Accept"]
    user_call = next(c for c in provider_http.calls if c.request.url == GITHUB_USER)
    assert user_call.request.headers["Authorization"] == "Bearer github-access"


def test_github_unverified_primary_email_does_not_link(db, client, provider_http, make_user):
    ada = make_user(email="ada@example.com")
    _fake_github(provider_http, emails=[{"email": "ada@example.com", "primary": True,
                                         "verified": False}])
    state = _start(client, "github")["state"][0]
    client.get(f"/auth/oauth/github/callback?code=x&state={state}")
    assert not _signed_in(client)
    assert _identities(db, ada) == []


def test_suspended_user_is_not_logged_in_by_a_provider(db, client, provider_http, make_user):
    ada = make_user(email="ada@example.com")
    _suspend(db, ada)
    _fake_google(provider_http)
    state = _start(client, "google")["state"][0]
    resp = client.get(f"/auth/oauth/google/callback?code=x&state={state}")
    assert "/auth/login" in resp.headers["Location"]
    assert not _signed_in(client)


def test_callback_with_a_forged_state_is_refused(db, client, provider_http):
    _fake_google(provider_http)
    _start(client, "google")
    resp = client.get("/auth/oauth/google/callback?code=x&state=forged")
    assert "/auth/login" in resp.headers["Location"]
    assert not _signed_in(client)
    assert not any(c.request.url == GOOGLE_TOKEN for c in provider_http.calls)


def test_state_cannot_be_used_twice(db, client, provider_http):
    _fake_google(provider_http)
    state = _start(client, "google")["state"][0]
    client.get(f"/auth/oauth/google/callback?code=x&state={state}")
    client.post("/auth/logout")
    client.get(f"/auth/oauth/google/callback?code=x&state={state}")
    assert not _signed_in(client)


def test_provider_error_is_reported_without_logging_in(db, client, provider_http):
    state = _start(client, "google")["state"][0]
    resp = client.get(f"/auth/oauth/google/callback?error=access_denied&state={state}")
    assert "/auth/login" in resp.headers["Location"]
    assert not _signed_in(client)
    assert len(provider_http.calls) == 0


def test_unknown_provider_is_not_found(client):
    assert client.get("/auth/oauth/myspace").status_code == 404
    assert client.get("/auth/oauth/myspace/callback?code=x&state=y").status_code == 404
