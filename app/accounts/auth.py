"""Sign-up, log-in, password reset and e-mail change.

Services take explicit arguments and never read the request; the views own the
transaction and the Flask-Login session. Changing the password or the e-mail address
ends the user's sessions (app/accounts/sessions.py).
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import current_app, url_for

from app.accounts.emails import clean_email
from app.accounts.errors import AccountSuspended, BadToken, EmailTaken, InvalidCredentials
from app.accounts.events import UserSignedUp
from app.accounts.models import User
from app.accounts.passwords import check_password_strength, hash_password, needs_rehash, verify_password
from app.accounts.queries import get_user, user_by_email
from app.accounts.sessions import end_all_sessions, renew_token
from app.accounts.throttle import check_login_allowed, clear_login_failures, record_login_failure
from app.accounts.tokens import fingerprint, make_token, read_token
from app.dbtypes import utcnow
from app.errors import Invalid
from app.events import emit
from app.extensions import db
from app.messaging.mail import send_mail

EMAIL_CHANGE_MAX_AGE = 60 * 60 * 24
SIGN_UP_LINK_MAX_AGE = 60 * 60 * 24
MAX_ROW_ID = 2 ** 31 - 1  # users.id is a 32-bit INTEGER on PostgreSQL


def clean_display_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise Invalid("Enter your name.", field="display_name")
    if len(name) > 80:
        raise Invalid("Keep your name under 80 characters.", field="display_name")
    return name


def sign_up(*, email: str, display_name: str, password: str, now: datetime | None = None) -> User:
    email = clean_email(email)
    display_name = clean_display_name(display_name)
    check_password_strength(password, email=email, display_name=display_name)
    if user_by_email(email):
        raise EmailTaken()
    user = User(email=email, display_name=display_name, password_hash=hash_password(password),
                created_at=now or utcnow())
    db.session.add(user)
    db.session.flush()
    emit(UserSignedUp(user_id=user.id))
    return user


def prepare_sign_up(*, email: str, display_name: str, password: str) -> dict:
    """Check a sign-up form and hash its password: what `finish_sign_up` needs, the same
    work whether or not the address already has an account (the answer to the form must
    not tell). Raises Invalid / WeakPassword for input that is wrong in itself."""
    email = clean_email(email)
    display_name = clean_display_name(display_name)
    check_password_strength(password, email=email, display_name=display_name)
    return {"email": email, "display_name": display_name, "password_hash": hash_password(password)}


def finish_sign_up(*, email: str, display_name: str, password_hash: str,
                   now: datetime | None = None) -> User | None:
    """Create the account and mail it a link that confirms the address and signs it in;
    or, if the address already has an account, tell its owner by mail instead (nothing
    changes). Returns the new user, or None."""
    existing = user_by_email(email)
    if existing is not None:
        send_mail(existing.email, "Someone tried to sign up with your e-mail address", "signup_existing",
                  user=existing, login_link=url_for("auth.login", _external=True),
                  reset_link=url_for("auth.password_forgot", _external=True))
        return None
    user = User(email=email, display_name=display_name, password_hash=password_hash,
                created_at=now or utcnow())
    db.session.add(user)
    db.session.flush()
    emit(UserSignedUp(user_id=user.id))
    token = make_token("sign-up", {"uid": user.id, "fp": _email_fingerprint(user)})
    send_mail(user.email, "Finish signing up to Lyceum", "signup_confirm", user=user,
              link=url_for("auth.signup_confirm", token=token, _external=True),
              hours=SIGN_UP_LINK_MAX_AGE // 3600)
    return user


def user_for_sign_up_token(token: str) -> User:
    """The account a sign-up link confirms; a link works once (confirming changes the
    fingerprint) and for SIGN_UP_LINK_MAX_AGE seconds."""
    payload = read_token("sign-up", token, SIGN_UP_LINK_MAX_AGE)
    user = get_user(payload.get("uid", 0))
    if user is None or payload.get("fp") != _email_fingerprint(user):
        raise BadToken()
    return user


def confirm_sign_up(*, token: str, now: datetime | None = None) -> User:
    user = user_for_sign_up_token(token)
    ensure_not_suspended(user, now)
    user.email_verified_at = now or utcnow()
    return user


def ensure_not_suspended(user: User, now: datetime | None = None) -> None:
    if user.is_suspended(now):
        raise AccountSuspended(user.suspension_reason or "no reason given", user.suspended_until)


def authenticate(*, email: str, password: str, now: datetime | None = None) -> User:
    """The user for these credentials, or InvalidCredentials / AccountSuspended; or
    LoginThrottled, before the password is even checked, while this address must wait
    after too many wrong ones (app/accounts/throttle.py)."""
    now = now or utcnow()
    check_login_allowed(email, now=now)
    user = user_by_email(email) if email else None
    if not verify_password(user.password_hash if user else None, password):
        record_login_failure(email, now=now)
        raise InvalidCredentials()
    clear_login_failures(email)
    ensure_not_suspended(user, now)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def request_password_reset(*, email: str) -> None:
    """Mail a reset link if the account exists. Called by a job (app/jobs/accounts.py),
    which the view enqueues for every address alike, so the request takes the same time
    whether or not the account exists."""
    try:
        email = clean_email(email)
    except Invalid:
        return
    user = user_by_email(email)
    if user is None:
        return
    token = make_token("password-reset", {"uid": user.id, "fp": fingerprint(user.password_hash)})
    send_mail(user.email, "Reset your Lyceum password", "password_reset", user=user,
              link=url_for("auth.password_reset", token=token, _external=True),
              minutes=current_app.config["PASSWORD_RESET_MAX_AGE"] // 60)


def user_for_reset_token(token: str) -> User:
    payload = read_token("password-reset", token, current_app.config["PASSWORD_RESET_MAX_AGE"])
    user = get_user(payload.get("uid", 0))
    if user is None or payload.get("fp") != fingerprint(user.password_hash):
        raise BadToken()
    return user


def reset_password(*, token: str, password: str) -> User:
    """Set a new password from an e-mailed link: every session of the account ends."""
    user = user_for_reset_token(token)
    check_password_strength(password, email=user.email, display_name=user.display_name)
    _set_password(user, password)
    end_all_sessions(user)
    return user


def change_password(user: User, *, current_password: str, new_password: str,
                    current_session_id: int | None = None) -> None:
    """Change the password in the settings: every other session ends; the one it was done
    from (`current_session_id`) stays signed in under a new token, so a copy of its old
    cookies stops working as well."""
    if user.password_hash and not verify_password(user.password_hash, current_password):
        raise Invalid("Your current password is not right.", field="current_password")
    check_password_strength(new_password, email=user.email, display_name=user.display_name)
    _set_password(user, new_password)
    if current_session_id is None:
        end_all_sessions(user)
    else:
        end_all_sessions(user, keep=current_session_id)
        renew_token(user, current_session_id)


def _set_password(user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    send_mail(user.email, "Your Lyceum password was changed", "password_changed", user=user)


def request_email_change(user: User, *, new_email: str, password: str) -> None:
    """Send a confirmation link to the new address; nothing changes until it is followed."""
    if user.password_hash and not verify_password(user.password_hash, password):
        raise Invalid("Your password is not right.", field="password")
    new_email = clean_email(new_email)
    if new_email == user.email:
        raise Invalid("That is already your e-mail address.", field="new_email")
    if user_by_email(new_email):
        raise Invalid("An account with this e-mail already exists.", field="new_email")
    token = make_token("email-change", {"uid": user.id, "email": new_email,
                                        "old": _email_fingerprint(user)})
    send_mail(new_email, "Confirm your new e-mail address", "email_change", user=user,
              link=url_for("auth.email_confirm", token=token, _external=True))


def _email_fingerprint(user: User) -> str:
    """The address and when it was last confirmed: a confirmation link works once, and an
    old one stays void even after the address is changed away and back again."""
    verified = user.email_verified_at.isoformat() if user.email_verified_at else ""
    return fingerprint(f"{user.email}|{verified}")


def confirm_email_change(*, token: str) -> User:
    payload = read_token("email-change", token, EMAIL_CHANGE_MAX_AGE)
    user = get_user(payload.get("uid", 0))
    if user is None or payload.get("old") != _email_fingerprint(user):
        raise BadToken()
    new_email = payload["email"]
    if db.session.scalar(sa.select(sa.func.count()).where(User.email == new_email)):
        raise EmailTaken()
    old_email, user.email = user.email, new_email
    user.email_verified_at = utcnow()
    end_all_sessions(user)  # whoever held a session under the old address signs in again
    send_mail(old_email, "Your Lyceum e-mail address was changed", "email_changed", user=user,
              new_email=new_email)
    return user
