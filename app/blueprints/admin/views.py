from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.accounts import roles
from app.accounts.models import PERMISSION_LABELS, PERMISSIONS
from app.accounts.permissions import can_manage_users, can_view_admin, can_view_audit_log
from app.accounts.queries import get_user, search_users
from app.blueprints.admin import bp
from app.blueprints.admin.forms import EmptyForm, PermissionForm, SuspendForm
from app.blueprints.forms import attach_error
from app.blueprints.htmx import client_ip, page_arg, redirect_to, render_page, wants_fragment
from app.errors import DomainError
from app.extensions import db
from app.moderation import audit, suspensions
from app.policy import require


@bp.before_request
@login_required
def admins_only():
    require(can_view_admin(current_user), "open the admin area")


def _target(user_id: int):
    """The user a /users/<id> page is about. Only user managers get this far: anyone else is
    refused before the id is looked up or a form is read, so a 404 or a form error never
    tells them anything about the account."""
    require(can_manage_users(current_user), "manage users")
    user = get_user(user_id)
    if user is None:
        abort(404)
    return user


@bp.get("/")
def index():
    return render_template("admin/index.html")


@bp.get("/users")
def user_list():
    require(can_manage_users(current_user), "manage users")
    q = request.args.get("q", "")[:200]
    page = search_users(q, page=page_arg())
    return render_page("admin/users.html", "results", page=page, q=q)


def _user_page(user, status: int = 200, **forms):
    forms.setdefault("suspend_form", SuspendForm(formdata=None))
    return render_page("admin/user_detail.html", "user_admin", status=status, user=user,
                       permissions=PERMISSIONS, labels=PERMISSION_LABELS,
                       button=EmptyForm(formdata=None), **forms)


@bp.get("/users/<int:user_id>")
def user_detail(user_id: int):
    return _user_page(_target(user_id))


@bp.post("/users/<int:user_id>/suspend")
def user_suspend(user_id: int):
    user = _target(user_id)
    form = SuspendForm()
    if form.validate_on_submit():
        until = suspensions.until_end_of(form.until.data) if form.until.data else None
        try:
            suspensions.suspend_user(current_user, user, reason=form.reason.data, until=until,
                                     ip=client_ip())
            db.session.commit()
            flash(f"{user.display_name} is suspended.", "success")
            return redirect_to("admin.user_detail", user_id=user.id)
        except DomainError as exc:
            db.session.rollback()
            if exc.status == 403:
                raise
            attach_error(form, exc)
    return _user_page(user, 422, suspend_form=form)


@bp.post("/users/<int:user_id>/unsuspend")
def user_unsuspend(user_id: int):
    user = _target(user_id)
    if EmptyForm().validate_on_submit():
        suspensions.unsuspend_user(current_user, user, ip=client_ip())
        db.session.commit()
        flash(f"{user.display_name} is reinstated.", "success")
    return redirect_to("admin.user_detail", user_id=user.id)


@bp.post("/users/<int:user_id>/permissions/grant")
def permission_grant(user_id: int):
    user = _target(user_id)
    form = PermissionForm()
    if form.validate_on_submit():
        roles.grant_permission(current_user, user, form.permission.data, ip=client_ip())
        db.session.commit()
        flash(f"Granted {PERMISSION_LABELS.get(form.permission.data, form.permission.data)}.", "success")
    return _after_permission_change(user)


@bp.post("/users/<int:user_id>/permissions/revoke")
def permission_revoke(user_id: int):
    user = _target(user_id)
    form = PermissionForm()
    if form.validate_on_submit():
        roles.revoke_permission(current_user, user, form.permission.data, ip=client_ip())
        db.session.commit()
        flash(f"Revoked {PERMISSION_LABELS.get(form.permission.data, form.permission.data)}.", "success")
    return _after_permission_change(user)


def _after_permission_change(user):
    if wants_fragment():
        return render_page("admin/user_detail.html", "permissions_panel", user=user,
                           permissions=PERMISSIONS, labels=PERMISSION_LABELS,
                           button=EmptyForm(formdata=None))
    return redirect(url_for("admin.user_detail", user_id=user.id))


@bp.get("/audit")
def audit_log():
    require(can_view_audit_log(current_user), "read the audit log")
    action = request.args.get("action", "")[:64]
    page = audit.audit_entries(action=action, page=page_arg())
    return render_page("admin/audit.html", "results", page=page, action=action,
                       actions=audit.audit_actions())
