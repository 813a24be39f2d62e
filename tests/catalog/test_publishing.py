"""The publishing workflow and its checklist (app/catalog/publishing.py).

draft -> under_review -> published, or rejected back to draft; withdrawn back to draft;
published -> unpublished (creator or admin) -> under_review again.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.catalog import courses, publishing, quizzes, structure
from app.catalog.errors import ChecklistFailed, IllegalTransition
from app.catalog.models import Course, ReviewDecision
from app.catalog.queries import review_queue
from app.errors import Invalid, NotAllowed
from app.messaging.models import Notification
from app.moderation.models import AuditLog
from tests.support.catalog import reviewable_draft

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def audit_rows(db, course) -> list[AuditLog]:
    return list(db.session.scalars(sa.select(AuditLog).where(
        AuditLog.target_type == "course", AuditLog.target_id == course.id).order_by(AuditLog.id)))


def notifications(db, user) -> list[Notification]:
    return list(db.session.scalars(
        sa.select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)))


def catalog_events(emitted) -> list[tuple[str, dict]]:
    return [(e.name, e.payload) for e in emitted if e.name.startswith("catalog.")]


def status_in_db(db, course) -> str:
    db.session.rollback()
    return db.session.get(Course, course.id).status


# --- the checklist ---------------------------------------------------------------------------

def test_a_complete_course_passes_the_checklist(db, ready_course):
    assert publishing.failures(ready_course) == []
    assert all(item.ok for item in publishing.checklist(ready_course))


def test_an_empty_course_lists_every_missing_piece(db, creator, make_course):
    course = make_course(creator, description="Too short")
    messages = [item.message for item in publishing.failures(course)]
    assert messages == [
        "The description has at least 200 characters (now 9)",
        "The course has a cover image",
        "The course has at least one section",
        "The course has at least 3 lessons (now 0)",
    ]


def _short_description(creator, course):
    courses.update_course_field(creator, course, "description", "x" * 199)


def _no_cover(creator, course):
    course.cover = None


def _no_category(creator, course):
    course.category_id = None


def _no_section(creator, course):
    for section in list(course.sections):
        course.sections.remove(section)


def _two_lessons(creator, course):
    structure.delete_lesson(creator, course.lessons[0])
    structure.delete_lesson(creator, course.lessons[0])


def _empty_text_lesson(creator, course):
    structure.add_lesson(creator, course.sections[0], title="Blank page", kind="text")


def _video_without_file(creator, course):
    structure.add_lesson(creator, course.sections[0], title="Missing clip", kind="video")


def _quiz_without_questions(creator, course):
    structure.add_lesson(creator, course.sections[0], title="Empty quiz", kind="quiz")


def _question_with_one_answer(creator, course):
    quiz = structure.add_lesson(creator, course.sections[0], title="Thin quiz", kind="quiz").quiz
    question = quizzes.add_question(creator, quiz, prompt="Q")
    quizzes.add_option(creator, question, text="Only", is_correct=True)


def _no_correct_answer(creator, course):
    question = next(lesson for lesson in course.lessons if lesson.kind == "quiz").quiz.questions[0]
    quizzes.set_correct(creator, question.options[0], False)


@pytest.mark.parametrize("breaker, message", [
    (_short_description, "The description has at least 200 characters (now 199)"),
    (_no_cover, "The course has a cover image"),
    (_no_category, "The course has a category"),
    (_two_lessons, "The course has at least 3 lessons (now 2)"),
    (_empty_text_lesson, "Lesson “Blank page” has no content yet"),
    (_video_without_file, "Lesson “Missing clip” has no content yet"),
    (_quiz_without_questions, "Lesson “Empty quiz” has no content yet"),
    (_question_with_one_answer, "Lesson “Thin quiz” has no content yet"),
    (_no_correct_answer, "A question in quiz “Check” has no correct answer"),
])
def test_each_missing_piece_blocks_submission_and_is_named(db, creator, ready_course, emitted,
                                                            breaker, message):
    breaker(creator, ready_course)
    with pytest.raises(ChecklistFailed) as exc:
        publishing.submit_for_review(creator, ready_course)
    assert [item.message for item in exc.value.failures] == [message]
    assert message in exc.value.message
    assert ready_course.status == "draft" and ready_course.submitted_at is None
    db.session.commit()
    assert catalog_events(emitted) == []


def test_a_course_without_sections_fails_on_sections_and_lessons(db, creator, ready_course):
    _no_section(creator, ready_course)
    messages = [item.message for item in publishing.failures(ready_course)]
    assert messages == ["The course has at least one section",
                        "The course has at least 3 lessons (now 0)"]


def test_failing_items_point_to_where_they_are_fixed(db, creator, ready_course):
    _empty_text_lesson(creator, ready_course)
    _no_cover(creator, ready_course)
    blank = ready_course.lessons[-1]
    assert [item.anchor for item in publishing.failures(ready_course)] == ["cover", f"lesson-{blank.id}"]


# --- submit and withdraw ---------------------------------------------------------------------

def test_submitting_a_complete_draft_puts_it_under_review(db, creator, ready_course, emitted):
    publishing.submit_for_review(creator, ready_course, now=NOW)
    assert catalog_events(emitted) == []
    db.session.commit()
    assert (ready_course.status, ready_course.submitted_at) == ("under_review", NOW)
    assert catalog_events(emitted) == [("catalog.course.submitted", {"course_id": ready_course.id})]


def test_submitting_twice_is_an_illegal_transition(db, creator, submitted_course):
    with pytest.raises(IllegalTransition, match="under review"):
        publishing.submit_for_review(creator, submitted_course)


def test_a_published_course_cannot_be_submitted(db, creator, published_course):
    with pytest.raises(IllegalTransition):
        publishing.submit_for_review(creator, published_course)


def test_only_the_creator_submits(db, admin, reviewer, make_user, ready_course):
    for someone in (make_user(), admin, reviewer, None):
        with pytest.raises(NotAllowed):
            publishing.submit_for_review(someone, ready_course)
    assert status_in_db(db, ready_course) == "draft"


def test_the_creator_can_withdraw_a_submission(db, creator, submitted_course):
    publishing.withdraw_submission(creator, submitted_course)
    db.session.commit()
    assert (submitted_course.status, submitted_course.submitted_at) == ("draft", None)
    courses.update_course_field(creator, submitted_course, "subtitle", "Editable again")


@pytest.mark.parametrize("status", ["draft", "published", "unpublished"])
def test_only_a_course_under_review_can_be_withdrawn(db, creator, make_course, status):
    course = make_course(creator, status=status)
    with pytest.raises(IllegalTransition):
        publishing.withdraw_submission(creator, course)
    assert course.status == status


def test_nobody_else_can_withdraw_a_submission(db, admin, reviewer, submitted_course):
    for someone in (admin, reviewer):
        with pytest.raises(NotAllowed):
            publishing.withdraw_submission(someone, submitted_course)
    assert status_in_db(db, submitted_course) == "under_review"


# --- approve ---------------------------------------------------------------------------------

def test_a_reviewer_approves_and_the_course_is_published(db, creator, reviewer, submitted_course,
                                                         emitted):
    publishing.approve_course(reviewer, submitted_course, now=NOW, ip="10.1.2.3")
    assert catalog_events(emitted) == []
    db.session.commit()
    course = db.session.get(Course, submitted_course.id)
    assert (course.status, course.published_at) == ("published", NOW)
    decision = course.decisions[0]
    assert (decision.decision, decision.reviewer_id, decision.created_at) == ("approved", reviewer.id, NOW)
    assert course.last_rejection is None
    [row] = audit_rows(db, course)
    assert (row.action, row.actor_id, row.ip) == ("course.approved", reviewer.id, "10.1.2.3")
    assert (row.before, row.after) == ({"status": "under_review"}, {"status": "published"})
    [note] = notifications(db, creator)
    assert note.kind == "course.approved"
    assert note.data == {"course_id": course.id, "title": course.title}
    assert catalog_events(emitted) == [("catalog.course.reviewed", {"decision_id": decision.id}),
                                       ("catalog.course.published", {"course_id": course.id})]


def test_a_superuser_may_approve(db, admin, submitted_course):
    publishing.approve_course(admin, submitted_course)
    assert submitted_course.status == "published"


def test_a_creator_cannot_approve_their_own_course_even_as_a_reviewer(db, make_user):
    reviewing_creator = make_user(permissions=("review_courses",))
    course = reviewable_draft(reviewing_creator)
    publishing.submit_for_review(reviewing_creator, course)
    db.session.commit()
    with pytest.raises(NotAllowed):
        publishing.approve_course(reviewing_creator, course)
    with pytest.raises(NotAllowed):
        publishing.reject_course(reviewing_creator, course, reasons=["quality"])
    assert status_in_db(db, course) == "under_review"
    assert audit_rows(db, course) == []


def test_approving_needs_the_review_permission(db, creator, learner, user_admin, make_user,
                                               submitted_course, anonymous):
    for someone in (creator, learner, user_admin, make_user(permissions=("moderate",)),
                    anonymous, None):
        with pytest.raises(NotAllowed):
            publishing.approve_course(someone, submitted_course)
    assert status_in_db(db, submitted_course) == "under_review"
    assert audit_rows(db, submitted_course) == []


@pytest.mark.parametrize("status", ["draft", "published", "unpublished"])
def test_only_a_course_under_review_can_be_approved_or_rejected(db, reviewer, make_course, status):
    course = make_course(status=status)
    with pytest.raises(IllegalTransition):
        publishing.approve_course(reviewer, course)
    with pytest.raises(IllegalTransition):
        publishing.reject_course(reviewer, course, reasons=["quality"])
    assert status_in_db(db, course) == status
    assert audit_rows(db, course) == []


# --- reject ----------------------------------------------------------------------------------

def test_a_rejected_course_goes_back_to_draft_with_the_reasons(db, creator, reviewer,
                                                               submitted_course, emitted):
    publishing.reject_course(reviewer, submitted_course, reasons=["quality", "misleading"],
                         note="  The audio hisses.  ", now=NOW, ip="10.0.0.9")
    db.session.commit()
    course = db.session.get(Course, submitted_course.id)
    assert (course.status, course.submitted_at, course.published_at) == ("draft", None, None)
    decision = course.last_rejection
    assert (decision.decision, decision.reviewer_id) == ("rejected", reviewer.id)
    assert (decision.reasons, decision.note, decision.created_at) == \
        (["quality", "misleading"], "The audio hisses.", NOW)
    [row] = audit_rows(db, course)
    assert (row.action, row.actor_id, row.reason, row.ip) == \
        ("course.rejected", reviewer.id, "The audio hisses.", "10.0.0.9")
    assert row.after == {"status": "draft", "reasons": ["quality", "misleading"]}
    [note] = notifications(db, creator)
    assert note.kind == "course.rejected"
    assert note.data["reasons"] == [publishing.REJECTION_REASONS["quality"],
                                    publishing.REJECTION_REASONS["misleading"]]
    assert note.data["note"] == "The audio hisses."
    # nothing public changed; the decision is announced (the admin's review-queue figures)
    assert catalog_events(emitted) == [("catalog.course.reviewed", {"decision_id": decision.id})]


def test_a_note_alone_is_reason_enough(db, reviewer, submitted_course):
    publishing.reject_course(reviewer, submitted_course, reasons=[], note="Please add captions.")
    assert submitted_course.status == "draft"
    assert submitted_course.last_rejection.reasons == []


@pytest.mark.parametrize("reasons, note, field", [
    ([], "", "reasons"),
    ([], "   ", "reasons"),
    (["boring"], "It is boring", "reasons"),
    (["quality", "nope"], "", "reasons"),
    (["quality"], "n" * 5001, "note"),
])
def test_a_rejection_needs_known_reasons_or_a_note_and_saves_nothing_otherwise(
        db, creator, reviewer, submitted_course, reasons, note, field):
    with pytest.raises(Invalid) as exc:
        publishing.reject_course(reviewer, submitted_course, reasons=reasons, note=note)
    assert exc.value.field == field
    assert submitted_course.status == "under_review"
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReviewDecision)) == 0
    assert audit_rows(db, submitted_course) == [] and notifications(db, creator) == []


def test_the_creator_edits_a_rejected_course_and_submits_it_again(db, creator, reviewer,
                                                                  submitted_course):
    publishing.reject_course(reviewer, submitted_course, reasons=["incomplete"])
    courses.update_course_field(creator, submitted_course, "subtitle", "Now complete")
    publishing.submit_for_review(creator, submitted_course)
    publishing.approve_course(reviewer, submitted_course)
    db.session.commit()
    course = db.session.get(Course, submitted_course.id)
    assert course.status == "published"
    assert [d.decision for d in course.decisions] == ["approved", "rejected"]
    assert course.last_rejection is None


def test_a_never_published_course_can_be_deleted_after_a_rejection(db, creator, reviewer,
                                                                   submitted_course):
    publishing.reject_course(reviewer, submitted_course, reasons=["policy"])
    courses.delete_course(creator, submitted_course)
    db.session.commit()
    assert db.session.get(Course, submitted_course.id) is None


# --- unpublish and publish again -------------------------------------------------------------

def test_the_creator_unpublishes_without_a_reason(db, creator, published_course, emitted):
    publishing.unpublish_course(creator, published_course, now=NOW)
    db.session.commit()
    assert (published_course.status, published_course.unpublished_at) == ("unpublished", NOW)
    assert published_course.published_at is not None
    assert audit_rows(db, published_course)[-1].action == "course.approved"  # nothing new
    assert [n.kind for n in notifications(db, creator)] == ["course.approved"]
    assert catalog_events(emitted) == [("catalog.course.unpublished",
                                        {"course_id": published_course.id})]


def test_an_admin_unpublishes_with_a_reason_which_is_audited_and_told(db, creator, admin,
                                                                      published_course, emitted):
    publishing.unpublish_course(admin, published_course, reason=" Copyright claim ", ip="10.0.0.1")
    db.session.commit()
    assert published_course.status == "unpublished"
    row = audit_rows(db, published_course)[-1]
    assert (row.action, row.actor_id, row.reason, row.ip) == \
        ("course.unpublished", admin.id, "Copyright claim", "10.0.0.1")
    note = notifications(db, creator)[-1]
    assert (note.kind, note.data["reason"]) == ("course.unpublished", "Copyright claim")
    assert catalog_events(emitted) == [("catalog.course.unpublished",
                                        {"course_id": published_course.id})]


@pytest.mark.parametrize("reason", ["", "   "])
def test_an_admin_must_say_why_and_the_course_stays_published(db, creator, admin,
                                                             published_course, emitted, reason):
    with pytest.raises(Invalid) as exc:
        publishing.unpublish_course(admin, published_course, reason=reason)
    assert exc.value.field == "reason"
    assert (published_course.status, published_course.unpublished_at) == ("published", None)
    db.session.commit()
    assert status_in_db(db, published_course) == "published"
    assert [row.action for row in audit_rows(db, published_course)] == ["course.approved"]
    assert catalog_events(emitted) == []


def test_a_reviewer_may_unpublish_too(db, reviewer, published_course):
    publishing.unpublish_course(reviewer, published_course, reason="Broken videos")
    assert published_course.status == "unpublished"


def test_others_cannot_unpublish(db, learner, make_user, user_admin, published_course, anonymous):
    for someone in (learner, make_user(), user_admin, anonymous, None):
        with pytest.raises(NotAllowed):
            publishing.unpublish_course(someone, published_course, reason="Because")
    assert status_in_db(db, published_course) == "published"


@pytest.mark.parametrize("status", ["draft", "under_review", "unpublished"])
def test_only_a_published_course_can_be_unpublished(db, creator, make_course, status):
    course = make_course(creator, status=status)
    with pytest.raises(IllegalTransition):
        publishing.unpublish_course(creator, course)
    assert course.status == status


def test_an_unpublished_course_goes_through_review_again(db, creator, reviewer, published_course):
    first_published = published_course.published_at
    publishing.unpublish_course(creator, published_course)
    publishing.submit_for_review(creator, published_course, now=NOW)
    assert published_course.status == "under_review"
    publishing.approve_course(reviewer, published_course, now=NOW + timedelta(hours=1))
    assert published_course.status == "published" and published_course.unpublished_at is None
    assert published_course.published_at == NOW + timedelta(hours=1) != first_published


def test_withdrawing_or_rejecting_a_once_published_course_leaves_it_unpublished(
        db, creator, reviewer, published_course):
    publishing.unpublish_course(creator, published_course)
    publishing.submit_for_review(creator, published_course)
    publishing.withdraw_submission(creator, published_course)
    assert published_course.status == "unpublished"
    publishing.submit_for_review(creator, published_course)
    publishing.reject_course(reviewer, published_course, reasons=["quality"])
    assert published_course.status == "unpublished"
    db.session.commit()
    assert db.session.scalars(sa.select(AuditLog.after).where(
        AuditLog.action == "course.rejected")).one()["status"] == "unpublished"


def test_an_unpublished_course_cannot_be_deleted(db, creator, published_course):
    publishing.unpublish_course(creator, published_course)
    with pytest.raises(IllegalTransition):
        courses.delete_course(creator, published_course)


# --- the queue -------------------------------------------------------------------------------

def test_the_review_queue_is_oldest_first_and_only_under_review(db, make_course):
    newer = make_course(status="under_review", submitted_at=NOW)
    older = make_course(status="under_review", submitted_at=NOW - timedelta(days=2))
    make_course(status="draft")
    make_course(status="published")
    assert [c.id for c in review_queue()] == [older.id, newer.id]


def test_the_review_queue_by_position_ties_broken_by_id(db, make_course):
    first, second, third = (make_course(status="under_review", submitted_at=NOW) for _ in range(3))
    earliest = make_course(status="under_review", submitted_at=NOW - timedelta(hours=1))
    assert [c.id for c in review_queue(limit=2)] == [earliest.id, first.id]
    assert [c.id for c in review_queue(after=(NOW, first.id))] == [second.id, third.id]
    assert review_queue(after=(NOW, third.id)) == []
