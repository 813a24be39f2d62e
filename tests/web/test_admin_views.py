"""The admin area: users, suspension, permissions, audit log, and every way in that must
be refused."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.accounts.queries import get_user
from app.extensions import db
from app.messaging.models import Notification
from app.moderation.models import AuditLog
from tests.support.pages import HX, text


def fresh(user):
    db.session.expire_all()
    return get_user(user.id)


def audit_rows(action: str):
    db.session.expire_all()
    return db.session.scalars(sa.select(AuditLog).where(AuditLog.action == action)).all()


@pytest.fixture
def as_admin(client, login, admin):
    login(admin)
    return admin


# --- pages -----------------------------------------------------------------------------


def test_admin_index_lists_what_the_admin_may_open(client, as_admin):
    resp = client.get("/admin/")
    assert resp.status_code == 200
    assert b"<html" in resp.data and b"<h1>Admin</h1>" in resp.data
    assert b'href="/admin/users"' in resp.data and b'href="/admin/audit"' in resp.data
    assert "Your permissions: superuser." in text(resp)


def test_header_links_to_the_admin_area_for_admins_only(client, login, admin, learner, other_client):
    login(admin)
    assert b'href="/admin/"' in client.get("/").data
    login(learner, on=other_client)
    assert b'href="/admin/"' not in other_client.get("/").data


def test_moderator_sees_the_index_without_user_or_audit_links(client, login, moderator):
    login(moderator)
    resp = client.get("/admin/")
    assert resp.status_code == 200
    assert b'href="/admin/users"' not in resp.data and b'href="/admin/audit"' not in resp.data


def test_user_list_renders_with_layout(client, as_admin, learner):
    resp = client.get("/admin/users")
    assert resp.status_code == 200
    assert b"<html" in resp.data and b"<h1>Users</h1>" in resp.data
    assert "Lena Learner" in text(resp) and "learner@example.test" in text(resp)


def test_user_list_for_htmx_is_the_results_only(htmx, as_admin, learner):
    resp = htmx.get("/admin/users?q=lena")
    assert resp.status_code == 200
    assert b"<html" not in resp.data and b"<h1>Users</h1>" not in resp.data
    assert b"Lena Learner" in resp.data and b"Ada Admin" not in resp.data


def test_user_search_matches_name_or_email_and_says_when_nothing_does(client, as_admin, learner):
    assert "Lena Learner" in text(client.get("/admin/users?q=LEARNER@"))
    resp = client.get("/admin/users?q=zzz%_")
    assert "No user matches “zzz%_”." in text(resp)


@pytest.mark.parametrize("query", ["page=abc", "page=-3", "page=0", "page=99999999999999999999",
                                   "q=" + "x" * 5000, "q=%ff%fe"])
def test_user_list_survives_odd_query_strings(client, as_admin, query):
    assert client.get(f"/admin/users?{query}").status_code == 200


def test_user_detail_renders_with_layout(client, as_admin, learner):
    resp = client.get(f"/admin/users/{learner.id}")
    assert resp.status_code == 200
    assert b"<html" in resp.data
    body = text(resp)
    assert "<h1>Lena Learner</h1>" in body and "Active" in body
    assert ">Suspend</button>" in body
    assert "Grant<span" in body


def test_user_detail_for_htmx_is_the_user_block_only(htmx, as_admin, learner):
    resp = htmx.get(f"/admin/users/{learner.id}")
    assert resp.status_code == 200
    assert b"<html" not in resp.data and b"All users" not in resp.data
    assert b"<h1>Lena Learner</h1>" in resp.data


def test_user_detail_of_a_missing_user_is_404(client, as_admin):
    resp = client.get("/admin/users/987654")
    assert resp.status_code == 404 and b"<html" in resp.data


def test_admin_cannot_suspend_themselves_so_the_page_says_so(client, as_admin):
    resp = client.get(f"/admin/users/{as_admin.id}")
    assert "You cannot suspend this account." in text(resp)


# --- suspension ------------------------------------------------------------------------


def test_suspend_locks_the_user_out_and_is_audited(client, as_admin, learner, emitted):
    resp = client.post(f"/admin/users/{learner.id}/suspend",
                       data={"reason": "Selling fake certificates", "until": "2099-01-31"})
    assert resp.status_code == 302 and resp.headers["Location"] == f"/admin/users/{learner.id}"
    user = fresh(learner)
    assert user.is_suspended() and user.suspension_reason == "Selling fake certificates"
    assert user.suspended_until.date().isoformat() == "2099-01-31"
    page = text(client.get(f"/admin/users/{learner.id}"))
    assert "Lena Learner is suspended." in page
    assert 'Suspended until <time datetime="2099-01-31">31 Jan 2099</time>: Selling fake certificates' in page
    assert "Reinstate Lena Learner" in page
    [row] = audit_rows("user.suspended")
    assert (row.actor_id, row.target_id, row.ip) == (as_admin.id, learner.id, "127.0.0.1")
    assert row.reason == "Selling fake certificates"
    assert "accounts.user.suspended" in [e.name for e in emitted]


def test_suspend_over_htmx_redirects_with_hx_redirect(htmx, as_admin, learner):
    resp = htmx.post(f"/admin/users/{learner.id}/suspend", data={"reason": "Spam"})
    assert resp.status_code == 204
    assert resp.headers["HX-Redirect"] == f"/admin/users/{learner.id}"


@pytest.mark.parametrize("form, message", [
    ({"reason": ""}, "This field is required."),
    ({"reason": "   "}, "This field is required."),
    ({"reason": "Spam", "until": "2001-01-01"}, "The end date must be in the future."),
    ({"reason": "Spam", "until": "next tuesday"}, "Not a valid date value."),
    ({"reason": "x" * 2001}, "Field cannot be longer than 2000 characters."),
])
def test_suspend_errors_are_shown_and_keep_the_input(client, as_admin, learner, form, message):
    resp = client.post(f"/admin/users/{learner.id}/suspend", data=form)
    assert resp.status_code == 422
    assert b"<html" in resp.data
    assert message in text(resp)
    if form.get("until"):
        assert f'value="{form["until"]}"' in text(resp)
    assert not fresh(learner).is_suspended()


def test_suspend_errors_over_htmx_are_the_user_fragment(htmx, as_admin, learner):
    resp = htmx.post(f"/admin/users/{learner.id}/suspend", data={"reason": ""})
    assert resp.status_code == 422
    assert b"<html" not in resp.data and b"This field is required." in resp.data


def test_unsuspend_reinstates_and_is_audited(client, as_admin, learner):
    client.post(f"/admin/users/{learner.id}/suspend", data={"reason": "Spam"})
    resp = client.post(f"/admin/users/{learner.id}/unsuspend")
    assert resp.status_code == 302
    assert not fresh(learner).is_suspended()
    assert "Lena Learner is reinstated." in text(client.get(f"/admin/users/{learner.id}"))
    [row] = audit_rows("user.unsuspended")
    assert row.actor_id == as_admin.id and row.ip == "127.0.0.1"


def test_suspend_of_a_missing_user_is_404(client, as_admin):
    assert client.post("/admin/users/987654/suspend", data={"reason": "x"}).status_code == 404


# --- permissions -----------------------------------------------------------------------


def test_grant_gives_the_permission_notifies_and_is_audited(client, as_admin, learner):
    resp = client.post(f"/admin/users/{learner.id}/permissions/grant",
                       data={"permission": "moderate"})
    assert resp.status_code == 302 and resp.headers["Location"] == f"/admin/users/{learner.id}"
    assert fresh(learner).permissions == {"moderate"}
    assert "Granted Moderate." in text(client.get(f"/admin/users/{learner.id}"))
    [row] = audit_rows("user.permission_granted")
    assert (row.actor_id, row.target_id, row.ip) == (as_admin.id, learner.id, "127.0.0.1")
    assert row.before == {"permissions": []} and row.after == {"permissions": ["moderate"]}
    note = db.session.scalar(sa.select(Notification).where(Notification.user_id == learner.id))
    assert note.kind == "admin.permissions_changed"


def test_grant_over_htmx_returns_the_permissions_panel(htmx, as_admin, learner):
    resp = htmx.post(f"/admin/users/{learner.id}/permissions/grant",
                     data={"permission": "review_courses"})
    assert resp.status_code == 200
    assert b"<html" not in resp.data and b"<h1>" not in resp.data
    body = text(resp)
    row = body[body.index("<td>Review courses</td>"):]
    assert row.startswith("<td>Review courses</td>\n        <td>Yes</td>")
    assert "Revoke<span" in row


def test_revoke_removes_the_permission_and_is_audited(client, as_admin, moderator):
    resp = client.post(f"/admin/users/{moderator.id}/permissions/revoke",
                       data={"permission": "moderate"})
    assert resp.status_code == 302
    assert fresh(moderator).permissions == frozenset()
    [row] = audit_rows("user.permission_revoked")
    assert row.actor_id == as_admin.id and row.after == {"permissions": []}


def test_revoke_over_htmx_returns_the_permissions_panel(htmx, as_admin, moderator):
    resp = htmx.post(f"/admin/users/{moderator.id}/permissions/revoke",
                     data={"permission": "moderate"})
    assert resp.status_code == 200 and b"<html" not in resp.data
    body = text(resp)
    assert body[body.index("<td>Moderate</td>"):].startswith("<td>Moderate</td>\n        <td>No</td>")


def test_grant_and_revoke_show_on_the_audit_page_with_actor_and_ip(client, as_admin, learner):
    client.post(f"/admin/users/{learner.id}/permissions/grant", data={"permission": "moderate"})
    client.post(f"/admin/users/{learner.id}/permissions/revoke", data={"permission": "moderate"})
    page = text(client.get("/admin/audit"))
    assert page.count("<td>Ada Admin</td>") == 2
    assert "<code>user.permission_granted</code>" in page
    assert "<code>user.permission_revoked</code>" in page
    assert page.count("<td>127.0.0.1</td>") == 2
    assert "learner@example.test" in page


def test_unknown_permission_is_refused_without_a_server_error(client, as_admin, learner):
    resp = client.post(f"/admin/users/{learner.id}/permissions/grant", data={"permission": "god"})
    assert resp.status_code == 422
    assert b"<html" in resp.data and "Unknown permission 'god'." in text(resp)
    assert fresh(learner).permissions == frozenset()


def test_grant_without_a_permission_changes_nothing(client, as_admin, learner):
    resp = client.post(f"/admin/users/{learner.id}/permissions/grant", data={})
    assert resp.status_code in (302, 422)
    assert fresh(learner).permissions == frozenset()
    assert audit_rows("user.permission_granted") == []


# --- audit log -------------------------------------------------------------------------


def test_audit_page_renders_with_layout(client, as_admin):
    resp = client.get("/admin/audit")
    assert resp.status_code == 200
    assert b"<html" in resp.data and b"<h1>Audit log</h1>" in resp.data
    assert b"Nothing recorded yet." in resp.data


def test_audit_page_for_htmx_is_the_results_only(htmx, client, as_admin, learner):
    client.post(f"/admin/users/{learner.id}/suspend", data={"reason": "Spam"})
    client.post(f"/admin/users/{learner.id}/permissions/grant", data={"permission": "moderate"})
    resp = htmx.get("/admin/audit?action=user.suspended")
    assert resp.status_code == 200
    assert b"<html" not in resp.data and b"<h1>Audit log</h1>" not in resp.data
    assert b"<code>user.suspended</code>" in resp.data
    assert b"user.permission_granted</code>" not in resp.data


@pytest.mark.parametrize("query", ["page=99999999999999999999", "action=" + "a" * 500, "page=x"])
def test_audit_page_survives_odd_query_strings(client, as_admin, query):
    assert client.get(f"/admin/audit?{query}").status_code == 200


# --- who may not -----------------------------------------------------------------------

USER_PAGES = [
    ("get", "/admin/users"),
    ("get", "/admin/users/{id}"),
    ("post", "/admin/users/{id}/suspend"),
    ("post", "/admin/users/{id}/unsuspend"),
    ("post", "/admin/users/{id}/permissions/grant"),
    ("post", "/admin/users/{id}/permissions/revoke"),
]
ALL_PAGES = [("get", "/admin/"), *USER_PAGES, ("get", "/admin/audit")]


def call(client, method, path, target, headers=None):
    form = {"reason": "Because", "permission": "moderate"} if method == "post" else None
    return getattr(client, method)(path.format(id=target.id), data=form, headers=headers or {})


@pytest.mark.parametrize("method, path", ALL_PAGES)
def test_anonymous_visitor_is_sent_to_log_in(client, learner, method, path):
    resp = call(client, method, path, learner)
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith("/auth/login")
    if method == "get":
        assert resp.headers["Location"].startswith("/auth/login?next=%2Fadmin%2F")
    assert "Please log in to continue." in text(client.get("/auth/login"))


@pytest.mark.parametrize("method, path", ALL_PAGES)
def test_anonymous_htmx_request_gets_an_hx_redirect_to_log_in(client, learner, method, path):
    headers = {**HX, "HX-Current-URL": "http://localhost/admin/users?q=x"}
    resp = call(client, method, path, learner, headers)
    assert resp.status_code == 401
    assert resp.headers["HX-Redirect"] == "/auth/login?next=%2Fadmin%2Fusers%3Fq%3Dx"
    assert b"<html" not in resp.data


def test_anonymous_htmx_request_from_another_site_does_not_come_back_there(client):
    resp = client.get("/admin/", headers={**HX, "HX-Current-URL": "https://evil.com/x"})
    assert resp.status_code == 401 and resp.headers["HX-Redirect"] == "/auth/login"


def assert_forbidden_page(resp):
    assert resp.status_code == 403
    assert b"<html" in resp.data and b"Not allowed" in resp.data


def assert_forbidden_fragment(resp):
    assert resp.status_code == 403
    assert b"<html" not in resp.data
    assert resp.headers["HX-Retarget"] == "#alerts"
    assert b'class="flash flash-error" role="alert"' in resp.data
    assert b"You are not allowed to" in resp.data


@pytest.mark.parametrize("method, path", ALL_PAGES)
def test_learner_without_permissions_gets_a_403_page(client, login, learner, method, path):
    login(learner)
    resp = call(client, method, path, learner)
    assert_forbidden_page(resp)
    assert "You are not allowed to open the admin area." in text(resp)


@pytest.mark.parametrize("method, path", ALL_PAGES)
def test_learner_without_permissions_gets_a_403_fragment_over_htmx(client, login, learner, method, path):
    login(learner)
    assert_forbidden_fragment(call(client, method, path, learner, HX))


@pytest.mark.parametrize("method, path", [*USER_PAGES, ("get", "/admin/audit")])
def test_moderator_may_not_manage_users_or_read_the_audit_log(client, login, moderator, learner,
                                                              method, path):
    login(moderator)
    assert_forbidden_page(call(client, method, path, learner))
    assert_forbidden_fragment(call(client, method, path, learner, HX))
    assert not fresh(learner).is_suspended() and fresh(learner).permissions == frozenset()


@pytest.mark.parametrize("form", [{}, {"reason": ""}, {"permission": ""}])
def test_moderator_posting_an_empty_form_learns_nothing_about_the_user(client, login, moderator,
                                                                      learner, form):
    login(moderator)
    for action in ("suspend", "unsuspend", "permissions/grant", "permissions/revoke"):
        resp = client.post(f"/admin/users/{learner.id}/{action}", data=form)
        assert resp.status_code == 403, action
        assert b"learner@example.test" not in resp.data
        resp = client.post(f"/admin/users/{learner.id}/{action}", data=form, headers=HX)
        assert resp.status_code == 403 and b"learner@example.test" not in resp.data


def test_moderator_cannot_probe_which_user_ids_exist(client, login, moderator):
    login(moderator)
    assert client.get("/admin/users/987654").status_code == 403
    assert client.post("/admin/users/987654/suspend", data={"reason": "x"}).status_code == 403


def test_user_admin_may_manage_ordinary_users(client, login, user_admin, learner):
    login(user_admin)
    assert client.get(f"/admin/users/{learner.id}").status_code == 200
    resp = client.post(f"/admin/users/{learner.id}/permissions/grant", data={"permission": "moderate"})
    assert resp.status_code == 302 and fresh(learner).permissions == {"moderate"}


def test_user_admin_may_not_grant_superuser(client, login, user_admin, learner):
    login(user_admin)
    resp = client.post(f"/admin/users/{learner.id}/permissions/grant", data={"permission": "superuser"})
    assert_forbidden_page(resp)
    assert "You are not allowed to grant superuser." in text(resp)
    resp = client.post(f"/admin/users/{learner.id}/permissions/grant",
                       data={"permission": "superuser"}, headers=HX)
    assert_forbidden_fragment(resp)
    assert fresh(learner).permissions == frozenset()
    assert audit_rows("user.permission_granted") == []


def test_user_admin_may_not_grant_superuser_to_themselves(client, login, user_admin):
    login(user_admin)
    resp = client.post(f"/admin/users/{user_admin.id}/permissions/grant",
                       data={"permission": "superuser"})
    assert_forbidden_page(resp)
    assert "superuser" not in fresh(user_admin).permissions


def test_user_admin_may_not_revoke_a_superuser(client, login, user_admin, admin):
    login(user_admin)
    resp = client.post(f"/admin/users/{admin.id}/permissions/revoke", data={"permission": "superuser"})
    assert_forbidden_page(resp)
    assert "superuser" in fresh(admin).permissions


def test_user_admin_page_hides_the_superuser_button(client, login, user_admin, learner):
    login(user_admin)
    body = text(client.get(f"/admin/users/{learner.id}"))
    superuser_row = body[body.index("<td>Superuser (every permission)</td>"):].split("</tr>")[0]
    assert "<small>—</small>" in superuser_row and "Grant" not in superuser_row


def test_nobody_may_revoke_their_own_superuser(client, login, admin):
    login(admin)
    resp = client.post(f"/admin/users/{admin.id}/permissions/revoke", data={"permission": "superuser"})
    assert_forbidden_page(resp)
    assert "You are not allowed to revoke superuser." in text(resp)
    assert_forbidden_fragment(client.post(f"/admin/users/{admin.id}/permissions/revoke",
                                          data={"permission": "superuser"}, headers=HX))
    assert "superuser" in fresh(admin).permissions
    assert audit_rows("user.permission_revoked") == []


def test_second_superuser_may_revoke_the_first(client, login, admin, make_user):
    other = make_user(permissions=("superuser",))
    login(other)
    resp = client.post(f"/admin/users/{admin.id}/permissions/revoke", data={"permission": "superuser"})
    assert resp.status_code == 302
    assert "superuser" not in fresh(admin).permissions


@pytest.mark.parametrize("persona", ["admin", "user_admin"])
def test_nobody_may_suspend_themselves(client, login, request, persona):
    me = login(request.getfixturevalue(persona))
    resp = client.post(f"/admin/users/{me.id}/suspend", data={"reason": "Testing"})
    assert_forbidden_page(resp)
    assert "You are not allowed to suspend this user." in text(resp)
    assert_forbidden_fragment(client.post(f"/admin/users/{me.id}/suspend",
                                          data={"reason": "Testing"}, headers=HX))
    assert not fresh(me).is_suspended()
    assert client.get("/admin/").status_code == 200


def test_user_admin_may_not_suspend_a_superuser(client, login, user_admin, admin):
    login(user_admin)
    assert_forbidden_page(client.post(f"/admin/users/{admin.id}/suspend", data={"reason": "Coup"}))
    assert_forbidden_page(client.post(f"/admin/users/{admin.id}/unsuspend"))
    assert not fresh(admin).is_suspended()


def test_admin_whose_permissions_are_revoked_is_refused_at_the_next_request(
        client, other_client, login, admin, user_admin):
    login(user_admin)
    assert client.get("/admin/users").status_code == 200
    login(admin, on=other_client)
    other_client.post(f"/admin/users/{user_admin.id}/permissions/revoke",
                      data={"permission": "manage_users"})
    assert client.get("/admin/users").status_code == 403
