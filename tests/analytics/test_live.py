"""Live dashboards (issue 17, part 4): `figures_changed` tells the creator's open pages, and
every finance admin's, that figures changed: once the change commits, once per transaction,
never after a rollback, and without a figure in the message."""
from __future__ import annotations

from app.analytics import live
from app.analytics.models import CourseDay
from app.extensions import db as _db
from app.learning.enrollment import enroll
from app.messaging import channels
from app.messaging.bus import bus

ANALYTICS = {"type": "analytics"}


def heard(sub, timeout: float = 0.3) -> list[dict]:
    """What `sub` receives until it has been quiet for `timeout` seconds."""
    got = []
    while (event := sub.get(timeout=timeout)) is not None:
        got.append(event)
    return got


def listen(*names: str):
    return bus().subscribe(list(names))


def test_after_commit_the_creator_and_the_platform_hear_it_once(db, creator):
    with listen(channels.user_notify(creator.id)) as mine, listen(channels.platform_analytics()) as platform:
        for _ in range(3):  # a subscriber bumping several rows, or several columns
            live.figures_changed(creator.id)
        assert mine.get(timeout=0.3) is None and platform.get(timeout=0.01) is None  # not before commit
        db.session.commit()
        assert heard(mine) == [ANALYTICS]
        assert heard(platform) == [ANALYTICS]


def test_the_message_carries_no_figures(db, creator):
    with listen(channels.user_notify(creator.id)) as mine:
        live.figures_changed(creator.id)
        db.session.commit()
        (event,) = heard(mine)
    assert event == ANALYTICS  # the page re-reads its figures with the viewer's own permissions


def test_nothing_is_heard_after_a_rollback(db, creator):
    with listen(channels.user_notify(creator.id), channels.platform_analytics()) as sub:
        live.figures_changed(creator.id)
        db.session.rollback()
        db.session.commit()
        assert heard(sub) == []
        live.figures_changed(creator.id)  # a new transaction publishes again
        db.session.commit()
        assert len(heard(sub)) == 2  # creator's channel and platform's


def test_each_transaction_publishes_its_own(db, creator):
    with listen(channels.user_notify(creator.id)) as mine:
        live.figures_changed(creator.id)
        db.session.commit()
        live.figures_changed(creator.id)
        db.session.commit()
        assert heard(mine) == [ANALYTICS, ANALYTICS]


def test_platform_only_figures_reach_no_creator(db, creator):
    with listen(channels.user_notify(creator.id)) as mine, listen(channels.platform_analytics()) as platform:
        live.figures_changed(None)
        db.session.commit()
        assert heard(platform) == [ANALYTICS]
        assert heard(mine, timeout=0.05) == []


def test_only_the_creator_whose_figures_changed_hears_it(db, creator, make_user):
    other = make_user(display_name="Otto Other")
    with listen(channels.user_notify(other.id)) as theirs, listen(channels.user_notify(creator.id)) as mine:
        live.figures_changed(creator.id)
        db.session.commit()
        assert heard(mine) == [ANALYTICS]
        assert heard(theirs, timeout=0.05) == []


def test_two_creators_in_one_transaction_each_hear_it_and_the_platform_once(db, creator, make_user):
    other = make_user(display_name="Otto Other")
    with (listen(channels.user_notify(creator.id)) as mine, listen(channels.user_notify(other.id)) as theirs,
          listen(channels.platform_analytics()) as platform):
        live.figures_changed(creator.id)
        live.figures_changed(other.id)
        live.figures_changed(None)
        db.session.commit()
        assert heard(mine) == [ANALYTICS]
        assert heard(theirs, timeout=0.05) == [ANALYTICS]
        assert heard(platform, timeout=0.05) == [ANALYTICS]


def test_a_savepoint_that_rolls_back_takes_its_change_with_it(db, creator):
    with listen(channels.user_notify(creator.id)) as mine:
        with _db.session.begin_nested() as savepoint:
            live.figures_changed(creator.id)
            savepoint.rollback()
        db.session.commit()
        assert heard(mine) == []
        with _db.session.begin_nested() as savepoint:
            live.figures_changed(creator.id)
            savepoint.rollback()
        live.figures_changed(creator.id)  # the outer transaction's own change still goes
        db.session.commit()
        assert heard(mine) == [ANALYTICS]


def test_a_change_inside_a_savepoint_already_scheduled_outside_goes_once(db, creator):
    with listen(channels.user_notify(creator.id)) as mine:
        live.figures_changed(creator.id)
        with _db.session.begin_nested():
            live.figures_changed(creator.id)
        db.session.commit()
        assert heard(mine) == [ANALYTICS]


def test_outside_a_transaction_it_is_published_at_once(db, creator):
    creator_id = creator.id
    db.session.commit()
    with listen(channels.user_notify(creator_id)) as mine:
        assert not _db.session().in_transaction()
        live.figures_changed(creator_id)
        assert heard(mine) == [ANALYTICS]


def test_a_rollup_subscriber_that_bumps_is_heard_after_its_own_commit(db, creator, learner, make_course):
    """The contract with the rollup subscribers (ANALYTICS.md rule 2): after an enrolment
    commits, learners.py's subscriber bumps the day of the fact and calls figures_changed; the
    creator's open pages hear it once that subscriber's own transaction commits."""
    course = make_course(creator, status="published")
    course_id, creator_id = course.id, creator.id
    with listen(channels.user_notify(creator_id)) as mine:
        enroll(learner, course)
        assert heard(mine) == []  # not before the enrolment commits
        db.session.commit()
        assert heard(mine) == [ANALYTICS]
    (row,) = _db.session.query(CourseDay).filter_by(course_id=course_id).all()
    assert row.enrollments == 1  # the bump committed with it
