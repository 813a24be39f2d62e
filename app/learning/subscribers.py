"""Learning's reactions to events (registered at app start)."""
from __future__ import annotations

from app.accounts.queries import get_user
from app.catalog.events import LessonAdded
from app.catalog.models import Course, Lesson
from app.events import subscribe
from app.extensions import db
from app.learning.certificates import issue_certificate
from app.learning.events import CourseCompleted
from app.learning.models import Enrollment
from app.learning.queries import active_learner_ids
from app.messaging.notifications import notify


@subscribe(CourseCompleted)
def certify_and_congratulate(event: CourseCompleted) -> None:
    enrollment = db.session.get(Enrollment, event.enrollment_id)
    if enrollment is None:
        return
    certificate = issue_certificate(enrollment)
    notify(enrollment.learner, "learning.course_completed", course_id=enrollment.course_id,
           title=enrollment.course.title, certificate=certificate.code)


@subscribe(LessonAdded)
def tell_learners_about_new_lessons(event: LessonAdded) -> None:
    course, lesson = db.session.get(Course, event.course_id), db.session.get(Lesson, event.lesson_id)
    if course is None or lesson is None:
        return
    for learner_id in active_learner_ids(course.id):
        learner = get_user(learner_id)
        if learner is not None:
            notify(learner, "course.updated", course_id=course.id, title=course.title,
                   lesson_title=lesson.title)
