"""/api/v1/admin: the course review queue and its decisions (`admin:review_courses`), users and
suspensions (`admin:manage_users`) and the moderation queue (`admin:moderate`), through the
services the admin pages call; every route refused without its scope or its permission."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.accounts.api_tokens import create_token
from app.catalog.models import Course
from app.dbtypes import utcnow
from app.errors import Invalid
from app.extensions import db
from app.moderation.models import AuditLog, Report
from tests.support.api import assert_admin_only, assert_problem
from tests.support.moderation import chat_line, course_review, member, reported

ROUTES = [
    ("review_courses", "GET", "/api/v1/admin/review", {}),
    ("review_courses", "POST", "/api/v1/admin/review/1/approve", {}),
    ("review_courses", "POST", "/api/v1/admin/review/1/reject", {"json": {"reasons": ["quality"]}}),
    ("manage_users", "GET", "/api/v1/admin/users", {}),
    ("manage_users", "GET", "/api/v1/admin/users/1", {}),
    ("manage_users", "POST", "/api/v1/admin/users/1/suspend", {"json": {"reason": "Spam"}}),
    ("manage_users", "POST", "/api/v1/admin/users/1/unsuspend", {}),
    ("moderate", "GET", "/api/v1/admin/moderation", {}),
    ("moderate", "POST", "/api/v1/admin/moderation/chat_message/1",
     {"json": {"action": "dismiss", "reason": "Fine"}}),
]


@pytest.mark.parametrize("permission, method, path, kwargs", ROUTES)
def test_every_route_needs_its_admin_scope_and_permission(client, permission, method, path, kwargs):
    assert_admin_only(client, permission, method, path, **kwargs)


@pytest.mark.parametrize("permission, path", [("review_courses", "/api/v1/admin/review"),
                                              ("manage_users", "/api/v1/admin/users"),
                                              ("moderate", "/api/v1/admin/moderation")])
@pytest.mark.parametrize("query", [{"limit": 0}, {"limit": 101}, {"limit": "all"}, {"cursor": "forged"},
                                   {"cursor": "x" * 201}, {"unknown": 1}])
def test_bad_list_queries_are_422(api, make_user, permission, path, query):
    caller = api(make_user(permissions=(permission,)), f"admin:{permission}")
    assert_problem(caller.get(path, query_string=query), 422)


def test_only_a_holder_of_the_permission_can_make_an_admin_token(learner, reviewer):
    with pytest.raises(Invalid):
        create_token(learner, name="sneaky", scopes=["admin:review_courses"])
    with pytest.raises(Invalid):
        create_token(reviewer, name="other", scopes=["admin:manage_finance"])


def audit_rows(action: str) -> list[AuditLog]:
    return list(db.session.scalars(sa.select(AuditLog).where(AuditLog.action == action)))


# --- review queue ----------------------------------------------------------------------------

@pytest.fixture
def waiting(make_course, creator):
    """Two courses under review, the first submitted earlier."""
    now = utcnow()
    return [make_course(creator, title=title, status="under_review", price_minor=1999,
                        submitted_at=now - timedelta(hours=hours))
            for title, hours in (("Older", 5), ("Newer", 1))]


@pytest.fixture
def reviewing(api, reviewer):
    return api(reviewer, "admin:review_courses")


def test_the_review_queue_lists_the_longest_waiting_first(reviewing, waiting, creator):
    body = reviewing.get("/api/v1/admin/review").get_json()
    assert [item["title"] for item in body["items"]] == ["Older", "Newer"]
    first = body["items"][0]
    assert first["creator"] == {"id": creator.id, "display_name": creator.display_name, "headline": ""}
    assert first["price"] == {"amount_minor": 1999, "currency": "USD"}
    assert first["submitted_at"].endswith("Z") and first["lessons"] == 0
    assert any(not entry["ok"] for entry in first["checklist"])
    assert body["next_cursor"] is None


def test_the_review_queue_pages_by_cursor(reviewing, waiting):
    page = reviewing.get("/api/v1/admin/review?limit=1").get_json()
    assert [item["id"] for item in page["items"]] == [waiting[0].id]
    page = reviewing.get("/api/v1/admin/review", query_string={"limit": 1, "cursor": page["next_cursor"]}).get_json()
    assert [item["id"] for item in page["items"]] == [waiting[1].id] and page["next_cursor"] is None


def test_approving_publishes_and_is_audited(reviewing, waiting, reviewer):
    course = waiting[0]
    resp = reviewing.post(f"/api/v1/admin/review/{course.id}/approve")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["id"] == course.id and body["status"] == "published" and body["published_at"].endswith("Z")
    db.session.expire_all()
    assert db.session.get(Course, course.id).status == "published"
    assert [row.actor_id for row in audit_rows("course.approved")] == [reviewer.id]
    assert_problem(reviewing.post(f"/api/v1/admin/review/{course.id}/approve"), 409)


def test_approving_an_unknown_course_is_404(reviewing):
    assert_problem(reviewing.post("/api/v1/admin/review/999999/approve"), 404)
    assert_problem(reviewing.post("/api/v1/admin/review/999999/reject", json={"reasons": ["quality"]}), 404)


def test_a_reviewer_cannot_decide_on_their_own_course(api, make_course, reviewer):
    own = make_course(reviewer, status="under_review", submitted_at=utcnow())
    caller = api(reviewer, "admin:review_courses")
    assert_problem(caller.post(f"/api/v1/admin/review/{own.id}/approve"), 403)
    assert_problem(caller.post(f"/api/v1/admin/review/{own.id}/reject", json={"note": "Mine"}), 403)


def test_rejecting_sends_the_course_back_with_reasons(reviewing, waiting):
    course = waiting[1]
    resp = reviewing.post(f"/api/v1/admin/review/{course.id}/reject",
                          json={"reasons": ["quality", "pricing"], "note": "Fix the audio."})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.get_json() == {"id": course.id, "status": "draft", "published_at": None}
    [row] = audit_rows("course.rejected")
    assert row.after["reasons"] == ["quality", "pricing"] and row.reason == "Fix the audio."


@pytest.mark.parametrize("body, field", [
    ({"reasons": ["boring"]}, "reasons.0"),
    ({"reasons": "quality"}, "reasons"),
    ({"note": "ok", "extra": 1}, "extra"),
])
def test_bad_rejections_are_422(reviewing, waiting, body, field):
    problem = assert_problem(reviewing.post(f"/api/v1/admin/review/{waiting[0].id}/reject", json=body), 422)
    assert field in {error["field"] for error in problem["errors"]}


def test_a_rejection_needs_a_reason_or_a_note(reviewing, waiting):
    problem = assert_problem(reviewing.post(f"/api/v1/admin/review/{waiting[0].id}/reject", json={}), 422)
    assert "at least one reason" in problem["detail"]
    assert problem["errors"] == [{"field": "reasons", "message": problem["detail"]}]
    problem = assert_problem(reviewing.post(f"/api/v1/admin/review/{waiting[0].id}/reject",
                                            json={"note": "x" * 5001}), 422)
    assert "5,000" in problem["detail"]
    db.session.expire_all()
    assert db.session.get(Course, waiting[0].id).status == "under_review"


def test_a_json_body_must_be_json(reviewing, waiting):
    assert_problem(reviewing.post(f"/api/v1/admin/review/{waiting[0].id}/reject", data="reasons=quality",
                                  content_type="application/x-www-form-urlencoded"), 415)


# --- users and suspensions --------------------------------------------------------------------

@pytest.fixture
def managing(api, user_admin):
    return api(user_admin, "admin:manage_users")


def test_user_search_finds_by_name_or_email(managing, learner, creator):
    body = managing.get("/api/v1/admin/users", query_string={"q": "LENA"}).get_json()
    assert [item["id"] for item in body["items"]] == [learner.id]
    [found] = body["items"]
    assert found["email"] == learner.email and found["suspended"] is False and found["permissions"] == []
    assert found["can_suspend"] is True and found["created_at"].endswith("Z")
    by_mail = managing.get("/api/v1/admin/users", query_string={"q": "creator@example"}).get_json()
    assert [item["id"] for item in by_mail["items"]] == [creator.id]
    assert managing.get("/api/v1/admin/users", query_string={"q": "100%_"}).get_json()["items"] == []


def test_user_search_pages_newest_first(managing, make_user):
    base = utcnow() - timedelta(days=1)
    made = [make_user(display_name=f"Pager {n}", created_at=base + timedelta(minutes=n)) for n in range(3)]
    seen, cursor = [], None
    while True:
        query = {"q": "Pager", "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = managing.get("/api/v1/admin/users", query_string=query).get_json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [user.id for user in reversed(made)]


def test_user_search_refuses_a_long_query_and_another_lists_cursor(managing, reviewing, waiting):
    assert_problem(managing.get("/api/v1/admin/users", query_string={"q": "x" * 201}), 422)
    cursor = reviewing.get("/api/v1/admin/review?limit=1").get_json()["next_cursor"]
    assert_problem(managing.get("/api/v1/admin/users", query_string={"cursor": cursor}), 422)


def test_a_user_as_an_admin_sees_them(managing, admin, user_admin):
    body = managing.get(f"/api/v1/admin/users/{admin.id}").get_json()
    assert body["permissions"] == ["superuser"] and body["can_suspend"] is False  # a superuser
    assert managing.get(f"/api/v1/admin/users/{user_admin.id}").get_json()["can_suspend"] is False  # yourself
    assert_problem(managing.get("/api/v1/admin/users/999999"), 404)


def test_suspending_locks_the_user_out_until_the_end_of_the_day(managing, api, learner, user_admin):
    learners_token = api(learner, "read")
    until = date.today() + timedelta(days=3)
    resp = managing.post(f"/api/v1/admin/users/{learner.id}/suspend",
                         json={"reason": "Spam in chat", "until": until.isoformat()})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["suspended"] is True and body["suspension_reason"] == "Spam in chat"
    assert body["suspended_until"] == datetime.combine(until, datetime.max.time(), tzinfo=UTC).isoformat() \
        .replace("+00:00", "Z")
    [row] = audit_rows("user.suspended")
    assert row.actor_id == user_admin.id and row.reason == "Spam in chat"
    assert "suspended" in assert_problem(learners_token.get("/api/v1/me"), 403)["detail"]

    resp = managing.post(f"/api/v1/admin/users/{learner.id}/unsuspend")
    assert resp.status_code == 200 and resp.get_json()["suspended"] is False
    assert resp.get_json()["suspended_until"] is None
    assert learners_token.get("/api/v1/me").status_code == 200
    assert len(audit_rows("user.unsuspended")) == 1
    again = managing.post(f"/api/v1/admin/users/{learner.id}/unsuspend")
    assert again.status_code == 200 and len(audit_rows("user.unsuspended")) == 1


@pytest.mark.parametrize("body, field", [
    ({"reason": "  "}, "reason"),  # the service: "Give a reason"
    ({"reason": "Spam", "until": (date.today() - timedelta(days=1)).isoformat()}, "until"),  # the service
    ({"reason": "Spam", "until": "next week"}, "until"),
    ({"reason": "x" * 2001}, "reason"),
    ({}, "reason"),
])
def test_bad_suspensions_are_422(managing, learner, body, field):
    problem = assert_problem(managing.post(f"/api/v1/admin/users/{learner.id}/suspend", json=body), 422)
    if field:
        assert field in {error["field"] for error in problem["errors"]}
    db.session.expire_all()
    assert not learner.is_suspended()


def test_suspending_yourself_or_a_superuser_is_403_and_unknown_is_404(managing, admin, user_admin):
    assert_problem(managing.post(f"/api/v1/admin/users/{user_admin.id}/suspend", json={"reason": "Oops"}), 403)
    assert_problem(managing.post(f"/api/v1/admin/users/{admin.id}/suspend", json={"reason": "Power"}), 403)
    assert_problem(managing.post(f"/api/v1/admin/users/{admin.id}/unsuspend"), 403)
    assert_problem(managing.post("/api/v1/admin/users/999999/suspend", json={"reason": "Spam"}), 404)
    assert_problem(managing.post("/api/v1/admin/users/999999/unsuspend"), 404)


# --- moderation ------------------------------------------------------------------------------

@pytest.fixture
def moderating(api, moderator):
    return api(moderator, "admin:moderate")


@pytest.fixture
def room(make_course, creator):
    return make_course(creator, title="Python Basics", status="published")


@pytest.fixture
def troll(make_user, room):
    user = make_user(display_name="Tom Troll")
    member(user, room)
    return user


@pytest.fixture
def reviewed(room, make_user, learner):
    """A reported one-star review of the room's course, reported a day after the chat line."""
    author = make_user(display_name="Rex Reviewer")
    member(author, room)
    review = course_review(room, author, body="Awful")
    reported(learner, "review", review.id, "Fake", at=datetime(2025, 3, 2, tzinfo=UTC))
    return review


@pytest.fixture
def line(room, troll, learner):
    """A reported chat message between two others."""
    member(learner, room)
    chat_line(room, learner, "hello all")
    message = chat_line(room, troll, "you are all idiots")
    chat_line(room, learner, "please stop")
    reported(learner, "chat_message", message.id, "Insulting everyone")
    return message


def test_the_queue_shows_each_item_with_its_context(moderating, line, troll, room):
    body = moderating.get("/api/v1/admin/moderation").get_json()
    [item] = body["items"]
    assert (item["target_type"], item["target_id"]) == ("chat_message", line.id)
    assert item["label"] == "a chat message in “Python Basics”" and item["reporter_count"] == 1
    assert [report["reason"] for report in item["reports"]] == ["Insulting everyone"]
    assert item["actions"] == ["dismiss", "delete", "mute", "ban"]  # suspending needs manage_users
    content = item["content"]
    assert content["exists"] and content["author"]["display_name"] == "Tom Troll"
    assert content["course_id"] == room.id
    assert [(m["body"], m["reported"]) for m in content["around"]] == [
        ("hello all", False), ("you are all idiots", True), ("please stop", False)]
    assert "reporter" not in str(item["reports"])  # reporters are not named


def test_the_queue_pages_by_cursor(moderating, line, reviewed):
    first = moderating.get("/api/v1/admin/moderation?limit=1").get_json()
    assert [item["target_type"] for item in first["items"]] == ["chat_message"]
    second = moderating.get("/api/v1/admin/moderation",
                            query_string={"limit": 1, "cursor": first["next_cursor"]}).get_json()
    assert [(item["target_type"], item["content"]["rating"]) for item in second["items"]] == [("review", 1)]
    assert first["next_cursor"] and second["next_cursor"] is None
    assert second["items"][0]["content"]["body"] == "Awful"


def test_deciding_closes_the_reports_once(moderating, line, moderator):
    url = f"/api/v1/admin/moderation/chat_message/{line.id}"
    resp = moderating.post(url, json={"action": "mute", "reason": "Insults", "minutes": 60})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["action"] == "mute" and body["status"] == "resolved" and body["reports"] == 1
    assert "1 hour" in body["outcome"]
    assert set(db.session.scalars(sa.select(Report.status).where(Report.target_id == line.id))) == {"resolved"}
    assert [row.actor_id for row in audit_rows("moderation.mute")] == [moderator.id]
    assert_problem(moderating.post(url, json={"action": "dismiss", "reason": "Again"}), 409)
    assert moderating.get("/api/v1/admin/moderation").get_json()["items"] == []


@pytest.mark.parametrize("body, field", [
    ({"action": "burn", "reason": "x"}, "action"),
    ({"action": "dismiss"}, "reason"),
    ({"action": "mute", "reason": "x", "minutes": "soon"}, "minutes"),
    ({"action": "mute", "reason": "x"}, "minutes"),  # a mute needs minutes (the service says so)
    ({"action": "dismiss", "reason": " "}, "reason"),
    ({"action": "ban", "reason": "x", "minutes": 0}, "minutes"),
])
def test_bad_decisions_are_422(moderating, line, body, field):
    problem = assert_problem(moderating.post(f"/api/v1/admin/moderation/chat_message/{line.id}", json=body), 422)
    if field:
        assert field in {error["field"] for error in problem["errors"]}
    assert set(db.session.scalars(sa.select(Report.status).where(Report.target_id == line.id))) == {"open"}


def test_mute_is_for_chat_and_suspend_needs_manage_users(moderating, line, reviewed):
    assert_problem(moderating.post(f"/api/v1/admin/moderation/review/{reviewed.id}",
                                   json={"action": "mute", "reason": "x", "minutes": 5}), 422)
    assert_problem(moderating.post(f"/api/v1/admin/moderation/chat_message/{line.id}",
                                   json={"action": "suspend", "reason": "Troll"}), 403)


def test_unknown_targets_are_404(moderating, line):
    decide = {"json": {"action": "dismiss", "reason": "x"}}
    assert_problem(moderating.post(f"/api/v1/admin/moderation/planet/{line.id}", **decide), 404)
    assert_problem(moderating.post("/api/v1/admin/moderation/chat_message/999999", **decide), 404)


def test_a_nul_character_in_a_json_body_is_a_400_not_a_crash(managing, moderating, learner, line):
    for caller, path, body in (
            (managing, f"/api/v1/admin/users/{learner.id}/suspend", {"reason": "Spam\u0000"}),
            (managing, f"/api/v1/admin/users/{learner.id}/suspend", {"reason": "Spam", "x\u0000": 1}),
            (moderating, f"/api/v1/admin/moderation/chat_message/{line.id}",
             {"action": "dismiss", "reason": ["a", {"b": "\u0000"}]})):
        problem = assert_problem(caller.post(path, json=body), 400)
        assert "not allowed" in problem["detail"]
    db.session.expire_all()
    assert not learner.is_suspended()
