"""The OAuth 2.0 endpoints through the test client, as an app and a browser use them: the
consent page, the code flow with PKCE S256, refresh rotation, revocation (RFC 7009) and the
metadata document; and every way a request is refused."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.accounts.models import OAuthAuthorizationCode, OAuthToken
from app.accounts.oauth_server import authenticate_oauth_token
from app.accounts.scopes import SCOPES
from app.dbtypes import utcnow
from app.extensions import db
from app.moderation.suspensions import suspend_user
from tests.support.oauth import (
    REDIRECT_URI,
    allow,
    authorize_url,
    exchange,
    obtain_tokens,
    pkce_pair,
    query_of,
    refresh,
    register,
)
from tests.support.pages import form_token, text


@pytest.fixture
def app_client():
    """A public third-party app (no secret: PKCE) that may ask for read and learn."""
    return register().client


def error_of(resp) -> str:
    return resp.get_json()["error"]


# --- the consent page ----------------------------------------------------------------------

def test_the_consent_page_needs_a_signed_in_user(client, app_client):
    url = authorize_url(app_client, challenge=pkce_pair()[1])
    resp = client.get(url)
    assert resp.status_code == 302
    location = resp.headers["Location"]
    assert location.startswith("/auth/login?next=") and "oauth" in location
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OAuthAuthorizationCode)) == 0


def test_the_consent_page_names_the_app_and_each_scope_in_plain_english(client, login, learner):
    third = register(name="Flashcards Pro").client
    first = register(name="Lyceum mobile", first_party=True).client
    login(learner)
    page = text(client.get(authorize_url(third, challenge=pkce_pair()[1])))
    assert "Flashcards Pro" in page and "third-party app" in page
    assert SCOPES["read"] in page
    assert SCOPES["learn"] in page
    assert "Create and edit your courses" not in page  # not asked for
    assert "go back to <strong>https://app.example.test</strong>" in page
    page = text(client.get(authorize_url(first, challenge=pkce_pair()[1], scope="read")))
    assert "an app made by Lyceum" in page and "Enroll, take lessons" not in page


def test_without_a_scope_the_app_asks_for_all_it_was_registered_with(client, login, learner, app_client):
    login(learner)
    page = text(client.get(authorize_url(app_client, challenge=pkce_pair()[1], scope=None)))
    assert SCOPES["read"] in page and SCOPES["learn"] in page
    tokens = obtain_tokens(client, app_client, scope=None)
    assert tokens["scope"] == "read learn"


def test_the_full_code_flow_with_pkce_gives_tokens_that_authenticate(client, login, learner, app_client):
    login(learner)
    verifier, challenge = pkce_pair()
    page = client.get(authorize_url(app_client, challenge=challenge))
    assert page.status_code == 200 and "Allow" in text(page)
    resp = client.post(authorize_url(app_client, challenge=challenge), data={"decision": "allow"})
    assert resp.status_code == 302
    location = resp.headers["Location"]
    assert location.startswith(REDIRECT_URI + "?")
    query = query_of(location)
    assert query["state"] == "state-123"
    token_resp = exchange(client, app_client, query["code"], verifier)
    assert token_resp.status_code == 200
    assert token_resp.headers["Cache-Control"] == "no-store"
    body = token_resp.get_json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600 and body["scope"] == "read learn"
    assert body["access_token"].startswith("lyc_oat_") and body["refresh_token"].startswith("lyc_ort_")
    grant = authenticate_oauth_token(body["access_token"])
    assert grant.user.id == learner.id and grant.kind == "oauth"
    assert grant.scopes == {"read", "learn"} and grant.client_id == app_client.client_id
    assert grant.allows("learn") and not grant.allows("sell")
    # only hashes are kept
    row = db.session.get(OAuthToken, grant.token_id)
    assert body["access_token"] not in (row.access_token_hash, row.refresh_token_hash)
    stored = db.session.scalar(sa.select(OAuthAuthorizationCode.code_hash))
    assert stored != query["code"] and len(stored) == 64


def test_a_confidential_app_authenticates_with_its_secret(client, login, learner):
    registered = register(name="Course Sync", public=False)
    app = registered.client
    login(learner)
    code, verifier = allow(client, app)
    assert error_of(exchange(client, app, code, verifier)) == "invalid_client"  # no secret
    code, verifier = allow(client, app)
    assert error_of(exchange(client, app, code, verifier, secret="lyc_ocs_wrong")) == "invalid_client"
    code, verifier = allow(client, app)
    resp = exchange(client, app, code, verifier, secret=registered.secret)
    assert resp.status_code == 200 and authenticate_oauth_token(resp.get_json()["access_token"])


def test_deny_goes_back_to_the_app_with_access_denied(client, login, learner, app_client):
    login(learner)
    resp = client.post(authorize_url(app_client, challenge=pkce_pair()[1]), data={"decision": "deny"})
    assert resp.status_code == 302
    query = query_of(resp.headers["Location"])
    assert resp.headers["Location"].startswith(REDIRECT_URI)
    assert query["error"] == "access_denied" and query["state"] == "state-123" and "code" not in query
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OAuthAuthorizationCode)) == 0


def test_the_consent_form_needs_the_csrf_token(client, login, learner, app_client, csrf_on):
    login(learner)
    url = authorize_url(app_client, challenge=pkce_pair()[1])
    resp = client.post(url, data={"decision": "allow"})
    assert resp.status_code == 400 and "Location" not in resp.headers
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OAuthAuthorizationCode)) == 0
    token = form_token(client.get(url))
    assert client.post(url, data={"decision": "allow", "csrf_token": token}).status_code == 302


def test_neither_allow_nor_deny_is_a_400(client, login, learner, app_client):
    login(learner)
    resp = client.post(authorize_url(app_client, challenge=pkce_pair()[1]), data={"decision": "maybe"})
    assert resp.status_code == 400 and "Location" not in resp.headers


@pytest.mark.parametrize("redirect_uri", ["https://evil.example.test/callback",
                                          REDIRECT_URI + "/../steal", REDIRECT_URI + "?x=1"])
def test_an_unregistered_redirect_uri_is_never_redirected_to(client, login, learner, app_client, redirect_uri):
    login(learner)
    url = authorize_url(app_client, challenge=pkce_pair()[1], redirect_uri=redirect_uri)
    for resp in (client.get(url), client.post(url, data={"decision": "allow"}),
                 client.post(url, data={"decision": "deny"})):
        assert resp.status_code == 400 and "Location" not in resp.headers
        assert "not valid" in text(resp)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OAuthAuthorizationCode)) == 0


def test_an_unknown_app_gets_an_error_page(client, login, learner, app_client):
    login(learner)
    url = authorize_url(app_client, challenge=pkce_pair()[1]).replace(app_client.client_id, "no-such-app")
    resp = client.get(url)
    assert resp.status_code == 400 and "Location" not in resp.headers
    resp = client.get("/oauth/authorize")
    assert resp.status_code == 400 and "Location" not in resp.headers


def test_a_scope_the_app_may_not_ask_for_is_refused(client, login, learner, app_client):
    login(learner)
    for scope in ("read sell", "read nonsense"):
        resp = client.get(authorize_url(app_client, challenge=pkce_pair()[1], scope=scope))
        assert resp.status_code == 302
        query = query_of(resp.headers["Location"])
        assert query["error"] == "invalid_scope" and "code" not in query


def test_an_admin_scope_needs_the_permission(client, login, learner, moderator):
    admin_tool = register(name="Mod Tool", scopes="read admin:moderate", first_party=True).client
    login(learner)
    resp = client.post(authorize_url(admin_tool, challenge=pkce_pair()[1], scope="read admin:moderate"),
                       data={"decision": "allow"})
    assert resp.status_code == 302
    assert query_of(resp.headers["Location"])["error"] == "invalid_scope"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OAuthAuthorizationCode)) == 0
    client.post("/auth/logout")
    login(moderator)
    page = text(client.get(authorize_url(admin_tool, challenge=pkce_pair()[1], scope="read admin:moderate")))
    assert "Act as an admin: moderate" in page
    tokens = obtain_tokens(client, admin_tool, scope="read admin:moderate")
    assert authenticate_oauth_token(tokens["access_token"]).allows("admin:moderate")


def test_a_public_app_must_use_pkce_with_s256(client, login, learner, app_client):
    login(learner)
    resp = client.get(authorize_url(app_client))  # no code_challenge
    assert query_of(resp.headers["Location"])["error"] == "invalid_request"
    verifier, challenge = pkce_pair()
    resp = client.get(authorize_url(app_client, challenge=challenge, method="plain"))
    assert query_of(resp.headers["Location"])["error"] == "invalid_request"
    resp = client.get(authorize_url(app_client, challenge=challenge, method=None))
    assert query_of(resp.headers["Location"])["error"] == "invalid_request"


# --- the token endpoint --------------------------------------------------------------------

def test_a_wrong_code_verifier_is_refused(client, login, learner, app_client):
    login(learner)
    code, _verifier = allow(client, app_client)
    other_verifier, _ = pkce_pair()
    resp = exchange(client, app_client, code, other_verifier)
    assert resp.status_code == 400 and error_of(resp) == "invalid_grant"
    code, _verifier = allow(client, app_client)
    resp = exchange(client, app_client, code, None)
    assert resp.status_code == 400 and error_of(resp) == "invalid_request"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OAuthToken)) == 0


def test_a_code_works_once_and_a_second_use_revokes_what_the_first_got(client, login, learner, app_client):
    login(learner)
    code, verifier = allow(client, app_client)
    first = exchange(client, app_client, code, verifier).get_json()
    assert authenticate_oauth_token(first["access_token"])
    again = exchange(client, app_client, code, verifier)
    assert again.status_code == 400 and error_of(again) == "invalid_grant"
    db.session.expire_all()
    assert authenticate_oauth_token(first["access_token"]) is None
    assert refresh(client, app_client, first["refresh_token"]).status_code == 400


def test_an_expired_code_is_refused(client, login, learner, app_client):
    login(learner)
    code, verifier = allow(client, app_client)
    db.session.execute(sa.update(OAuthAuthorizationCode).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    resp = exchange(client, app_client, code, verifier)
    assert resp.status_code == 400 and error_of(resp) == "invalid_grant"


def test_the_code_is_bound_to_its_app_and_redirect_uri(client, login, learner, app_client):
    other = register(name="Other App").client
    login(learner)
    code, verifier = allow(client, app_client)
    assert error_of(exchange(client, other, code, verifier)) == "invalid_grant"
    code, verifier = allow(client, app_client)
    assert error_of(exchange(client, app_client, code, verifier,
                             redirect_uri="https://app.example.test/other")) == "invalid_grant"


def test_refresh_rotates_and_the_old_refresh_token_stops(client, login, learner, app_client):
    login(learner)
    first = obtain_tokens(client, app_client)
    resp = refresh(client, app_client, first["refresh_token"])
    assert resp.status_code == 200
    second = resp.get_json()
    assert second["refresh_token"] != first["refresh_token"] and second["access_token"] != first["access_token"]
    assert authenticate_oauth_token(second["access_token"]).scopes == {"read", "learn"}
    assert authenticate_oauth_token(first["access_token"]) is None  # the old row is revoked whole
    reuse = refresh(client, app_client, first["refresh_token"])
    assert reuse.status_code == 400 and error_of(reuse) == "invalid_grant"
    # the old one came back: someone holds a copy, so its successors stop too
    db.session.expire_all()
    assert authenticate_oauth_token(second["access_token"]) is None
    assert refresh(client, app_client, second["refresh_token"]).status_code == 400


def test_refresh_may_narrow_the_scope_but_never_widen_it(client, login, learner, app_client):
    login(learner)
    tokens = obtain_tokens(client, app_client)
    narrowed = refresh(client, app_client, tokens["refresh_token"], scope="read").get_json()
    assert authenticate_oauth_token(narrowed["access_token"]).scopes == {"read"}
    wider = refresh(client, app_client, narrowed["refresh_token"], scope="read learn")
    assert wider.status_code == 400 and error_of(wider) == "invalid_scope"


def test_a_suspended_user_gets_no_new_tokens(client, login, learner, admin, app_client):
    login(learner)
    code, verifier = allow(client, app_client)
    tokens = obtain_tokens(client, app_client)
    suspend_user(admin, learner, reason="Spam")
    db.session.commit()
    for resp in (refresh(client, app_client, tokens["refresh_token"]), exchange(client, app_client, code, verifier)):
        assert resp.status_code == 400 and error_of(resp) == "invalid_grant"
        assert "suspended" in resp.get_json()["error_description"]


def test_another_apps_refresh_token_is_refused(client, login, learner, app_client):
    other = register(name="Other App").client
    login(learner)
    tokens = obtain_tokens(client, app_client)
    assert error_of(refresh(client, other, tokens["refresh_token"])) == "invalid_grant"


def test_an_unsupported_grant_type_is_a_json_400(client, app_client):
    resp = client.post("/oauth/token", data={"grant_type": "password", "client_id": app_client.client_id})
    assert resp.status_code == 400 and error_of(resp) == "unsupported_grant_type"


def test_the_token_endpoint_is_rate_limited_like_log_in(app, client, app_client):
    app.config["RATELIMIT_LOGIN"] = "2 per minute"
    try:
        statuses = [client.post("/oauth/token", data={"grant_type": "refresh_token",
                                                      "client_id": app_client.client_id,
                                                      "refresh_token": "lyc_ort_x"}).status_code
                    for _ in range(3)]
    finally:
        app.config["RATELIMIT_LOGIN"] = "1000 per minute"
    assert statuses == [400, 400, 429]


def test_the_token_endpoint_takes_no_csrf_token(client, login, learner, app_client, csrf_on):
    login(learner)
    verifier, challenge = pkce_pair()
    url = authorize_url(app_client, challenge=challenge)
    resp = client.post(url, data={"decision": "allow", "csrf_token": form_token(client.get(url))})
    code = query_of(resp.headers["Location"])["code"]
    assert exchange(client, app_client, code, verifier).status_code == 200


def test_plain_http_is_refused_except_on_the_loopback_address(client, app_client):
    data = {"grant_type": "refresh_token", "client_id": app_client.client_id, "refresh_token": "lyc_ort_x"}
    resp = client.post("/oauth/token", data=data, base_url="http://lyceum.example.test")
    assert resp.status_code == 400 and error_of(resp) == "insecure_transport"
    resp = client.post("/oauth/token", data=data, base_url="https://lyceum.example.test")
    assert resp.status_code == 400 and error_of(resp) == "invalid_grant"


# --- revocation ----------------------------------------------------------------------------

@pytest.mark.parametrize("which", ["access_token", "refresh_token"])
def test_revoking_a_token_stops_it_at_once(client, login, learner, app_client, which):
    login(learner)
    tokens = obtain_tokens(client, app_client)
    resp = client.post("/oauth/revoke", data={"token": tokens[which], "token_type_hint": which,
                                              "client_id": app_client.client_id})
    assert resp.status_code == 200
    db.session.expire_all()
    assert authenticate_oauth_token(tokens["access_token"]) is None
    assert refresh(client, app_client, tokens["refresh_token"]).status_code == 400


def test_revoking_an_unknown_token_is_still_a_200(client, app_client):
    resp = client.post("/oauth/revoke", data={"token": "lyc_oat_nothing", "client_id": app_client.client_id})
    assert resp.status_code == 200


def test_an_app_cannot_revoke_another_apps_token(client, login, learner, app_client):
    other = register(name="Other App").client
    login(learner)
    tokens = obtain_tokens(client, app_client)
    resp = client.post("/oauth/revoke", data={"token": tokens["access_token"], "client_id": other.client_id})
    assert resp.status_code == 400
    assert authenticate_oauth_token(tokens["access_token"]) is not None


def test_logging_out_of_the_browser_does_not_revoke_tokens(client, login, learner, app_client):
    login(learner)
    tokens = obtain_tokens(client, app_client)
    client.post("/auth/logout")
    assert authenticate_oauth_token(tokens["access_token"]).user.id == learner.id


# --- metadata ------------------------------------------------------------------------------

def test_the_metadata_document_names_the_endpoints(client):
    doc = client.get("/.well-known/oauth-authorization-server").get_json()
    assert doc["issuer"] == "http://localhost"
    assert doc["authorization_endpoint"] == "http://localhost/oauth/authorize"
    assert doc["token_endpoint"] == "http://localhost/oauth/token"
    assert doc["revocation_endpoint"] == "http://localhost/oauth/revoke"
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert "read" in doc["scopes_supported"] and doc["response_types_supported"] == ["code"]
