"""Personal access tokens (app/accounts/api_tokens.py): the secret shown once and stored as a
hash, the rules for making one, revoking, the list, and what a bearer token resolves to."""
from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.accounts import api_tokens, auth, sessions
from app.accounts.errors import AccountSuspended
from app.accounts.events import ApiTokenRevoked
from app.accounts.models import AdminPermission, ApiToken
from app.accounts.scopes import Grant
from app.errors import Invalid, NotFound
from app.moderation.models import AuditLog
from app.moderation.suspensions import suspend_user
from tests.factories import PASSWORD

T0 = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def make_token(db):
    """`make_token(user, **overrides)`: create and commit a token; returns (row, secret)."""

    def make(user, *, name="CI script", scopes=("read",), expires_in_days=30, now=T0):
        token, secret = api_tokens.create_token(user, name=name, scopes=list(scopes),
                                                expires_in_days=expires_in_days, now=now)
        db.session.commit()
        return token, secret

    return make


def audit_actions(db, token) -> list[str]:
    return list(db.session.scalars(sa.select(AuditLog.action).where(
        AuditLog.target_type == "apitoken", AuditLog.target_id == token.id).order_by(AuditLog.id)))


# --- making a token ----------------------------------------------------------------------------

def test_the_secret_is_returned_once_and_only_its_hash_is_stored(db, learner, make_token):
    token, secret = make_token(learner)
    assert secret.startswith("lyc_pat_") and len(secret) == len("lyc_pat_") + 43
    row = db.session.get(ApiToken, token.id)
    assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert row.prefix == secret[:12] and secret not in (row.prefix, row.name, row.scopes)
    assert (row.name, row.scopes, row.created_at, row.expires_at) == (
        "CI script", "read", T0, T0 + timedelta(days=30))
    assert row.last_used_at is None and row.revoked_at is None


def test_each_token_gets_its_own_secret(learner, make_token):
    assert make_token(learner)[1] != make_token(learner)[1]


def test_creating_a_token_is_audited_without_the_secret(db, learner, make_token):
    token, secret = make_token(learner, scopes=("learn", "read"))
    entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "api_token.created"))
    assert (entry.actor_id, entry.target_id, entry.target_label) == (learner.id, token.id, "CI script")
    assert entry.after["scopes"] == "read learn"
    assert secret not in repr(entry.after) and token.token_hash not in repr(entry.after)


@pytest.mark.parametrize("name, message", [
    ("", "Give the token a name"), ("   ", "Give the token a name"),
    ("x" * 81, "80 characters or fewer"),
])
def test_a_token_needs_a_short_name(learner, name, message):
    with pytest.raises(Invalid, match=message) as caught:
        api_tokens.create_token(learner, name=name, scopes=["read"], expires_in_days=30, now=T0)
    assert caught.value.field == "name"


def test_the_name_is_tidied(learner):
    token, _ = api_tokens.create_token(learner, name="  my   laptop ", scopes="read", now=T0)
    assert token.name == "my laptop"


@pytest.mark.parametrize("scopes, message", [
    ([], "at least one scope"), ("", "at least one scope"),
    (["read", "write"], "Unknown scope 'write'"),
])
def test_a_token_needs_known_scopes(learner, scopes, message):
    with pytest.raises(Invalid, match=message) as caught:
        api_tokens.create_token(learner, name="x", scopes=scopes, now=T0)
    assert caught.value.field == "scopes"


def test_an_admin_scope_needs_the_permission(learner, reviewer, admin):
    with pytest.raises(Invalid, match="do not hold that permission") as caught:
        api_tokens.create_token(learner, name="x", scopes=["read", "admin:review_courses"], now=T0)
    assert caught.value.field == "scopes"
    with pytest.raises(Invalid, match="admin:moderate"):
        api_tokens.create_token(reviewer, name="x", scopes=["admin:moderate"], now=T0)
    token, _ = api_tokens.create_token(reviewer, name="x", scopes=["admin:review_courses"], now=T0)
    assert token.scopes == "admin:review_courses"
    token, _ = api_tokens.create_token(admin, name="x", scopes=["admin:moderate", "read"], now=T0)
    assert token.scopes == "read admin:moderate"  # the vocabulary's order


@pytest.mark.parametrize("days", [7, 30, 90, 365, "90"])
def test_the_expiry_is_one_of_the_choices(learner, days):
    token, _ = api_tokens.create_token(learner, name="x", scopes=["read"], expires_in_days=days, now=T0)
    assert token.expires_at == T0 + timedelta(days=int(days))


@pytest.mark.parametrize("days", [0, 1, 31, 366, -7, None, "", "never", 10**30, True])
def test_any_other_expiry_is_refused(learner, days):
    with pytest.raises(Invalid, match="7, 30, 90 or 365 days") as caught:
        api_tokens.create_token(learner, name="x", scopes=["read"], expires_in_days=days, now=T0)
    assert caught.value.field == "expires_in_days"


def test_thirty_days_unless_chosen(learner):
    token, _ = api_tokens.create_token(learner, name="x", scopes=["read"], now=T0)
    assert token.expires_at == T0 + timedelta(days=30)


def test_at_most_fifty_live_tokens(db, learner, make_token):
    tokens = [make_token(learner, name=f"t{n}")[0] for n in range(api_tokens.MAX_LIVE_TOKENS)]
    with pytest.raises(Invalid, match="already have 50 active tokens"):
        api_tokens.create_token(learner, name="one more", scopes=["read"], now=T0)
    db.session.rollback()
    api_tokens.revoke_token(learner, tokens[0].id, now=T0)
    make_token(learner, name="in its place")
    later = T0 + timedelta(days=31)  # every one of them has expired
    assert api_tokens.create_token(learner, name="later", scopes=["read"], now=later)[0].id


def test_a_suspended_user_makes_no_token(db, admin, learner):
    suspend_user(admin, learner, reason="spam")
    db.session.commit()
    with pytest.raises(AccountSuspended):
        api_tokens.create_token(learner, name="x", scopes=["read"])


# --- what a bearer token resolves to -----------------------------------------------------------

def test_a_live_token_resolves_to_its_grant(learner, make_token):
    token, secret = make_token(learner, scopes=("read", "learn"))
    grant = api_tokens.authenticate_token(secret, now=T0 + timedelta(hours=1))
    assert grant == Grant(user=learner, scopes=frozenset({"read", "learn"}), kind="pat",
                          token_id=token.id, expires_at=token.expires_at)
    assert grant.allows("learn") and not grant.allows("teach")
    assert grant.rate_key == f"pat:{token.id}"


@pytest.mark.parametrize("raw", [
    None, 42, "", "lyc_pat_", "Bearer lyc_pat_x", "lyc_pat_" + "A" * 43, "lyc_pat_" + "A" * 44,
    "lyc_pat_" + "!" * 43, "x" * 10_000,
])
def test_unknown_or_malformed_tokens_resolve_to_nothing(learner, make_token, raw):
    make_token(learner)
    assert api_tokens.authenticate_token(raw, now=T0) is None


def test_a_secret_with_a_changed_character_is_unknown(learner, make_token):
    _, secret = make_token(learner)
    changed = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    assert api_tokens.authenticate_token(changed, now=T0) is None
    assert api_tokens.authenticate_token(secret[:12], now=T0) is None  # the prefix alone


def test_an_expired_token_resolves_to_nothing(learner, make_token):
    token, secret = make_token(learner, expires_in_days=7)
    assert api_tokens.authenticate_token(secret, now=token.expires_at - timedelta(seconds=1))
    assert api_tokens.authenticate_token(secret, now=token.expires_at) is None


def test_a_revoked_token_resolves_to_nothing_at_once(db, learner, make_token):
    token, secret = make_token(learner)
    assert api_tokens.authenticate_token(secret, now=T0)
    api_tokens.revoke_token(learner, token.id, now=T0 + timedelta(minutes=5))
    db.session.commit()
    assert api_tokens.authenticate_token(secret, now=T0 + timedelta(minutes=5)) is None


def test_a_suspended_users_token_is_refused_with_the_reason(db, admin, learner, make_token):
    _, secret = make_token(learner, now=datetime.now(UTC))
    suspend_user(admin, learner, reason="spam")
    db.session.commit()
    with pytest.raises(AccountSuspended, match="spam") as caught:
        api_tokens.authenticate_token(secret)
    assert caught.value.status == 403


def test_the_token_works_again_when_a_suspension_ends(db, admin, learner, make_token):
    now = datetime.now(UTC)
    _, secret = make_token(learner, now=now)
    suspend_user(admin, learner, reason="cool off", until=now + timedelta(days=1))
    db.session.commit()
    with pytest.raises(AccountSuspended):
        api_tokens.authenticate_token(secret, now=now)
    assert api_tokens.authenticate_token(secret, now=now + timedelta(days=2))


def test_an_admin_scope_stops_working_when_the_permission_goes(db, reviewer, make_token):
    _, secret = make_token(reviewer, scopes=("read", "admin:review_courses"))
    assert api_tokens.authenticate_token(secret, now=T0).allows("admin:review_courses")
    db.session.execute(sa.delete(AdminPermission).where(AdminPermission.user_id == reviewer.id))
    db.session.commit()
    db.session.expire_all()
    grant = api_tokens.authenticate_token(secret, now=T0)
    assert grant.allows("read") and not grant.allows("admin:review_courses")


def test_last_used_is_written_at_most_once_a_minute(db, learner, make_token):
    token, secret = make_token(learner)

    def last_used():
        db.session.commit()
        return db.session.scalar(sa.select(ApiToken.last_used_at).where(ApiToken.id == token.id))

    api_tokens.authenticate_token(secret, now=T0 + timedelta(seconds=10))
    assert last_used() == T0 + timedelta(seconds=10)
    api_tokens.authenticate_token(secret, now=T0 + timedelta(seconds=69))
    assert last_used() == T0 + timedelta(seconds=10)  # under a minute later: no write
    api_tokens.authenticate_token(secret, now=T0 + timedelta(seconds=70))
    assert last_used() == T0 + timedelta(seconds=70)


def test_an_unchanged_minute_writes_nothing(db, learner, make_token):
    _, secret = make_token(learner)
    api_tokens.authenticate_token(secret, now=T0)
    db.session.commit()
    api_tokens.authenticate_token(secret, now=T0 + timedelta(seconds=30))
    assert not db.session.dirty and not db.session.new


def test_the_touch_is_left_for_the_caller_to_commit(db, learner, make_token):
    token, secret = make_token(learner)
    api_tokens.authenticate_token(secret, now=T0)
    db.session.rollback()  # the request failed: the touch goes with it, nothing else breaks
    assert db.session.get(ApiToken, token.id).last_used_at is None
    assert api_tokens.authenticate_token(secret, now=T0)


# --- tokens and sessions are independent -------------------------------------------------------

def test_ending_sessions_leaves_tokens_working(db, learner, make_token, open_session):
    _, secret = make_token(learner, now=datetime.now(UTC))
    open_session(learner)
    sessions.revoke_session(learner, learner.session_id)
    open_session(learner)
    sessions.end_all_sessions(learner)
    db.session.commit()
    assert api_tokens.authenticate_token(secret)


def test_revoking_a_token_ends_no_session(db, learner, make_token, open_session, signed_in_as):
    token, _ = make_token(learner)
    session_token = open_session(learner)
    api_tokens.revoke_token(learner, token.id)
    db.session.commit()
    assert signed_in_as(session_token) == learner


def test_a_password_change_or_reset_keeps_tokens(db, learner, make_token, request_ctx):
    _, secret = make_token(learner, now=datetime.now(UTC))
    auth.change_password(learner, current_password=PASSWORD, new_password="another long passphrase")
    db.session.commit()
    assert api_tokens.authenticate_token(secret)


# --- revoking ----------------------------------------------------------------------------------

def test_revoking_is_audited_once_and_can_be_repeated(db, learner, make_token, emitted):
    token, _ = make_token(learner)
    db.session.commit()
    emitted.clear()
    first = api_tokens.revoke_token(learner, token.id, now=T0 + timedelta(hours=1))
    db.session.commit()
    again = api_tokens.revoke_token(learner, token.id, now=T0 + timedelta(hours=2))
    db.session.commit()
    assert first.revoked_at == again.revoked_at == T0 + timedelta(hours=1)
    assert audit_actions(db, token) == ["api_token.created", "api_token.revoked"]
    # once, after commit: what was opened with the token closes (messaging.subscribers)
    assert emitted == [ApiTokenRevoked(user_id=learner.id, token_id=token.id)]


@pytest.mark.parametrize("token_id", [0, -1, 2**31, 10**40, "abc", None])
def test_revoking_no_such_token_is_not_found(learner, token_id):
    with pytest.raises(NotFound):
        api_tokens.revoke_token(learner, token_id)


def test_another_users_token_is_not_found_and_keeps_working(db, learner, creator, make_token):
    token, secret = make_token(creator)
    with pytest.raises(NotFound, match="That token does not exist.") as theirs:
        api_tokens.revoke_token(learner, token.id)
    with pytest.raises(NotFound) as missing:
        api_tokens.revoke_token(learner, token.id + 1000)
    assert theirs.value.message == missing.value.message  # the same answer: nothing revealed
    db.session.rollback()
    assert db.session.get(ApiToken, token.id).revoked_at is None
    assert api_tokens.authenticate_token(secret, now=T0)


# --- the list ----------------------------------------------------------------------------------

def test_the_list_is_newest_first_with_what_became_of_each(db, learner, creator, make_token):
    old, _ = make_token(learner, name="old", expires_in_days=7, now=T0)
    revoked, _ = make_token(learner, name="revoked", now=T0 + timedelta(days=1))
    live, _ = make_token(learner, name="live", scopes=("teach", "read"), now=T0 + timedelta(days=2))
    make_token(creator, name="someone else's", now=T0 + timedelta(days=3))
    api_tokens.revoke_token(learner, revoked.id, now=T0 + timedelta(days=3))
    db.session.commit()
    listed = api_tokens.list_tokens(learner, now=T0 + timedelta(days=8))
    assert [(t.name, t.status, t.live) for t in listed] == [
        ("live", "active", True), ("revoked", "revoked", False), ("old", "expired", False)]
    assert listed[0].scopes == ("read", "teach") and listed[0].prefix == live.prefix
    assert [t.status_label for t in listed] == ["Active", "Revoked", "Expired"]


def test_the_list_forgets_tokens_a_month_after_they_ended(db, learner, make_token):
    expired, _ = make_token(learner, name="expired", expires_in_days=7, now=T0)
    revoked, _ = make_token(learner, name="revoked", expires_in_days=365, now=T0)
    api_tokens.revoke_token(learner, revoked.id, now=T0 + timedelta(days=7))
    db.session.commit()
    on = T0 + timedelta(days=7 + 30)
    assert [t.name for t in api_tokens.list_tokens(learner, now=on)] == ["revoked", "expired"]
    on = T0 + timedelta(days=7 + 31)
    assert api_tokens.list_tokens(learner, now=on) == []


def test_the_list_never_holds_a_secret(learner, make_token):
    _, secret = make_token(learner)
    [info] = api_tokens.list_tokens(learner, now=T0)
    assert secret not in repr(info) and hashlib.sha256(secret.encode()).hexdigest() not in repr(info)
