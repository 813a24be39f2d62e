"""Settings: "Apps with access to your account" (app/blueprints/oauth/apps.py): the list, and
removing an app, which stops its tokens at once."""
from __future__ import annotations

import pytest

from app.accounts.oauth_server import authenticate_oauth_token
from app.accounts.scopes import SCOPES
from tests.support.oauth import issue_tokens, register
from tests.support.pages import form_token, text


@pytest.fixture
def app_client():
    return register(name="Study Buddy").client


def test_the_page_needs_a_signed_in_user(client):
    resp = client.get("/oauth/apps")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/auth/login")


def test_the_settings_link_to_the_apps_page(client, login, learner):
    login(learner)
    assert "/oauth/apps" in text(client.get("/auth/settings"))


def test_the_page_lists_the_apps_with_what_they_can_do(client, login, learner, creator, app_client):
    mobile = register(name="Lyceum mobile", first_party=True, scopes="read learn sell").client
    issue_tokens(app_client, learner, scope="read")
    issue_tokens(mobile, creator, scope="read sell")  # someone else's
    login(learner)
    page = text(client.get("/oauth/apps"))
    assert "Study Buddy" in page and "third-party app" in page
    assert SCOPES["read"] in page
    assert "Lyceum mobile" not in page


def test_a_user_with_no_app_sees_so(client, login, learner):
    login(learner)
    assert "No app has access to your account." in text(client.get("/oauth/apps"))


def test_removing_an_app_stops_its_tokens_at_once(client, login, learner, app_client):
    tokens = issue_tokens(app_client, learner)
    login(learner)
    resp = client.post(f"/oauth/apps/{app_client.client_id}/revoke")
    assert resp.status_code == 302 and resp.headers["Location"] == "/oauth/apps"
    assert authenticate_oauth_token(tokens["access_token"]) is None
    page = text(client.get("/oauth/apps"))
    assert "Study Buddy no longer has access" in page and "No app has access" in page


def test_removing_an_app_of_someone_else_is_a_404(client, login, learner, creator, app_client):
    theirs = issue_tokens(app_client, creator)
    login(learner)
    assert client.post(f"/oauth/apps/{app_client.client_id}/revoke").status_code == 404
    assert client.post("/oauth/apps/no-such-app/revoke").status_code == 404
    assert authenticate_oauth_token(theirs["access_token"]) is not None


def test_removing_an_app_needs_the_csrf_token(client, login, learner, app_client, csrf_on):
    tokens = issue_tokens(app_client, learner)
    login(learner)
    assert client.post(f"/oauth/apps/{app_client.client_id}/revoke").status_code == 400
    assert authenticate_oauth_token(tokens["access_token"]) is not None
    token = form_token(client.get("/oauth/apps"))
    assert client.post(f"/oauth/apps/{app_client.client_id}/revoke", data={"csrf_token": token}).status_code == 302
    assert authenticate_oauth_token(tokens["access_token"]) is None


def test_removing_needs_a_signed_in_user(client, learner, app_client):
    tokens = issue_tokens(app_client, learner)
    resp = client.post(f"/oauth/apps/{app_client.client_id}/revoke")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/auth/login")
    assert authenticate_oauth_token(tokens["access_token"]) is not None
