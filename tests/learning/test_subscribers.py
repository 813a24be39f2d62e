"""Learning's reactions to other domains' events (app/learning/subscribers.py)."""
from __future__ import annotations

from app.catalog import structure
from app.learning.enrollment import enroll, revoke
from tests.support.learning import add_lesson
from tests.support.rows import notifications


def test_a_new_lesson_in_a_published_course_is_announced_to_its_learners(db, make_user, creator,
                                                                          admin, learner, course,
                                                                          enrolled, emitted):
    gone = make_user(password=None)
    revoke(enroll(gone, course), reason="refunded", actor=admin)
    stranger = make_user(password=None)
    db.session.commit()
    lesson = add_lesson(creator, course.sections[0], "text", title="Bonus round")
    assert notifications(learner, "course.updated") == []  # not before the commit
    db.session.commit()
    [note] = notifications(learner, "course.updated")
    assert note.data == {"course_id": course.id, "title": course.title,
                         "lesson_title": "Bonus round"}
    assert notifications(gone, "course.updated") == []
    assert notifications(stranger, "course.updated") == []
    assert notifications(creator, "course.updated") == []
    assert [e.payload for e in emitted if e.name == "catalog.course.lesson_added"] == [
        {"course_id": course.id, "lesson_id": lesson.id}]


def test_a_lesson_added_to_a_draft_is_not_announced(db, creator, admin, learner, draft_course):
    enroll(learner, draft_course, source="admin", granted_by=admin)
    db.session.commit()
    structure.add_lesson(creator, draft_course.sections[0], title="Quiet", kind="text")
    db.session.commit()
    assert notifications(learner, "course.updated") == []


def test_a_rolled_back_lesson_is_not_announced(db, creator, learner, course, enrolled):
    structure.add_lesson(creator, course.sections[0], title="Never mind", kind="text")
    db.session.rollback()
    assert notifications(learner, "course.updated") == []
