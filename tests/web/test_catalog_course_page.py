"""The public course page /courses/<slug>: who sees it, the enroll box, free-preview lessons."""
from __future__ import annotations

import re

import pytest

from app.catalog import publishing
from app.extensions import db
from app.learning import reviews
from tests.support.pages import HX, text
from tests.support.player import enroll, learning_course, lesson, player_url, revoked


@pytest.fixture
def course(creator, reviewer):
    return learning_course(creator, reviewer)


def test_a_published_course_is_public(client, course):
    resp = client.get(f"/courses/{course.slug}")
    assert resp.status_code == 200
    body = text(resp)
    assert "<html" in body
    assert "<h1>Learning by Doing</h1>" in body
    assert "Carl Creator" in body
    assert "Free" in body
    for title in ("Welcome video", "Course notes", "The first principle", "Check yourself", "Wrap-up"):
        assert title in body


def test_an_htmx_request_for_the_course_page_gets_a_page_it_can_show(client, course):
    """The course page has no fragment: htmx links to it boost (HX-Boosted), so a whole page
    is right; a plain HX-Request gets the same page rather than a broken fragment."""
    resp = client.get(f"/courses/{course.slug}", headers={**HX, "HX-Boosted": "true"})
    assert resp.status_code == 200
    assert "<h1>Learning by Doing</h1>" in text(resp)


def test_anonymous_visitors_are_asked_to_log_in_and_come_back(client, course):
    body = text(client.get(f"/courses/{course.slug}"))
    assert "Log in to enroll" in body
    assert f'href="/auth/login?next=/courses/{course.slug}"' in body
    assert "Enroll for free" not in body


def test_a_signed_in_learner_gets_the_one_click_enroll_button(client, login, learner, course):
    login(learner)
    body = text(client.get(f"/courses/{course.slug}"))
    assert f'action="/learn/courses/{course.id}/enroll"' in body
    assert "Enroll for free" in body
    assert "Log in to enroll" not in body


def test_an_enrolled_learner_is_sent_to_the_player(client, login, learner, course):
    enroll(learner, course)
    login(learner)
    body = text(client.get(f"/courses/{course.slug}"))
    assert "Continue learning" in body
    assert f'href="/learn/{course.id}"' in body
    assert "Enroll for free" not in body


def test_a_revoked_learner_may_enroll_again(client, login, learner, course):
    revoked(learner, course)
    login(learner)
    body = text(client.get(f"/courses/{course.slug}"))
    assert "Enroll for free" in body and "Continue learning" not in body


def test_the_creator_is_pointed_at_the_studio(client, login, creator, course):
    login(creator)
    body = text(client.get(f"/courses/{course.slug}"))
    assert "Edit in the studio" in body
    assert "Enroll for free" not in body


def test_a_paid_course_shows_its_price_and_no_free_enroll(client, login, learner, creator, reviewer):
    paid = learning_course(creator, reviewer, title="Paid Course", price=1999)
    login(learner)
    body = text(client.get(f"/courses/{paid.slug}"))
    assert "19.99" in body
    assert "Enroll for free" not in body


def test_free_preview_lessons_are_linked_and_play_for_anyone(client, htmx, course):
    body = text(client.get(f"/courses/{course.slug}"))
    preview = player_url(course, "Welcome video")
    assert f'<a href="{preview}">Welcome video</a> <span class="tag">Free preview</span>' in body
    for title in ("Course notes", "The first principle", "Check yourself", "Wrap-up"):
        assert f'href="{player_url(course, title)}"' not in body
    assert client.get(preview).status_code == 200
    assert htmx.get(preview).status_code == 200
    media = client.get(f"/courses/lessons/{lesson(course, 'Welcome video').id}/media")
    assert media.status_code == 200


def test_other_lessons_are_closed_to_anonymous_visitors(client, htmx, course):
    for title in ("Course notes", "The first principle", "Check yourself", "Wrap-up"):
        assert client.get(player_url(course, title)).status_code == 403
        fragment = htmx.get(player_url(course, title))
        assert fragment.status_code == 403
        assert "<html" not in fragment.get_data(as_text=True)
    notes = client.get(f"/courses/lessons/{lesson(course, 'Course notes').id}/media")
    assert notes.status_code == 403


@pytest.mark.parametrize("status", ["draft", "unpublished"])
def test_an_unpublished_course_is_404_to_strangers(client, login, learner, creator, reviewer, status):
    hidden = learning_course(creator, reviewer, title="Hidden Course", status=status)
    resp = client.get(f"/courses/{hidden.slug}")
    assert resp.status_code == 404
    assert "<html" in resp.get_data(as_text=True)
    assert "Hidden Course" not in text(resp)
    login(learner)
    assert client.get(f"/courses/{hidden.slug}").status_code == 404


def test_a_draft_is_visible_to_its_creator_and_reviewers(client, login, creator, reviewer):
    draft = learning_course(creator, reviewer, title="Work In Progress", status="draft")
    login(creator)
    resp = client.get(f"/courses/{draft.slug}")
    assert resp.status_code == 200
    assert "Work In Progress" in text(resp)
    assert "Edit in the studio" in text(resp)
    login(reviewer)
    resp = client.get(f"/courses/{draft.slug}")
    assert resp.status_code == 200
    assert "This course is not open for enrollment." in text(resp)


def test_a_draft_does_not_offer_its_free_preview(client, login, creator, reviewer):
    draft = learning_course(creator, reviewer, title="Work In Progress", status="draft")
    login(creator)
    body = text(client.get(f"/courses/{draft.slug}"))
    assert "Free preview" not in body


def test_learners_keep_an_unpublished_course_they_are_enrolled_in(client, login, learner, creator,
                                                                  reviewer):
    course = learning_course(creator, reviewer, title="Going Away")
    enroll(learner, course)
    publishing.unpublish_course(creator, course)
    db.session.commit()
    login(learner)
    resp = client.get(f"/courses/{course.slug}")
    assert resp.status_code == 200
    assert "Continue learning" in text(resp)
    assert client.get(player_url(course, "Course notes")).status_code == 200


def test_an_unknown_course_is_404_with_the_layout(client):
    resp = client.get("/courses/no-such-course")
    assert resp.status_code == 404
    assert "<html" in resp.get_data(as_text=True)


def test_the_rating_summary_links_to_the_reviews(client, login, learner, course):

    enroll(learner, course)
    reviews.write_review(learner, course, rating=4, body="Good.")
    db.session.commit()
    body = text(client.get(f"/courses/{course.slug}"))
    assert re.search(rf'<a href="/learn/{course.id}/reviews">★ 4\.0 \(1 review\)</a>', body)
    assert "1 learner ·" in body
