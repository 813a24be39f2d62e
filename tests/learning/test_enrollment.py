"""`enroll` and `revoke` (app/learning/enrollment.py) and the lesson-access rule they extend."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.catalog import publishing
from app.commerce.orders import check_buyable
from app.errors import Conflict, Invalid, NotAllowed, NotFound
from app.learning.enrollment import access_enrollment, enroll, revoke
from app.learning.models import Enrollment
from app.learning.progress import access_lesson
from app.learning.queries import active_enrollment, enrollment_for, enrollments_page, is_enrolled
from app.learning.stats import stats_for
from app.moderation.suspensions import suspend_user
from tests.support.learning import course_with_kinds, lessons_of, named


def enrollment_rows(db, course) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Enrollment)
                             .where(Enrollment.course_id == course.id))


# --- enrolling -------------------------------------------------------------------------

def test_enrolling_in_a_free_course_takes_one_call(db, learner, course):
    row = enroll(learner, course)
    db.session.commit()
    assert row.is_active and row.source == "free" and row.payment_status == "none"
    assert is_enrolled(learner, course)
    assert stats_for(course.id).learners == 1


def test_enrolling_twice_returns_the_same_enrollment(db, learner, course):
    first = enroll(learner, course)
    db.session.commit()
    second = enroll(learner, course)
    db.session.commit()
    assert second.id == first.id
    assert enrollment_rows(db, course) == 1
    assert stats_for(course.id).learners == 1


def test_enrolling_twice_emits_one_created_event(db, learner, course, emitted):
    enroll(learner, course)
    db.session.commit()
    enroll(learner, course)
    db.session.commit()
    assert len(named(emitted, "learning.enrollment.created")) == 1


def test_a_draft_course_cannot_be_enrolled_in(db, learner, draft_course):
    with pytest.raises(Conflict):
        enroll(learner, draft_course)
    assert enrollment_for(learner, draft_course) is None


def test_an_unpublished_course_cannot_be_enrolled_in(db, creator, learner, course):
    publishing.unpublish_course(creator, course)
    db.session.commit()
    with pytest.raises(Conflict):
        enroll(learner, course)
    assert enrollment_for(learner, course) is None


def test_a_paid_course_cannot_be_enrolled_in_for_free(db, learner, paid_course):
    with pytest.raises(Conflict):
        enroll(learner, paid_course, source="free")
    assert enrollment_for(learner, paid_course) is None
    assert stats_for(paid_course.id).learners == 0


def test_a_purchase_enrolls_with_a_paid_status(db, learner, paid_course):
    row = enroll(learner, paid_course, source="purchase")
    assert row.payment_status == "paid" and row.is_active


def test_an_unknown_source_is_refused(db, learner, course):
    with pytest.raises(Invalid):
        enroll(learner, course, source="gift")
    assert enrollment_for(learner, course) is None


@pytest.mark.parametrize("source", ["free", "purchase"])
def test_a_creator_is_never_enrolled_in_their_own_course(db, creator, course, paid_course, source,
                                                         emitted):
    target = course if source == "free" else paid_course
    with pytest.raises((Invalid, NotAllowed)):
        enroll(creator, target, source=source)
    db.session.commit()
    assert enrollment_for(creator, target) is None
    assert emitted == []


def test_a_creator_cannot_be_granted_their_own_course_either(db, creator, admin, paid_course):
    with pytest.raises((Invalid, NotAllowed)):
        enroll(creator, paid_course, source="admin", granted_by=admin)
    assert enrollment_for(creator, paid_course) is None


def test_a_suspended_learner_cannot_enroll(db, admin, learner, course):
    suspend_user(admin, learner, reason="spam")
    db.session.commit()
    with pytest.raises(NotAllowed):
        enroll(learner, course)
    assert enrollment_for(learner, course) is None


def test_anonymous_visitors_cannot_enroll(db, anonymous, course):
    with pytest.raises(NotAllowed):
        enroll(anonymous, course)
    assert enrollment_rows(db, course) == 0


def test_a_paid_purchase_enrolls_even_if_the_seller_was_suspended_after_checkout(
        db, admin, creator, learner, paid_course):
    """Buying is refused at checkout (commerce.orders.check_buyable); money already taken
    must still give the buyer the course."""
    suspend_user(admin, creator, reason="fraud")
    db.session.commit()
    assert not creator.is_active_seller
    row = enroll(learner, paid_course, source="purchase")
    assert row.is_active and row.payment_status == "paid"


def test_an_admin_with_manage_users_can_grant_a_paid_course(db, user_admin, learner, paid_course):
    row = enroll(learner, paid_course, source="admin", granted_by=user_admin)
    assert row.is_active and row.source == "admin" and row.payment_status == "none"


def test_a_grant_needs_the_manage_users_permission(db, make_user, learner, paid_course):
    finance = make_user(permissions=("manage_finance",))
    for granter in (None, learner, finance):
        with pytest.raises(NotAllowed):
            enroll(learner, paid_course, source="admin", granted_by=granter)
    assert enrollment_for(learner, paid_course) is None


def test_the_created_event_goes_out_after_commit_only(db, learner, course, emitted):
    row = enroll(learner, course)
    assert named(emitted, "learning.enrollment.created") == []
    db.session.commit()
    assert named(emitted, "learning.enrollment.created") == [
        {"enrollment_id": row.id, "source": "free"}]


def test_a_rolled_back_enrollment_emits_nothing(db, learner, course, emitted):
    enroll(learner, course)
    db.session.rollback()
    assert emitted == []
    assert enrollment_for(learner, course) is None


# --- revoking --------------------------------------------------------------------------

def test_revoking_ends_access_and_drops_the_learner_count(db, admin, learner, enrolled):
    revoke(enrolled, reason="refunded", actor=admin)
    db.session.commit()
    assert not enrolled.is_active and enrolled.revoke_reason == "refunded"
    assert active_enrollment(learner, enrolled.course) is None
    assert stats_for(enrolled.course_id).learners == 0


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_revoking_needs_a_reason(db, admin, enrolled, reason):
    with pytest.raises(Invalid):
        revoke(enrolled, reason=reason, actor=admin)
    assert enrolled.is_active
    assert stats_for(enrolled.course_id).learners == 1


def test_only_user_managers_revoke(db, creator, learner, enrolled):
    for actor in (learner, creator):
        with pytest.raises(NotAllowed):
            revoke(enrolled, reason="no", actor=actor)
    assert enrolled.is_active


def test_a_job_revokes_without_an_actor(db, enrolled):
    revoke(enrolled, reason="chargeback", payment_status="disputed")
    assert not enrolled.is_active and enrolled.payment_status == "disputed"


def test_revoking_twice_changes_nothing_more(db, admin, enrolled, emitted):
    revoke(enrolled, reason="refunded", actor=admin)
    db.session.commit()
    revoked_at = enrolled.revoked_at
    revoke(enrolled, reason="again", actor=admin)
    db.session.commit()
    assert enrolled.revoked_at == revoked_at and enrolled.revoke_reason == "refunded"
    assert stats_for(enrolled.course_id).learners == 0
    assert named(emitted, "learning.enrollment.revoked") == [{"enrollment_id": enrolled.id}]


def test_the_revoked_event_goes_out_after_commit_only(db, admin, enrolled, emitted):
    revoke(enrolled, reason="refunded", actor=admin)
    assert named(emitted, "learning.enrollment.revoked") == []
    db.session.commit()
    assert named(emitted, "learning.enrollment.revoked") == [{"enrollment_id": enrolled.id}]


def test_enrolling_again_after_a_revocation_reactivates_the_same_row(db, admin, learner, course,
                                                                      enrolled, emitted):
    revoke(enrolled, reason="refunded", actor=admin)
    db.session.commit()
    again = enroll(learner, course)
    db.session.commit()
    assert again.id == enrolled.id and again.is_active
    assert again.revoked_at is None and again.revoke_reason is None
    assert enrollment_rows(db, course) == 1
    assert stats_for(course.id).learners == 1
    assert [e.name for e in emitted if e.name.startswith("learning.enrollment")] == [
        "learning.enrollment.revoked", "learning.enrollment.created"]


def test_learner_counts_follow_several_learners(db, make_user, admin, course):
    rows = [enroll(make_user(password=None), course) for _ in range(3)]
    revoke(rows[1], reason="refunded", actor=admin)
    db.session.commit()
    assert stats_for(course.id).learners == 2


# --- the lesson-access rule ------------------------------------------------------------

def test_an_enrolled_learner_sees_every_lesson(db, learner, course, enrolled):
    for lesson in lessons_of(course):
        assert access_lesson(learner, course.id, lesson.id).enrollment.id == enrolled.id


def test_without_enrollment_only_the_free_preview_opens(db, learner, course):
    preview, *rest = lessons_of(course)
    assert preview.is_free_preview
    assert access_lesson(learner, course.id, preview.id).enrollment is None
    for lesson in rest:
        with pytest.raises(NotAllowed):
            access_lesson(learner, course.id, lesson.id)


def test_a_revoked_enrollment_loses_access(db, admin, learner, course, enrolled):
    revoke(enrolled, reason="refunded", actor=admin)
    db.session.commit()
    for lesson in lessons_of(course)[1:]:
        with pytest.raises(NotAllowed):
            access_lesson(learner, course.id, lesson.id)


def test_an_enrolled_learner_keeps_access_when_the_course_is_unpublished(db, creator, learner,
                                                                          course, enrolled):
    publishing.unpublish_course(creator, course)
    db.session.commit()
    last = lessons_of(course)[-1]
    assert access_lesson(learner, course.id, last.id).lesson.id == last.id


def test_a_lesson_is_opened_only_through_its_own_course(db, creator, admin, learner, course,
                                                        enrolled):
    other = course_with_kinds(creator, admin, title="Other course")
    with pytest.raises(NotFound):
        access_lesson(learner, course.id, lessons_of(other)[-1].id)


def test_enrolling_again_after_the_course_closed_returns_the_enrollment(db, creator, learner,
                                                                        course, enrolled):
    publishing.unpublish_course(creator, course)
    db.session.commit()
    assert enroll(learner, course).id == enrolled.id


def test_a_replayed_purchase_after_the_seller_was_suspended_changes_nothing(db, admin, creator,
                                                                           learner, paid_course):
    bought = enroll(learner, paid_course, source="purchase")
    suspend_user(admin, creator, reason="fraud")
    db.session.commit()
    assert enroll(learner, paid_course, source="purchase").id == bought.id
    assert stats_for(paid_course.id).learners == 1


def test_a_suspended_creators_course_cannot_be_bought(db, admin, creator, learner, paid_course):
    """The refusal lives where buying starts: no checkout, so no purchase to enroll from."""
    check_buyable(learner, paid_course)  # buyable while the seller is in good standing
    suspend_user(admin, creator, reason="fraud")
    db.session.commit()
    with pytest.raises(Conflict):
        check_buyable(learner, paid_course)
    assert enrollment_for(learner, paid_course) is None


# --- my enrollments ------------------------------------------------------------------------

def test_a_learner_loads_only_their_own_active_enrollment(db, learner, make_user, course):
    mine = enroll(learner, course)
    db.session.commit()
    assert access_enrollment(learner, mine.id).id == mine.id
    with pytest.raises(NotFound):
        access_enrollment(make_user(password=None), mine.id)
    revoke(mine, reason="refunded")
    with pytest.raises(NotFound):
        access_enrollment(learner, mine.id)


def test_my_enrollments_by_keyset_latest_first(db, learner, creator, admin):
    rows = [enroll(learner, course_with_kinds(creator, admin, title=f"Course {n}")) for n in range(3)]
    db.session.commit()
    first = enrollments_page(learner.id, limit=2)
    rest = enrollments_page(learner.id, after=(first[-1].enrolled_at, first[-1].id), limit=2)
    assert [row.id for row in first + rest] == [row.id for row in reversed(rows)]
