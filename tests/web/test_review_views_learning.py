"""Course reviews over HTTP: the public page, writing and editing a review, bad ratings that
keep what was typed, who may review, and the creator's one reply."""
from __future__ import annotations

import pytest

from app.extensions import db
from app.learning import progress, reviews
from app.learning.models import CourseStats, Review
from app.messaging.models import Notification
from app.moderation.models import Report
from tests.support.pages import text
from tests.support.player import complete, enroll, learning_course, lesson, revoked
from tests.support.rows import count, fresh


@pytest.fixture
def course(creator, reviewer):
    return learning_course(creator, reviewer)


def reviews_url(course) -> str:
    return f"/learn/{course.id}/reviews"


def written(user, course, rating=4, body="Clear and practical.") -> Review:
    review = reviews.write_review(user, course, rating=rating, body=body)
    db.session.commit()
    return review


# --- the page ------------------------------------------------------------------------------

def test_the_reviews_page_is_public(client, learner, course):
    enroll(learner, course)
    written(learner, course, 4, "Clear and practical.")
    resp = client.get(reviews_url(course))
    assert resp.status_code == 200
    body = text(resp)
    assert "<html" in body
    assert "Reviews of Learning by Doing" in body
    assert "★ 4.0 <small>from 1 review</small>" in body
    assert "Lena Learner" in body and "Clear and practical." in body
    assert "completed 0% of the course when writing" in body
    assert "Review this course" not in body  # anonymous visitors get no form


def test_the_reviews_fragment(htmx, learner, course):
    enroll(learner, course)
    written(learner, course)
    resp = htmx.get(reviews_url(course))
    assert resp.status_code == 200
    body = text(resp)
    assert "<html" not in body
    assert "What learners say" in body and "Clear and practical." in body
    assert "Reviews of Learning by Doing" not in body  # the heading sits outside the block


def test_the_reviews_page_pages(client, course, make_user):
    for n in range(12):
        user = make_user()
        enroll(user, course)
        reviews.write_review(user, course, rating=1 + n % 5, body=f"Review number {n}.")
    db.session.commit()
    first = text(client.get(reviews_url(course)))
    assert "Page 1 of 2" in first
    second = text(client.get(reviews_url(course) + "?page=2"))
    assert "Page 2 of 2" in second
    for junk in ("abc", "0", "-2", "99999999999999999999"):
        assert client.get(reviews_url(course) + f"?page={junk}").status_code == 200


@pytest.mark.parametrize("status", ["draft", "unpublished"])
def test_reviews_of_an_unpublished_course_are_hidden_from_strangers(client, login, stranger, creator,
                                                                    reviewer, status):
    hidden = learning_course(creator, reviewer, title="Hidden", status=status)
    assert client.get(reviews_url(hidden)).status_code == 404
    login(stranger)
    assert client.get(reviews_url(hidden)).status_code == 404
    login(creator)
    assert client.get(reviews_url(hidden)).status_code == 200


def test_an_unknown_course_has_no_reviews_page(client):
    assert client.get("/learn/999999/reviews").status_code == 404


# --- writing ---------------------------------------------------------------------------------

def test_an_enrolled_learner_writes_a_review(client, login, learner, creator, course):
    enroll(learner, course)
    progress.complete_lesson(learner, lesson(course, "Welcome video"))
    db.session.commit()
    login(learner)
    page = text(client.get(reviews_url(course)))
    assert "Review this course" in page
    resp = client.post(reviews_url(course), data={"rating": "5", "body": "Loved the quiz."})
    assert resp.status_code == 302
    assert resp.headers["Location"] == reviews_url(course)
    body = text(client.get(resp.headers["Location"]))
    assert "Thanks for your review!" in body
    assert "Loved the quiz." in body and "completed 20% of the course when writing" in body
    assert "Edit your review" in body
    stats = fresh(CourseStats, course.id)
    assert (stats.rating_count, stats.rating_sum, stats.rating_5) == (1, 5, 1)
    assert count(Notification, Notification.user_id == creator.id, Notification.kind == "review.created") == 1


def test_a_second_review_updates_the_first(client, login, learner, course):
    enroll(learner, course)
    login(learner)
    client.post(reviews_url(course), data={"rating": "5", "body": "Loved it."})
    client.post(reviews_url(course), data={"rating": "3", "body": "On second thought, fine."})
    assert count(Review, Review.course_id == course.id) == 1
    review = db.session.query(Review).filter_by(course_id=course.id).one()
    assert (review.rating, review.body) == (3, "On second thought, fine.")
    stats = fresh(CourseStats, course.id)
    assert (stats.rating_count, stats.rating_sum, stats.rating_5, stats.rating_3) == (1, 3, 0, 1)
    page = text(client.get(reviews_url(course)))
    assert 'id="rating-3" name="rating" value="3" checked' in page
    assert "On second thought, fine.</textarea>" in page


@pytest.mark.parametrize("rating", ["0", "6", "abc", "", "4.5", "-1", "99999999999999999999"])
def test_a_bad_rating_is_refused_and_keeps_the_text(client, htmx, login, learner, course, rating):
    enroll(learner, course)
    login(learner)
    data = {"rating": rating, "body": "My carefully written <review> text."}
    resp = client.post(reviews_url(course), data=data)
    assert resp.status_code == 422
    body = text(resp)
    assert "<html" in body
    assert "Choose a rating from 1 to 5 stars." in body
    assert "My carefully written <review> text.</textarea>" in body
    fragment = htmx.post(reviews_url(course), data=data)
    assert fragment.status_code == 422
    assert "<html" not in fragment.get_data(as_text=True)
    assert "Choose a rating from 1 to 5 stars." in text(fragment)
    assert "My carefully written <review> text." in text(fragment)
    assert count(Review) == 0


def test_a_missing_rating_is_refused(client, login, learner, course):
    enroll(learner, course)
    login(learner)
    resp = client.post(reviews_url(course), data={"body": "No stars"})
    assert resp.status_code == 422
    assert "Choose a rating from 1 to 5 stars." in text(resp)
    assert count(Review) == 0


def test_a_review_that_is_too_long_is_refused_and_kept(client, login, learner, course):
    enroll(learner, course)
    login(learner)
    resp = client.post(reviews_url(course), data={"rating": "4", "body": "y" * 5001})
    assert resp.status_code == 422
    assert "Keep your review under 5,000 characters." in text(resp)
    assert "y" * 5001 in text(resp)


def test_reviewing_needs_an_enrollment(client, htmx, login, stranger, learner, course):
    login(stranger)
    assert "Review this course" not in text(client.get(reviews_url(course)))
    resp = client.post(reviews_url(course), data={"rating": "5"})
    assert resp.status_code == 403
    assert htmx.post(reviews_url(course), data={"rating": "5"}).status_code == 403
    revoked(learner, course)
    login(learner)
    assert client.post(reviews_url(course), data={"rating": "5"}).status_code == 403
    assert count(Review) == 0


def test_reviewing_needs_an_account(client, course):
    resp = client.post(reviews_url(course), data={"rating": "5"})
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/auth/login")


def test_a_creator_does_not_review_their_own_course(client, login, creator, course):
    login(creator)
    assert "Review this course" not in text(client.get(reviews_url(course)))
    resp = client.post(reviews_url(course), data={"rating": "5", "body": "Best course ever"})
    assert resp.status_code == 422
    assert "You cannot review your own course." in text(resp)
    assert count(Review) == 0


def test_a_learner_deletes_their_review(client, login, learner, stranger, course):
    enroll(learner, course)
    enroll(stranger, course)
    written(learner, course, 1)
    written(stranger, course, 5)
    login(learner)
    assert "Delete my review" in text(client.get(reviews_url(course)))
    resp = client.post(reviews_url(course) + "/delete")
    assert resp.status_code == 302 and resp.headers["Location"] == reviews_url(course)
    assert count(Review, Review.learner_id == learner.id) == 0
    stats = fresh(CourseStats, course.id)
    assert (stats.rating_count, stats.rating_sum, stats.rating_1) == (1, 5, 0)
    assert "Your review was deleted." in text(client.get(reviews_url(course)))


def test_deleting_a_review_that_is_not_there_is_404(client, login, learner, stranger, course):
    enroll(stranger, course)
    written(stranger, course, 5)
    login(learner)
    assert "Delete my review" not in text(client.get(reviews_url(course)))
    assert client.post(reviews_url(course) + "/delete").status_code == 404  # another learner's stays
    assert count(Review) == 1


def test_a_refunded_learner_may_still_delete_their_review(client, login, learner, course):
    enroll(learner, course)
    written(learner, course, 2)
    revoked(learner, course)
    login(learner)
    body = text(client.get(reviews_url(course)))
    assert "Delete my review" in body and "Update review" not in body
    assert client.post(reviews_url(course) + "/delete").status_code == 302
    assert count(Review) == 0


def test_deleting_a_review_needs_an_account(client, course):
    resp = client.post(reviews_url(course) + "/delete")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/auth/login")


def test_a_completed_learner_review_shows_their_progress(client, login, learner, course):
    complete(learner, course)
    login(learner)
    client.post(reviews_url(course), data={"rating": "5", "body": "Done it all."})
    assert "completed 100% of the course when writing" in text(client.get(reviews_url(course)))


def test_review_text_is_escaped(client, login, learner, course):
    enroll(learner, course)
    login(learner)
    client.post(reviews_url(course), data={"rating": "5", "body": "<script>alert(1)</script>"})
    body = client.get(reviews_url(course)).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


# --- the creator's reply ---------------------------------------------------------------------

def test_the_creator_replies_once(client, htmx, login, learner, creator, course):
    enroll(learner, course)
    review = written(learner, course)
    login(creator)
    assert "Reply as the creator (once)" in text(client.get(reviews_url(course)))
    resp = client.post(f"/learn/reviews/{review.id}/reply", data={"reply": "Thank you!"})
    assert resp.status_code == 302
    assert resp.headers["Location"] == reviews_url(course) + f"#review-{review.id}"
    body = text(client.get(reviews_url(course)))
    assert "Carl Creator (creator) replied:</strong> Thank you!" in body
    assert "Reply as the creator (once)" not in body
    assert count(Notification, Notification.user_id == learner.id, Notification.kind == "review.replied") == 1
    again = client.post(f"/learn/reviews/{review.id}/reply", data={"reply": "And again"})
    assert again.status_code == 409
    assert "You already replied to this review." in text(again)
    fragment = htmx.post(f"/learn/reviews/{review.id}/reply", data={"reply": "And again"})
    assert fragment.status_code == 409 and "<html" not in fragment.get_data(as_text=True)
    assert fresh(Review, review.id).reply == "Thank you!"


def test_an_empty_reply_is_refused(client, login, learner, creator, course):
    enroll(learner, course)
    review = written(learner, course)
    login(creator)
    resp = client.post(f"/learn/reviews/{review.id}/reply", data={"reply": "  "})
    assert resp.status_code == 422
    assert "Write your reply." in text(resp)
    assert fresh(Review, review.id).reply is None


def test_replying_to_a_review_of_someone_elses_course_is_forbidden(client, htmx, login, learner,
                                                                  course, make_user, reviewer):
    other_creator = make_user(email="other@example.test", display_name="Olga Other")
    learning_course(other_creator, reviewer, title="Olga's Course")
    enroll(learner, course)
    review = written(learner, course)
    for user in (other_creator, learner, reviewer):
        login(user)
        resp = client.post(f"/learn/reviews/{review.id}/reply", data={"reply": "Not mine"})
        assert resp.status_code == 403
        assert htmx.post(f"/learn/reviews/{review.id}/reply", data={"reply": "Not mine"}).status_code == 403
    assert fresh(Review, review.id).reply is None


def test_replying_to_an_unknown_review_is_404(client, login, creator):
    login(creator)
    assert client.post("/learn/reviews/999999/reply", data={"reply": "x"}).status_code == 404


# --- reports -----------------------------------------------------------------------------------

def test_reporting_a_review(client, login, learner, stranger, course):
    enroll(learner, course)
    review = written(learner, course)
    login(stranger)
    resp = client.post(f"/learn/reviews/{review.id}/report", data={"reason": "Spam"})
    assert resp.status_code == 302
    assert count(Report, Report.target_type == "review", Report.target_id == review.id) == 1
    bad = client.post(f"/learn/reviews/{review.id}/report", data={"reason": ""})
    assert bad.status_code == 422
    assert "Tell the moderators what is wrong." in text(bad)
