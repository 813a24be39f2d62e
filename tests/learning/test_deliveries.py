"""What a learner took of a lesson (app/learning/deliveries.py): one row per learner, lesson
and kind, whatever the number of requests; lessons opened, videos played past the threshold
and completions all count towards how much of the course was taken."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.errors import Invalid
from app.extensions import db
from app.learning import deliveries, progress
from app.learning.models import LessonDelivery
from tests.support.learning import finish_course, lessons_of


def rows(user, kind: str | None = None) -> list[tuple[int, str]]:
    query = sa.select(LessonDelivery.lesson_id, LessonDelivery.kind).where(LessonDelivery.user_id == user.id)
    if kind:
        query = query.where(LessonDelivery.kind == kind)
    return [tuple(row) for row in db.session.execute(query.order_by(LessonDelivery.id))]


def test_a_delivery_is_recorded_once_per_learner_lesson_and_kind(learner, make_user, course, enrolled):
    video = lessons_of(course)[0]
    assert deliveries.record_delivery(learner, video, "file") is True
    assert deliveries.record_delivery(learner, video, "file") is False
    deliveries.record_delivery(learner, video, "opened")
    other = make_user()
    deliveries.record_delivery(other, video, "file")
    db.session.commit()
    assert rows(learner) == [(video.id, "file"), (video.id, "opened")]
    assert rows(other) == [(video.id, "file")]


def test_an_unknown_kind_is_refused(learner, course, enrolled):
    with pytest.raises(Invalid):
        deliveries.record_delivery(learner, lessons_of(course)[0], "glanced")


def test_opening_a_lesson_counts_it_as_taken(learner, course, enrolled):
    pdf = lessons_of(course)[1]
    progress.open_lesson(learner, progress.access_lesson(learner, course.id, pdf.id))
    db.session.commit()
    assert rows(learner) == [(pdf.id, "opened")]
    assert deliveries.taken_percent(enrolled) == 25  # 1 of 4 lessons


def test_a_visitor_who_is_not_enrolled_leaves_no_trace(make_user, course):
    visitor = make_user()
    video = lessons_of(course)[0]  # the free preview
    progress.open_lesson(visitor, progress.access_lesson(visitor, course.id, video.id))
    db.session.commit()
    assert rows(visitor) == []


def test_a_video_counts_as_watched_once_played_past_the_threshold(app, learner, course, enrolled):
    video = lessons_of(course)[0]
    threshold = app.config["VIDEO_WATCHED_SECONDS"]
    progress.save_position(learner, video, threshold - 1)
    db.session.commit()
    assert rows(learner, "watched") == []
    progress.save_position(learner, video, threshold)
    progress.save_position(learner, video, threshold + 60)
    db.session.commit()
    assert rows(learner, "watched") == [(video.id, "watched")]


def test_a_video_shorter_than_the_threshold_counts_once_played_to_its_end(app, creator, learner,
                                                                            course, enrolled):
    video = lessons_of(course)[0]
    video.duration_seconds = app.config["VIDEO_WATCHED_SECONDS"] // 2
    db.session.commit()
    progress.save_position(learner, video, video.duration_seconds)
    db.session.commit()
    assert rows(learner, "watched") == [(video.id, "watched")]


def test_taken_counts_each_lesson_once_whatever_was_taken_of_it(learner, course, enrolled):
    video, pdf, text, quiz = lessons_of(course)
    deliveries.record_delivery(learner, video, "file")
    deliveries.record_delivery(learner, video, "watched")
    deliveries.record_delivery(learner, pdf, "file")
    progress.complete_lesson(learner, text)
    db.session.commit()
    assert deliveries.taken_percent(enrolled) == 75  # video, PDF and text: 3 of 4


def test_a_completed_course_is_all_taken(learner, course, enrolled):
    finish_course(learner, course)
    assert deliveries.taken_percent(enrolled) == 100


def test_what_counts_names_the_threshold(app):
    assert f"past the first {app.config['VIDEO_WATCHED_SECONDS']} seconds" in deliveries.what_counts()
