"""`flask demo-data` (run by `make run`): the demo accounts, courses, purchases and
conversations, made through the services; running it again changes nothing, and a run that
stopped half-way is finished by the next one. The real-services setups (a worker running or
not) are in test_demo_services.py."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.accounts.passwords import verify_password
from app.accounts.queries import user_by_email
from app.demo import (
    DEMO_COURSES,
    DEMO_PASSWORD,
    DEMO_STEPS,
    buy_once,
    course_titled,
    demo_conversations,
    demo_finished_course,
    demo_history,
    demo_purchases,
)
from app.demo_history import load_history
from app.messaging.models import ChatMessage
from tests.support.demo import COMPLETE_DEMO, demo_counts


def demo_data(app) -> str:
    result = app.test_cli_runner().invoke(args=["demo-data"])
    assert result.exit_code == 0, result.output
    return result.output


def test_demo_data_gives_every_page_something_to_show_and_a_second_run_changes_nothing(app, db):
    output = demo_data(app)
    assert "Demo data ready (3 new accounts)." in output
    for email in ("admin@example.com", "creator@example.com", "learner@example.com"):
        assert email in output
    learner = user_by_email("learner@example.com")
    assert verify_password(learner.password_hash, DEMO_PASSWORD)
    mention = db.session.scalar(sa.select(ChatMessage).where(ChatMessage.author_id == learner.id))
    assert "@ChrisCreator" in mention.body
    counts = demo_counts(db.session)
    assert counts == COMPLETE_DEMO

    assert "Demo data ready (0 new accounts)." in demo_data(app)  # a second `make run`
    assert demo_counts(db.session) == counts


def steps_before(step) -> tuple:
    return DEMO_STEPS[:DEMO_STEPS.index(step)]


def _learner_bought_the_second_course() -> None:
    """A crash inside a step: the learner's purchase is done, nothing after it."""
    buy_once(user_by_email("learner@example.com"), course_titled(DEMO_COURSES[1][0]))


def _forty_learners_of_the_history() -> None:
    """A run stopped inside the history: 40 learners made, no page views, nothing rebuilt."""
    load_history(user_by_email("creator@example.com"), [course_titled(title) for title, *_rest in DEMO_COURSES],
                 learners=40)


@pytest.mark.parametrize("done", [
    steps_before(demo_finished_course),  # the accounts and courses exist, nothing of the learning
    (*steps_before(demo_purchases), _learner_bought_the_second_course),
    steps_before(demo_conversations),
    (*steps_before(demo_history), _forty_learners_of_the_history),
], ids=["after-courses", "mid-purchases", "before-conversations", "mid-history"])
def test_a_run_that_stopped_half_way_is_finished_by_the_next(app, db, done):
    with app.test_request_context():
        for step in done:
            step()
            db.session.commit()
    assert demo_counts(db.session) != COMPLETE_DEMO
    demo_data(app)
    assert demo_counts(db.session) == COMPLETE_DEMO
