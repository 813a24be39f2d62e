"""The admin review queue (permission `review_courses`) and the learner's-eye preview of a
course, over HTTP."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.catalog import courses, structure
from app.catalog.models import Course
from app.extensions import db
from app.messaging.models import Notification
from app.moderation.models import AuditLog
from tests.support.pages import EVIL_MARKDOWN, HX, assert_fragment, assert_page, harmless, text, words
from tests.support.rows import reload
from tests.support.studio import build_course, lesson_of

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def reviewer(make_user):
    return make_user(email="reviewer@example.test", display_name="Rex Reviewer",
                     permissions=("review_courses",))


@pytest.fixture
def other_creator(make_user):
    return make_user(email="rival@example.test", display_name="Rita Rival")


@pytest.fixture
def submitted(creator):
    return build_course(creator, title="Waiting for you", status="under_review", price=2999)


def audit_rows(course_id: int) -> list[AuditLog]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(AuditLog).where(AuditLog.target_type == "course",
                                                             AuditLog.target_id == course_id)))


def notifications_of(user) -> list[Notification]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Notification).where(Notification.user_id == user.id,
                                                                 Notification.kind.like("course.%"))))


# --- the queue ---------------------------------------------------------------------------------

def test_the_queue_lists_courses_under_review_oldest_first(client, login, creator, other_creator, reviewer):
    build_course(creator, title="Submitted second", status="under_review", now=T0 + timedelta(hours=2))
    build_course(other_creator, title="Submitted first", status="under_review", now=T0)
    build_course(creator, title="Submitted third", status="under_review", now=T0 + timedelta(days=1))
    build_course(creator, title="Still a draft")
    build_course(creator, title="Already live", status="published", reviewer=reviewer)
    login(reviewer)
    resp = client.get("/admin/review")
    assert_page(resp)
    titles = re.findall(r'<a href="/admin/review/\d+">([^<]+)</a>', text(resp))
    assert titles == ["Submitted first", "Submitted second", "Submitted third"]
    assert "Rita Rival" in text(resp) and "01 Mar 2025 09:00" in text(resp)


def test_the_queue_for_htmx_is_the_list_only(htmx, login, reviewer, submitted):
    login(reviewer)
    resp = htmx.get("/admin/review")
    assert_fragment(resp, "Waiting for you")
    assert "<table" in text(resp)


def test_an_empty_queue_says_so(client, login, reviewer):
    login(reviewer)
    assert "Nothing to review" in text(client.get("/admin/review"))


@pytest.mark.parametrize("who", ["learner", "moderator"])
def test_the_queue_needs_the_review_permission(client, htmx, login, make_user, learner, submitted, who):
    user = learner if who == "learner" else make_user(permissions=("moderate",))
    login(user)
    for url in ("/admin/review", f"/admin/review/{submitted.id}"):
        assert client.get(url).status_code == 403
        assert htmx.get(url).status_code == 403


def test_the_queue_sends_anonymous_visitors_to_log_in(client, submitted):
    for url in ("/admin/review", f"/admin/review/{submitted.id}"):
        resp = client.get(url)
        assert resp.status_code == 302 and resp.headers["Location"].startswith("/auth/login")
    resp = client.post(f"/admin/review/{submitted.id}/approve")
    assert resp.status_code == 302 and reload(Course, submitted.id).status == "under_review"


# --- the detail page ---------------------------------------------------------------------------

def test_the_review_page_shows_the_checklist_the_syllabus_and_the_decision(client, login, reviewer, submitted):
    login(reviewer)
    resp = client.get(f"/admin/review/{submitted.id}")
    assert_page(resp)
    body = text(resp)
    assert "✓ The course has a title" in body and "✓ The course has a cover image" in body
    for lesson in submitted.lessons:
        assert f'<a href="/courses/{submitted.id}/preview/lessons/{lesson.id}">{lesson.title}</a>' in body
    assert f'href="/courses/{submitted.id}/preview"' in body
    assert "Approve and publish" in body and "Send back with reasons" in body
    assert "$29.99" in body and "Carl Creator" in body


def test_the_review_page_for_htmx_is_the_decision_block(htmx, login, reviewer, submitted):
    login(reviewer)
    assert_fragment(htmx.get(f"/admin/review/{submitted.id}"), 'id="reject-note"')


def test_a_missing_course_is_404(client, login, reviewer):
    login(reviewer)
    assert client.get("/admin/review/999999").status_code == 404
    assert client.post("/admin/review/999999/approve").status_code == 404


def test_the_description_is_harmless_on_the_review_page(client, login, creator, reviewer):
    course = build_course(creator, complete=True)
    courses.update_course_field(creator, course, "description", EVIL_MARKDOWN + "\n\n" + "x" * 200)
    db.session.commit()
    login(reviewer)
    body = client.get(f"/admin/review/{course.id}").get_data(as_text=True)
    assert "<strong>still bold</strong>" in body
    harmless(body)


# --- approve ---------------------------------------------------------------------------------------

def test_approving_publishes_flashes_audits_and_tells_the_creator(client, login, creator, reviewer,
                                                                  submitted, emitted):
    login(reviewer)
    resp = client.post(f"/admin/review/{submitted.id}/approve")
    assert resp.status_code == 302 and resp.headers["Location"] == "/admin/review"
    saved = reload(Course, submitted.id)
    assert saved.status == "published" and saved.published_at is not None
    assert "“Waiting for you” is published." in text(client.get("/admin/review"))
    [entry] = audit_rows(submitted.id)
    assert (entry.action, entry.actor_id, entry.after) == ("course.approved", reviewer.id, {"status": "published"})
    [note] = notifications_of(creator)
    assert note.kind == "course.approved" and note.data["course_id"] == submitted.id
    assert "catalog.course.published" in [e.name for e in emitted]
    assert "Waiting for you" not in text(client.get("/admin/review"))


def test_approving_over_htmx_redirects_the_whole_page(htmx, login, reviewer, submitted):
    login(reviewer)
    resp = htmx.post(f"/admin/review/{submitted.id}/approve")
    assert resp.headers.get("HX-Redirect") == "/admin/review"
    assert reload(Course, submitted.id).status == "published"


@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
def test_approving_without_the_permission_is_403(client, login, make_user, creator, submitted, headers):
    login(make_user(permissions=("moderate", "manage_users", "manage_finance")))
    resp = client.post(f"/admin/review/{submitted.id}/approve", headers=headers)
    assert resp.status_code == 403
    assert reload(Course, submitted.id).status == "under_review"
    assert audit_rows(submitted.id) == [] and notifications_of(creator) == []


@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
def test_a_creator_cannot_approve_their_own_course(client, login, make_user, headers):
    reviewing_creator = make_user(permissions=("review_courses",))
    course = build_course(reviewing_creator, status="under_review")
    login(reviewing_creator)
    page = client.get(f"/admin/review/{course.id}")
    assert "another reviewer must decide" in text(page) and "Approve and publish" not in text(page)
    resp = client.post(f"/admin/review/{course.id}/approve", headers=headers)
    assert resp.status_code == 403
    resp = client.post(f"/admin/review/{course.id}/reject", data={"reasons": ["quality"]}, headers=headers)
    assert resp.status_code == 403
    assert reload(Course, course.id).status == "under_review" and audit_rows(course.id) == []


def test_even_a_superuser_cannot_approve_their_own_course(client, login, admin):
    course = build_course(admin, status="under_review")
    login(admin)
    assert client.post(f"/admin/review/{course.id}/approve").status_code == 403
    assert reload(Course, course.id).status == "under_review"


@pytest.mark.parametrize("status", ["draft", "published"])
def test_only_a_course_under_review_can_be_decided(client, login, creator, reviewer, status):
    course = build_course(creator, status=status, reviewer=reviewer)
    login(reviewer)
    assert client.post(f"/admin/review/{course.id}/approve").status_code == 409
    assert client.post(f"/admin/review/{course.id}/reject", data={"reasons": ["quality"]}).status_code == 409
    assert reload(Course, course.id).status == status


# --- reject ----------------------------------------------------------------------------------------

def test_rejecting_sends_the_course_back_with_the_reasons(client, other_client, login, creator, reviewer,
                                                          submitted):
    login(reviewer)
    resp = client.post(f"/admin/review/{submitted.id}/reject",
                       data={"reasons": ["quality", "incomplete"], "note": "The audio hisses in lesson 1."})
    assert resp.status_code == 302 and resp.headers["Location"] == "/admin/review"
    assert "went back to its creator with your reasons" in text(client.get("/admin/review"))
    saved = reload(Course, submitted.id)
    assert saved.status == "draft" and saved.submitted_at is None
    [entry] = audit_rows(submitted.id)
    assert entry.action == "course.rejected" and entry.reason == "The audio hisses in lesson 1."
    [note] = notifications_of(creator)
    assert note.kind == "course.rejected"
    # The creator sees the reasons in the editor, and can edit and submit again.
    login(creator, on=other_client)
    editor = other_client.get(f"/studio/courses/{submitted.id}")
    body = text(editor)
    assert "A reviewer asked for changes" in body
    assert "Video or audio quality is too low" in body
    assert "Lessons are missing content or the course feels unfinished" in body
    assert "The audio hisses in lesson 1." in body
    assert "Submit for review" in body


def test_rejecting_over_htmx_redirects_the_whole_page(htmx, login, reviewer, submitted):
    login(reviewer)
    resp = htmx.post(f"/admin/review/{submitted.id}/reject", data={"reasons": ["policy"]})
    assert resp.headers.get("HX-Redirect") == "/admin/review"
    assert reload(Course, submitted.id).status == "draft"


@pytest.mark.parametrize("reasons, note, message", [
    ([], "", "Give the creator at least one reason."),
    ([], "   ", "Give the creator at least one reason."),
    (["boring"], "Forged reason, typed note", "Choose reasons from the list."),
    (["quality"], "n" * 5001, "Keep the note under 5,000 characters."),
])
def test_a_rejection_without_a_proper_reason_is_422_and_keeps_what_was_typed(
        client, htmx, login, creator, reviewer, submitted, reasons, note, message):
    login(reviewer)
    form = {"reasons": reasons, "note": note}
    resp = client.post(f"/admin/review/{submitted.id}/reject", data=form)
    assert_page(resp, 422)
    assert message in text(resp)
    assert f'name="note" rows="4">{note}</textarea>' in text(resp)
    for reason in reasons:
        if reason == "quality":
            assert 'id="reason-quality" name="reasons" value="quality" checked' in text(resp)
    fragment = htmx.post(f"/admin/review/{submitted.id}/reject", data=form)
    assert_fragment(fragment, message, 422)
    assert f">{note}</textarea>" in text(fragment)
    assert reload(Course, submitted.id).status == "under_review"
    assert audit_rows(submitted.id) == [] and notifications_of(creator) == []


# --- admin unpublish -------------------------------------------------------------------------------

def test_an_admin_unpublish_needs_a_reason(client, htmx, login, creator, reviewer):
    course = build_course(creator, status="published", reviewer=reviewer)
    login(reviewer)
    page = client.get(f"/admin/review/{course.id}")
    assert "Unpublish the course" in text(page)
    for reason in ("", "   "):
        resp = client.post(f"/admin/courses/{course.id}/unpublish", data={"reason": reason})
        assert_page(resp, 422)
        assert "Tell the creator why the course is unpublished." in text(resp)
        fragment = htmx.post(f"/admin/courses/{course.id}/unpublish", data={"reason": reason})
        assert_fragment(fragment, "Tell the creator why the course is unpublished.", 422)
    assert reload(Course, course.id).status == "published"
    assert [row.action for row in audit_rows(course.id)] == ["course.approved"]


def test_an_admin_unpublish_with_a_reason_is_audited_and_told(client, login, creator, reviewer, emitted):
    course = build_course(creator, status="published", reviewer=reviewer)
    login(reviewer)
    resp = client.post(f"/admin/courses/{course.id}/unpublish", data={"reason": "A copyright complaint."})
    assert resp.status_code == 302 and resp.headers["Location"] == f"/admin/review/{course.id}"
    assert "its creator was told why" in text(client.get(resp.headers["Location"]))
    saved = reload(Course, course.id)
    assert saved.status == "unpublished" and saved.unpublished_at is not None
    entry = audit_rows(course.id)[-1]
    assert (entry.action, entry.reason, entry.actor_id) == ("course.unpublished", "A copyright complaint.", reviewer.id)
    assert [n.kind for n in notifications_of(creator)][-1] == "course.unpublished"
    assert "catalog.course.unpublished" in [e.name for e in emitted]


def test_an_admin_unpublish_needs_the_review_permission(client, login, make_user, creator, reviewer):
    course = build_course(creator, status="published", reviewer=reviewer)
    login(make_user(permissions=("moderate",)))
    resp = client.post(f"/admin/courses/{course.id}/unpublish", data={"reason": "Because."})
    assert resp.status_code == 403
    assert reload(Course, course.id).status == "published"


def test_only_a_published_course_can_be_unpublished(client, login, reviewer, submitted):
    login(reviewer)
    resp = client.post(f"/admin/courses/{submitted.id}/unpublish", data={"reason": "Because."})
    assert resp.status_code == 409
    assert reload(Course, submitted.id).status == "under_review"


# --- preview as a learner ----------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["owner", "reviewer"])
def test_the_owner_and_reviewers_preview_a_course_that_is_not_public(client, login, creator, reviewer, who):
    course = build_course(creator, title="Draft preview", price=1999)
    login(creator if who == "owner" else reviewer)
    resp = client.get(f"/courses/{course.id}/preview")
    assert_page(resp)
    body = text(resp)
    assert "<h1>Draft preview</h1>" in body and "Status: draft" in body and "$19.99" in body
    for lesson in course.lessons:
        assert f'href="/courses/{course.id}/preview/lessons/{lesson.id}"' in body
    assert ("Back to the editor" in body) == (who == "owner")


@pytest.mark.parametrize("who", ["anonymous", "learner", "other_creator", "moderator"])
@pytest.mark.parametrize("status", ["draft", "under_review", "published"])
def test_nobody_else_previews_a_course(client, login, make_user, creator, learner, other_creator, reviewer,
                                       who, status):
    course = build_course(creator, status=status, reviewer=reviewer)
    users = {"learner": learner, "other_creator": other_creator,
             "moderator": make_user(permissions=("moderate",))}
    if who in users:
        login(users[who])
    resp = client.get(f"/courses/{course.id}/preview")
    assert resp.status_code == 403
    assert "Welcome video" not in text(resp)
    paid = lesson_of(course, "pdf")
    assert client.get(f"/courses/{course.id}/preview/lessons/{paid.id}").status_code == 403


def test_a_free_preview_lesson_of_a_published_course_is_open_to_anyone(client, creator, reviewer):
    course = build_course(creator, status="published", reviewer=reviewer, price=1999)
    free = lesson_of(course, "video")
    resp = client.get(f"/courses/{course.id}/preview/lessons/{free.id}")
    assert_page(resp)
    assert f'src="/courses/lessons/{free.id}/media"' in text(resp)


def test_a_free_preview_lesson_of_a_draft_is_not(client, login, learner, creator):
    course = build_course(creator)
    free = lesson_of(course, "video")
    assert client.get(f"/courses/{course.id}/preview/lessons/{free.id}").status_code == 403
    login(learner)
    assert client.get(f"/courses/{course.id}/preview/lessons/{free.id}").status_code == 403


@pytest.mark.parametrize("who", ["owner", "reviewer"])
def test_every_kind_of_lesson_renders_in_the_preview(client, login, creator, reviewer, who):
    course = build_course(creator, status="under_review")
    login(creator if who == "owner" else reviewer)
    pages = {kind: client.get(f"/courses/{course.id}/preview/lessons/{lesson_of(course, kind).id}")
             for kind in ("video", "pdf", "text", "quiz")}
    for resp in pages.values():
        assert_page(resp)
    video_id, pdf_id = lesson_of(course, "video").id, lesson_of(course, "pdf").id
    assert re.search(rf'<video class="lesson-video" controls preload="metadata" src="/courses/lessons/{video_id}/media">',
                     text(pages["video"]))
    assert f'<object class="lesson-pdf" data="/courses/lessons/{pdf_id}/media" type="application/pdf"' \
        in text(pages["pdf"])
    assert "<h2>Start small</h2>" in text(pages["text"]) and "<em>work</em>" in text(pages["text"])
    quiz = words(pages["quiz"])
    assert "Pass mark: 70%." in quiz
    assert "Tests find bugs. True False" in quiz and "What comes first? A tiny goal A big plan" in quiz
    assert 'aria-current="page"' in text(pages["quiz"])


def test_a_lesson_of_another_course_is_404_in_the_preview(client, login, creator):
    first, second = build_course(creator, title="First"), build_course(creator, title="Second")
    login(creator)
    assert client.get(f"/courses/{first.id}/preview/lessons/{lesson_of(second, 'text').id}").status_code == 404
    assert client.get(f"/courses/{first.id}/preview/lessons/999999").status_code == 404
    assert client.get("/courses/999999/preview").status_code == 404


def test_lessons_without_content_say_so_in_the_preview(client, login, creator):
    course = build_course(creator, complete=False)
    section = structure.add_section(creator, course, title="Empty")
    lessons = {kind: structure.add_lesson(creator, section, title=f"Empty {kind}", kind=kind)
               for kind in ("video", "pdf", "text", "quiz")}
    db.session.commit()
    login(creator)
    for _kind, lesson in lessons.items():
        resp = client.get(f"/courses/{course.id}/preview/lessons/{lesson.id}")
        assert_page(resp)
    assert "This video is not uploaded yet." in text(client.get(f"/courses/{course.id}/preview/lessons/{lessons['video'].id}"))
    assert "This PDF is not uploaded yet." in text(client.get(f"/courses/{course.id}/preview/lessons/{lessons['pdf'].id}"))


def test_markdown_is_harmless_in_the_preview(client, login, creator):
    course = build_course(creator)
    courses.update_course_field(creator, course, "description", EVIL_MARKDOWN)
    structure.update_lesson(creator, lesson_of(course, "text"), body=EVIL_MARKDOWN)
    db.session.commit()
    login(creator)
    for url in (f"/courses/{course.id}/preview",
                f"/courses/{course.id}/preview/lessons/{lesson_of(course, 'text').id}"):
        body = client.get(url).get_data(as_text=True)
        assert "<strong>still bold</strong>" in body
        harmless(body)
