"""What the dashboard shows about learning and teaching (app/learning/dashboard.py)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.learning import discussions, progress
from app.learning.dashboard import my_learning, my_teaching
from app.learning.enrollment import enroll, revoke
from tests.support.learning import course_with_kinds, finish_course, lessons_of

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def test_a_newcomer_has_nothing_to_learn_or_teach(db, make_user):
    someone = make_user(password=None)
    assert my_learning(someone) == [] and my_teaching(someone) == []


def test_my_learning_shows_progress_next_lesson_and_certificate(db, creator, admin, learner,
                                                                course):
    other = course_with_kinds(creator, admin, title="Second course")
    enroll(learner, course, now=T0)
    enroll(learner, other, now=T0)
    finish_course(learner, course)
    progress.complete_lesson(learner, lessons_of(other)[0], now=T0 + timedelta(days=2))
    db.session.commit()
    items = {item.course.id: item for item in my_learning(learner)}
    done, going = items[course.id], items[other.id]
    assert done.percent == 100 and done.certificate is not None
    assert going.percent == 25 and going.certificate is None
    assert going.next_lesson.id == lessons_of(other)[1].id


def test_my_learning_puts_the_latest_activity_first(db, creator, admin, learner, course):
    other = course_with_kinds(creator, admin, title="Second course")
    enroll(learner, course, now=T0)
    enroll(learner, other, now=T0 + timedelta(days=1))
    assert [i.course.id for i in my_learning(learner)] == [other.id, course.id]
    progress.complete_lesson(learner, lessons_of(course)[0], now=T0 + timedelta(days=2))
    assert [i.course.id for i in my_learning(learner)] == [course.id, other.id]


def test_my_learning_leaves_out_revoked_enrollments(db, admin, learner, course, enrolled):
    revoke(enrolled, reason="refunded", actor=admin)
    assert my_learning(learner) == []


def test_my_teaching_counts_learners_and_open_questions(db, make_user, creator, admin, course):
    empty = course_with_kinds(creator, admin, title="Nobody here yet")
    askers = [make_user(password=None) for _ in range(3)]
    for who in askers:
        enroll(who, course)
    revoke(enroll(make_user(password=None), course), reason="refunded", actor=admin)
    open_q = discussions.start_thread(askers[0], course, title="Open", body="?")
    answered = discussions.start_thread(askers[1], course, title="Answered", body="?")
    deleted = discussions.start_thread(askers[2], course, title="Deleted", body="?")
    discussions.mark_answer(creator, answered, discussions.reply(creator, answered, body="!"))
    discussions.delete_post(askers[2], deleted.posts[0])
    db.session.commit()
    items = {item.course.id: item for item in my_teaching(creator)}
    assert (items[course.id].learners, items[course.id].open_questions) == (3, 1)
    assert (items[empty.id].learners, items[empty.id].open_questions) == (0, 0)
    assert open_q.answer_post_id is None


def test_my_teaching_shows_only_my_own_courses(db, make_user, creator, admin, course):
    other_creator = make_user(password=None)
    assert my_teaching(other_creator) == []
    assert [item.course.id for item in my_teaching(creator)] == [course.id]
