"""The OAuth 2.0 server's rules (app/accounts/oauth_server.py): registering apps, scopes,
codes, what an access token resolves to, suspension, and removing an app."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.accounts import oauth_server, sessions
from app.accounts.errors import AccountSuspended
from app.accounts.models import OAuthAuthorizationCode, OAuthClient, OAuthToken
from app.accounts.oauth_server import authenticate_oauth_token
from app.dbtypes import utcnow
from app.errors import Invalid, NotFound
from app.extensions import db
from app.moderation.suspensions import suspend_user, unsuspend_user
from tests.support.oauth import REDIRECT_URI, issue_tokens, pkce_pair, register


@pytest.fixture
def app_client():
    return register().client


# --- registering apps ----------------------------------------------------------------------

def test_a_public_app_has_no_secret():
    registered = register(name="Lyceum mobile", redirect_uris=("lyceum://callback",), public=True,
                          first_party=True)
    assert registered.secret is None and registered.client.is_public
    assert registered.client.client_secret_hash is None and registered.client.is_first_party
    assert registered.client.check_endpoint_auth_method("none", "token")
    assert not registered.client.check_endpoint_auth_method("client_secret_post", "token")


def test_a_confidential_app_gets_its_secret_once_and_only_its_hash_is_kept():
    registered = register(public=False)
    client = db.session.get(OAuthClient, registered.client.id)
    assert registered.secret.startswith("lyc_ocs_")
    assert registered.secret not in client.client_secret_hash
    assert client.check_client_secret(registered.secret)
    assert not client.check_client_secret(registered.secret + "x")
    assert not client.check_endpoint_auth_method("none", "token")


@pytest.mark.parametrize("uri", ["javascript:alert(1)", "http://app.example.test/cb", "https://app.example.test/cb#x",
                                 "data:text/html,hi", "", "/relative/callback", "https:///no-host"])
def test_a_redirect_uri_must_be_safe(uri):
    with pytest.raises(Invalid):
        oauth_server.register_client(name="App", redirect_uris=[uri], scopes="read", public=True)


@pytest.mark.parametrize("uri", ["https://app.example.test/cb", "http://127.0.0.1:8765/cb",
                                 "http://localhost/cb", "lyceum://callback", "com.example.app:/oauth"])
def test_https_loopback_and_an_apps_own_scheme_are_accepted(uri):
    assert oauth_server.check_redirect_uri(uri) == uri


@pytest.mark.parametrize("fields", [{"name": " "}, {"scopes": "read everything"}, {"scopes": ""},
                                    {"redirect_uris": []}])
def test_an_app_needs_a_name_known_scopes_and_a_redirect_uri(fields):
    kwargs = {"name": "App", "redirect_uris": [REDIRECT_URI], "scopes": "read", "public": True, **fields}
    with pytest.raises(Invalid):
        oauth_server.register_client(**kwargs)


# --- scopes and codes ----------------------------------------------------------------------

def test_requested_scopes_must_be_the_apps_and_grantable_by_the_user(learner, moderator):
    tool = register(scopes="read admin:moderate").client
    assert oauth_server.check_requested_scopes(tool, moderator, "read admin:moderate") == {"read", "admin:moderate"}
    with pytest.raises(Invalid, match="permission"):
        oauth_server.check_requested_scopes(tool, learner, "read admin:moderate")
    with pytest.raises(Invalid, match="may not ask"):
        oauth_server.check_requested_scopes(tool, moderator, "read sell")
    with pytest.raises(Invalid):
        oauth_server.check_requested_scopes(tool, moderator, "")


def test_a_public_app_gets_no_code_without_pkce_s256(learner, app_client):
    for challenge, method in ((None, None), (pkce_pair()[1], "plain")):
        with pytest.raises(Invalid, match="PKCE"):
            oauth_server.create_authorization_code(app_client, learner, redirect_uri=REDIRECT_URI, scope="read",
                                                   code_challenge=challenge, code_challenge_method=method)


def test_a_code_is_claimed_once_and_only_by_its_app_before_it_expires(learner, app_client):
    other = register(name="Other").client
    challenge = pkce_pair()[1]
    now = utcnow()

    def new_code():
        return oauth_server.create_authorization_code(app_client, learner, redirect_uri=REDIRECT_URI,
                                                      scope="read", code_challenge=challenge,
                                                      code_challenge_method="S256", now=now)

    code = new_code()
    assert oauth_server.claim_authorization_code(code, other, now=now) is None
    assert oauth_server.claim_authorization_code(code, app_client, now=now + timedelta(minutes=10)) is None
    assert oauth_server.claim_authorization_code(code, app_client, now=now).used_at == now
    assert oauth_server.claim_authorization_code(code, app_client, now=now) is None
    assert oauth_server.claim_authorization_code("x" * 500, app_client, now=now) is None
    assert oauth_server.claim_authorization_code("", app_client, now=now) is None


# --- what a token resolves to --------------------------------------------------------------

def test_an_access_token_resolves_to_a_grant(learner, app_client):
    tokens = issue_tokens(app_client, learner, scope="read")
    grant = authenticate_oauth_token(tokens["access_token"])
    assert (grant.user.id, grant.scopes, grant.kind, grant.client_id) == (
        learner.id, frozenset({"read"}), "oauth", app_client.client_id)
    assert grant.rate_key == f"oauth:{grant.token_id}"
    assert db.session.get(OAuthToken, grant.token_id).last_used_at is not None


@pytest.mark.parametrize("raw", [None, "", "lyc_oat_unknown", "lyc_pat_something", "x" * 1000])
def test_an_unknown_token_resolves_to_nothing(raw):
    assert authenticate_oauth_token(raw) is None


def test_a_refresh_token_is_no_access_token(learner, app_client):
    tokens = issue_tokens(app_client, learner)
    assert authenticate_oauth_token(tokens["refresh_token"]) is None


def test_an_access_token_expires_after_an_hour_and_its_refresh_token_after_30_days(learner, app_client):
    now = utcnow()
    tokens = issue_tokens(app_client, learner, now=now)
    assert authenticate_oauth_token(tokens["access_token"], now=now + timedelta(minutes=59))
    assert authenticate_oauth_token(tokens["access_token"], now=now + timedelta(hours=1)) is None
    assert oauth_server.find_refresh_token(tokens["refresh_token"], app_client, now=now + timedelta(days=29))
    assert oauth_server.find_refresh_token(tokens["refresh_token"], app_client, now=now + timedelta(days=30)) is None


def test_a_revoked_token_resolves_to_nothing(learner, app_client):
    tokens = issue_tokens(app_client, learner)
    oauth_server.revoke_token(oauth_server.find_token(tokens["refresh_token"], "refresh_token"))
    db.session.commit()
    assert authenticate_oauth_token(tokens["access_token"]) is None


def test_a_suspended_users_tokens_stop_at_once(admin, learner, app_client):
    tokens = issue_tokens(app_client, learner)
    suspend_user(admin, learner, reason="Spam")
    db.session.commit()
    with pytest.raises(AccountSuspended, match="Spam"):
        authenticate_oauth_token(tokens["access_token"])
    unsuspend_user(admin, learner)
    db.session.commit()
    assert authenticate_oauth_token(tokens["access_token"]).user.id == learner.id


def test_ending_browser_sessions_does_not_revoke_tokens(learner, app_client, open_session):
    open_session(learner)
    tokens = issue_tokens(app_client, learner)
    sessions.revoke_session(learner, learner.session_id)
    sessions.end_all_sessions(learner)
    db.session.commit()
    assert authenticate_oauth_token(tokens["access_token"]).user.id == learner.id


# --- the apps a user has let in ------------------------------------------------------------

def test_authorized_apps_lists_each_app_with_its_scopes(learner, creator, app_client):
    first = register(name="Lyceum mobile", first_party=True, scopes="read learn sell").client
    issue_tokens(app_client, learner, scope="read")
    issue_tokens(app_client, learner, scope="learn")
    issue_tokens(first, learner, scope="read sell")
    issue_tokens(first, creator, scope="read")
    apps = oauth_server.authorized_apps(learner)
    assert [(a.name, a.is_first_party, a.scopes) for a in apps] == [
        ("Lyceum mobile", True, ("read", "sell")), ("Study Buddy", False, ("read", "learn"))]


def test_removing_an_app_revokes_all_its_tokens_and_nothing_else(learner, creator, app_client):
    other = register(name="Other").client
    mine = [issue_tokens(app_client, learner), issue_tokens(app_client, learner)]
    other_app = issue_tokens(other, learner)
    someone_elses = issue_tokens(app_client, creator)
    assert oauth_server.revoke_authorization(learner, app_client.client_id) == 2
    db.session.commit()
    for tokens in mine:
        assert authenticate_oauth_token(tokens["access_token"]) is None
        assert oauth_server.find_refresh_token(tokens["refresh_token"], app_client) is None
    assert authenticate_oauth_token(other_app["access_token"])
    assert authenticate_oauth_token(someone_elses["access_token"])
    assert [a.name for a in oauth_server.authorized_apps(learner)] == ["Other"]


def test_removing_an_app_without_access_is_not_found(learner, creator, app_client):
    issue_tokens(app_client, creator)
    with pytest.raises(NotFound):
        oauth_server.revoke_authorization(learner, app_client.client_id)
    with pytest.raises(NotFound):
        oauth_server.revoke_authorization(learner, "no-such-app")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OAuthToken)
                             .where(OAuthToken.revoked_at.is_not(None))) == 0


# --- two requests at the same moment -------------------------------------------------------

def test_a_code_claimed_by_another_request_in_between_counts_as_a_second_use(learner, app_client):
    first = issue_tokens(app_client, learner)  # tokens of an earlier code: untouched
    code = oauth_server.create_authorization_code(app_client, learner, redirect_uri=REDIRECT_URI, scope="read",
                                                  code_challenge=pkce_pair()[1], code_challenge_method="S256")
    row = db.session.scalar(sa.select(OAuthAuthorizationCode).where(OAuthAuthorizationCode.used_at.is_(None)))
    # another request marks it used after this one read it (the row here still says unused)
    db.session.execute(sa.update(OAuthAuthorizationCode).where(OAuthAuthorizationCode.id == row.id)
                       .values(used_at=utcnow()).execution_options(synchronize_session=False))
    assert row.used_at is None
    assert oauth_server.claim_authorization_code(code, app_client) is None
    assert authenticate_oauth_token(first["access_token"]) is not None


def test_a_refresh_token_rotated_by_another_request_in_between_revokes_the_new_tokens(learner, app_client):
    tokens = issue_tokens(app_client, learner)
    old = oauth_server.find_refresh_token(tokens["refresh_token"], app_client)
    # another request rotates it after this one read it (the row here still says live)
    db.session.execute(sa.update(OAuthToken).where(OAuthToken.id == old.id).values(revoked_at=utcnow())
                       .execution_options(synchronize_session=False))
    assert old.revoked_at is None
    mine = oauth_server.generate_bearer_token(scope="read learn")
    new = oauth_server.save_token(mine, client=app_client, user=learner, code_id=old.code_id)
    assert oauth_server.rotate_refresh_token(old, new) is False
    db.session.commit()
    assert authenticate_oauth_token(mine["access_token"]) is None
