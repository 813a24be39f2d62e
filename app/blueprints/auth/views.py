from __future__ import annotations

from authlib.integrations.base_client import OAuthError
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user
from requests import RequestException

from app.accounts import auth, oauth, profile, sessions
from app.accounts.errors import LoginThrottled
from app.accounts.queries import normalise_email
from app.blueprints.auth import bp
from app.blueprints.auth.forms import (
    AvatarForm,
    ChangeEmailForm,
    ChangePasswordForm,
    DeleteAccountForm,
    EmptyForm,
    ForgotPasswordForm,
    LoginForm,
    ProfileForm,
    ResetPasswordForm,
    SignupForm,
)
from app.blueprints.auth.session_loader import sign_in, sign_out
from app.blueprints.errors import error_response
from app.blueprints.forms import attach_error
from app.blueprints.htmx import redirect_to, redirect_url, render_page, wants_fragment
from app.blueprints.security import is_same_site_path
from app.dbtypes import utcnow
from app.errors import DomainError
from app.extensions import db, limiter
from app.tasks import enqueue


def _limit(key: str):
    return limiter.limit(lambda: current_app.config[key], methods=["POST"])


def _safe_next(default: str = "dashboard.home") -> str:
    target = request.args.get("next") or request.form.get("next") or ""
    return target if is_same_site_path(target) else url_for(default)


@bp.url_value_preprocessor
def avatar_upload_limit(endpoint: str | None, values: dict | None) -> None:
    """Refuse an oversized avatar from its Content-Length, before the body is read (URL
    value preprocessors run before the CSRF check parses the form)."""
    if endpoint == "auth.avatar_update":
        limit = current_app.config["AVATAR_MAX_BYTES"] + 64 * 1024
        request.max_content_length = min(limit, current_app.config["MAX_CONTENT_LENGTH"] or limit)


@bp.route("/signup", methods=["GET", "POST"])
@_limit("RATELIMIT_SIGNUP")
def signup():
    if current_user.is_authenticated:
        return redirect_to("dashboard.home")
    form = SignupForm()
    if form.validate_on_submit():
        try:
            pending = auth.prepare_sign_up(email=form.email.data, display_name=form.display_name.data,
                                           password=form.password.data)
        except DomainError as exc:
            attach_error(form, exc)
        else:
            # The same answer, and the same work here, whether or not the address has an
            # account: the job creates it and mails a link, or tells the owner (item 12).
            enqueue("app.jobs.accounts.finish_sign_up", pending, request.url_root, queue="low")
            db.session.commit()
            return render_page("auth/signup_sent.html", "signup_form", email=pending["email"])
    return render_page("auth/signup.html", "signup_form", form=form,
                       status=422 if form.errors or form.form_errors else 200)


@bp.route("/signup/confirm/<token>", methods=["GET", "POST"])
@_limit("RATELIMIT_SIGNUP")
def signup_confirm(token: str):
    """The mailed link shows a button; the POST confirms and signs in (a mail scanner
    that opens links does not use up the link or get the session)."""
    try:
        user = auth.user_for_sign_up_token(token)
        if request.method == "POST":
            user = auth.confirm_sign_up(token=token)
            sign_in(user)  # commits the confirmation with the new session
            flash(f"Welcome to Lyceum, {user.display_name}!", "success")
            return redirect_to("dashboard.home")
    except DomainError as exc:
        db.session.rollback()
        if wants_fragment():
            return error_response(400, exc.message)
        return render_template("auth/signup_confirm.html", user=None, error=exc.message), 400
    return render_template("auth/signup_confirm.html", user=user, error=None)


@bp.route("/login", methods=["GET", "POST"])
@_limit("RATELIMIT_LOGIN")
def login():
    if current_user.is_authenticated:
        return redirect_url(_safe_next())
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = auth.authenticate(email=form.email.data, password=form.password.data)
            sign_in(user, remember=form.remember.data)  # commits a re-hashed password too
            return redirect_url(_safe_next())
        except LoginThrottled as exc:  # too many wrong passwords for this address
            attach_error(form, exc)
            resp = render_page("auth/login.html", "login_form", form=form, status=429)
            resp.headers["Retry-After"] = str(exc.retry_after)
            return resp
        except DomainError as exc:
            db.session.rollback()
            attach_error(form, exc)
    return render_page("auth/login.html", "login_form", form=form,
                       status=422 if form.errors or form.form_errors else 200)


@bp.post("/logout")
def logout():
    sign_out()
    flash("You are logged out.", "info")
    return redirect_to("main.home")


@bp.route("/password/forgot", methods=["GET", "POST"])
@_limit("RATELIMIT_PASSWORD_RESET")
def password_forgot():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        # One job for every address: it looks the account up, so this request does the
        # same work, in the same time, for real and unknown accounts (item 12).
        enqueue("app.jobs.accounts.send_password_reset", normalise_email(form.email.data), request.url_root,
                queue="low")
        db.session.commit()
        flash("If an account uses that e-mail, a reset link is on its way.", "info")
        return redirect_to("auth.login")
    return render_page("auth/password_forgot.html", "forgot_form", form=form,
                       status=422 if form.errors else 200)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@_limit("RATELIMIT_PASSWORD_RESET")
def password_reset(token: str):
    form = ResetPasswordForm()
    try:
        auth.user_for_reset_token(token)
    except DomainError as exc:
        if wants_fragment():
            return error_response(400, exc.message)
        return render_template("auth/password_reset.html", form=None, error=exc.message), 400
    if form.validate_on_submit():
        try:
            auth.reset_password(token=token, password=form.password.data)
            db.session.commit()
            flash("Your password is changed. Log in with the new one.", "success")
            return redirect_to("auth.login")
        except DomainError as exc:
            db.session.rollback()
            attach_error(form, exc)
    return render_page("auth/password_reset.html", "reset_form", form=form, error=None,
                       status=422 if form.errors else 200)


@bp.get("/oauth/<provider>")
def oauth_start(provider: str):
    client = oauth.oauth.create_client(provider)
    if client is None:
        abort(404)
    return client.authorize_redirect(url_for("auth.oauth_callback", provider=provider, _external=True))


@bp.get("/oauth/<provider>/callback")
@_limit("RATELIMIT_LOGIN")
def oauth_callback(provider: str):
    client = oauth.oauth.create_client(provider)
    if client is None:
        abort(404)
    try:
        token = client.authorize_access_token()
        user = oauth.sign_in_with_provider(oauth.fetch_profile(provider, token))
        db.session.commit()
    except (OAuthError, RequestException):
        # Refused, forged or expired state, or the provider did not answer. The error text
        # comes from the query string, so it is not echoed back.
        db.session.rollback()
        label = dict(oauth.enabled_providers(current_app)).get(provider, provider)
        flash(f"Sign-in with {label} did not complete. Try again.", "error")
        return redirect(url_for("auth.login"))
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("auth.login"))
    sign_in(user)
    return redirect(url_for("dashboard.home"))


# --- the signed-in user's own account -------------------------------------------------


def _settings_forms(**overrides):
    forms = {
        "profile_form": ProfileForm(obj=current_user, formdata=None),
        "avatar_form": AvatarForm(formdata=None),
        "password_form": ChangePasswordForm(formdata=None),
        "email_form": ChangeEmailForm(formdata=None),
        "delete_form": DeleteAccountForm(formdata=None),
        "session_form": EmptyForm(formdata=None),
        "user_sessions": sessions.list_sessions(current_user, now=utcnow(),
                                                current_id=current_user.session_id),
    }
    forms.update(overrides)
    return forms


def _settings_page(block: str, status: int = 200, **overrides):
    return render_page("auth/settings.html", block, status=status, **_settings_forms(**overrides))


@bp.get("/settings")
@login_required
def settings():
    return _settings_page("settings")


def _settings_action(form, block: str, action, done: str, *, category: str = "success",
                     renames: dict | None = None, after=None):
    """One settings form: validate, run the service, commit and go back to the settings;
    or show the form again with the errors (the service's on its field) and what was typed."""
    if form.validate_on_submit():
        try:
            action(form)
            db.session.commit()
            if after is not None:
                after()
            flash(done, category)
            return redirect_to("auth.settings")
        except DomainError as exc:
            db.session.rollback()
            attach_error(form, exc, **(renames or {}))
    return _settings_page(block, 422, **{f"{block}_form": form})


@bp.post("/settings/profile")
@login_required
def profile_update():
    return _settings_action(ProfileForm(), "profile", lambda f: profile.update_profile(
        current_user, display_name=f.display_name.data, headline=f.headline.data, bio=f.bio.data),
        "Profile saved.")


@bp.post("/settings/avatar")
@login_required
def avatar_update():
    return _settings_action(AvatarForm(), "avatar",
                            lambda f: profile.set_avatar(current_user, f.avatar.data.stream),
                            "Avatar updated.")


@bp.post("/settings/password")
@login_required
def password_change():
    return _settings_action(
        ChangePasswordForm(), "password",
        lambda f: auth.change_password(current_user, current_password=f.current_password.data or "",
                                       new_password=f.new_password.data,
                                       current_session_id=current_user.session_id),
        "Password changed. Other sessions are logged out.", renames={"password": "new_password"},
        # this session goes on under a new token: put it in the cookies
        after=_renew_cookies)


def _renew_cookies() -> None:
    user = current_user._get_current_object()
    login_user(user, remember=sessions.is_remembered(user.session_id))


@bp.post("/settings/email")
@login_required
def email_change():
    return _settings_action(
        ChangeEmailForm(), "email",
        lambda f: auth.request_email_change(current_user, new_email=f.new_email.data,
                                            password=f.password.data or ""),
        "Check your new address for a confirmation link.", category="info",
        renames={"email": "new_email"})


@bp.get("/email/confirm/<token>")
def email_confirm(token: str):
    signed_in_as = current_user.id if current_user.is_authenticated else None
    try:
        user = auth.confirm_email_change(token=token)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("main.home"))
    if signed_in_as == user.id:
        sign_out()  # its session ended with all the others
    flash("Your e-mail address is changed. Log in with the new address.", "success")
    return redirect(url_for("auth.login"))


@bp.post("/settings/delete")
@login_required
def account_delete():
    form = DeleteAccountForm()
    if form.validate_on_submit():
        profile.request_account_deletion(current_user)
        db.session.commit()
        sign_out()
        flash("We received your deletion request; we will e-mail you when it is done.", "info")
        return redirect_to("main.home")
    return _settings_page("delete", 422, delete_form=form)


@bp.post("/settings/sessions/<int:session_id>/revoke")
@login_required
def session_revoke(session_id: int):
    """Log out one of your sessions (another user's is not found)."""
    form = EmptyForm()
    if not form.validate_on_submit():
        return _settings_page("sessions", 400)
    if session_id == current_user.session_id:
        sign_out()
        flash("You are logged out.", "info")
        return redirect_to("main.home")
    sessions.revoke_session(current_user, session_id)
    db.session.commit()
    return _after_sessions_change("That session is logged out.")


@bp.post("/settings/sessions/revoke-others")
@login_required
def sessions_revoke_others():
    form = EmptyForm()
    if not form.validate_on_submit():
        return _settings_page("sessions", 400)
    ended = sessions.end_all_sessions(current_user, keep=current_user.session_id)
    db.session.commit()
    return _after_sessions_change(
        f"Logged out everywhere else ({len(ended)} session{'' if len(ended) == 1 else 's'})."
        if ended else "No other session was signed in.")


def _after_sessions_change(message: str):
    """The sessions block again for htmx (with the message in it), the settings page otherwise."""
    if wants_fragment():
        return _settings_page("sessions", sessions_message=message)
    flash(message, "success")
    return redirect(url_for("auth.settings") + "#sessions-h")
