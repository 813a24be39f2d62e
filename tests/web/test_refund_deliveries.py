"""Over HTTP: what the player and the media route send counts for the refund rule (a file
once per learner, Range requests included), and the rule is stated in plain words on the
checkout page and in the refund form, from the one text the rule is built with."""
from __future__ import annotations

import html

import pytest
import sqlalchemy as sa

from app.commerce.models import Refund
from app.commerce.refunds import refund_rule
from app.commerce.settings import set_setting
from app.extensions import db
from app.learning.models import LessonDelivery
from app.learning.queries import ordered_lessons
from tests.support.commerce import buy, course_with_files
from tests.support.pages import text


@pytest.fixture
def course(creator, admin):
    return course_with_files(creator, admin)  # 6 lessons: video, PDF, video, PDF, video, PDF


@pytest.fixture
def order(learner, course):
    return buy(learner, course)


def media(lesson) -> str:
    return f"/courses/lessons/{lesson.id}/media"


def delivered(user) -> list[tuple[int, str]]:
    db.session.expire_all()
    return [tuple(row) for row in db.session.execute(
        sa.select(LessonDelivery.lesson_id, LessonDelivery.kind)
        .where(LessonDelivery.user_id == user.id).order_by(LessonDelivery.id))]


def ask_refund(client, order) -> Refund:
    resp = client.post(f"/checkout/orders/{order.id}/refund", data={"reason": "Not for me"})
    assert resp.status_code == 302
    db.session.expire_all()
    return db.session.scalar(sa.select(Refund).where(Refund.order_id == order.id))


def test_downloading_every_file_then_asking_goes_to_review(client, login, learner, course, order):
    login(learner)
    for lesson in ordered_lessons(course.id):
        resp = client.get(media(lesson))
        assert resp.status_code == 200 and resp.data
    refund = ask_refund(client, order)
    assert refund.automatic is False and refund.status == "requested"
    assert "Your refund request is with our team" in text(client.get("/checkout/purchases"))


def test_a_range_request_counts_the_file(client, login, learner, course, order):
    video = ordered_lessons(course.id)[0]
    login(learner)
    resp = client.get(media(video), headers={"Range": "bytes=0-99"})
    assert resp.status_code == 206
    assert delivered(learner) == [(video.id, "file")]


def test_a_file_counts_once_however_often_it_is_sent(client, login, learner, course, order):
    video = ordered_lessons(course.id)[0]
    login(learner)
    for header in ("bytes=0-99", "bytes=100-199", "bytes=-10", None):
        assert client.get(media(video), headers={"Range": header} if header else {}).status_code in (200, 206)
    assert delivered(learner) == [(video.id, "file")]


def test_what_is_not_sent_to_the_buyer_does_not_count(client, login, learner, creator, course, order):
    video = ordered_lessons(course.id)[0]
    login(learner)
    assert client.head(media(video)).status_code == 200  # headers only
    assert client.get(media(video), headers={"Range": "bytes=99999999-"}).status_code == 416
    assert delivered(learner) == []
    login(creator)  # the creator previewing their own file is not a delivery to a learner
    assert client.get(media(video)).status_code == 200
    assert delivered(creator) == []


def test_opening_a_few_lessons_is_still_refunded_at_once(client, login, learner, course, order):
    first = ordered_lessons(course.id)[0]
    login(learner)
    assert client.get(f"/learn/{course.id}/lessons/{first.id}").status_code == 200
    assert delivered(learner) == [(first.id, "opened")]
    refund = ask_refund(client, order)
    assert refund.automatic is True and refund.status == "succeeded"


def test_opening_most_lessons_goes_to_review(client, login, learner, course, order):
    login(learner)
    for lesson in ordered_lessons(course.id)[:3]:  # 50%
        assert client.get(f"/learn/{course.id}/lessons/{lesson.id}").status_code == 200
    assert ask_refund(client, order).status == "requested"


def test_the_rule_is_stated_on_the_checkout_page(client, login, make_user, course):
    login(make_user())
    body = html.unescape(text(client.get(f"/checkout/courses/{course.id}")))
    assert refund_rule() in body
    assert "download its video or PDF" in body


def test_the_rule_is_stated_in_the_refund_form(client, login, learner, order):
    login(learner)
    body = html.unescape(text(client.get("/checkout/purchases")))
    form = body[body.index("Ask for a refund"):body.index(f'/checkout/orders/{order.id}/refund')]
    assert refund_rule() in form


def test_the_pages_follow_the_settings(client, login, admin, learner, order):
    set_setting(admin, "refunds", {"window_days": 7, "max_consumed_percent": 5})
    db.session.commit()
    login(learner)
    body = html.unescape(text(client.get("/checkout/purchases")))
    assert "within 7 days of buying" in body and "no more than 5% of the course's lessons" in body
