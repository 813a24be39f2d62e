"""The reviews API: a course's reviews for anyone, my review written, rewritten and taken back
under the reviews page's rules, with every forbidden path."""
from __future__ import annotations

import pytest

from app.catalog import publishing
from app.extensions import db
from app.learning import reviews
from app.learning.models import Review
from app.learning.stats import stats_for
from tests.support.api import assert_problem
from tests.support.player import enroll, learning_course, revoked
from tests.support.rows import count

API = "/api/v1"


@pytest.fixture
def course(creator, reviewer):
    return learning_course(creator, reviewer)


def reviewed(user, course, rating: int, body: str = "") -> Review:
    enroll(user, course)
    review = reviews.write_review(user, course, rating=rating, body=body)
    db.session.commit()
    return review


def mine(course) -> str:
    return f"{API}/courses/{course.id}/reviews/mine"


ROUTES = [("GET", "/reviews/mine", "read", None), ("PUT", "/reviews/mine", "learn", {"rating": 5}),
          ("DELETE", "/reviews/mine", "learn", None)]


@pytest.mark.parametrize(("method", "path", "scope", "body"), ROUTES)
def test_my_review_needs_a_token_with_the_scope(anonymous, api, learner, course, method, path, scope, body):
    url = f"{API}/courses/{course.id}{path}"
    assert_problem(anonymous.open(method, url, json=body), 401)
    other = "teach" if scope == "read" else "read"
    assert f"`{scope}`" in assert_problem(api(learner, other).open(method, url, json=body), 403)["detail"]


# --- a course's reviews --------------------------------------------------------------------

def test_anyone_reads_a_courses_reviews_a_page_at_a_time(anonymous, learner, stranger, course):
    first = reviewed(learner, course, 4, "Good")
    second = reviewed(stranger, course, 2)
    page = anonymous.get(f"{API}/courses/{course.id}/reviews?limit=1").get_json()
    assert [item["id"] for item in page["items"]] == [second.id]
    assert page["rating_count"] == 2 and page["rating_average"] == 3.0
    assert page["histogram"][0] == {"stars": 5, "count": 0} and {"stars": 4, "count": 1} in page["histogram"]
    rest = anonymous.get(f"{API}/courses/{course.id}/reviews",
                         query_string={"limit": 1, "cursor": page["next_cursor"]}).get_json()
    assert [item["id"] for item in rest["items"]] == [first.id] and rest["next_cursor"] is None
    assert rest["items"][0]["author_name"] == learner.display_name
    assert "learner_id" not in rest["items"][0] and "email" not in str(rest)


@pytest.mark.parametrize("query", ["limit=0", "cursor=forged"])
def test_a_bad_review_list_query_is_422(anonymous, course, query):
    assert_problem(anonymous.get(f"{API}/courses/{course.id}/reviews?{query}"), 422)


def test_a_course_that_is_not_public_keeps_its_reviews_to_its_people(anonymous, api, learner, stranger, creator,
                                                                      reviewer):
    draft = learning_course(creator, reviewer, title="Draft course", status="draft")
    assert_problem(anonymous.get(f"{API}/courses/{draft.id}/reviews"), 404)
    assert_problem(api(stranger, "read").get(f"{API}/courses/{draft.id}/reviews"), 404)
    assert api(creator, "read").get(f"{API}/courses/{draft.id}/reviews").status_code == 200
    taken_down = learning_course(creator, reviewer, title="Taken down")
    enroll(learner, taken_down)
    publishing.unpublish_course(creator, taken_down)
    db.session.commit()
    assert_problem(api(stranger, "read").get(f"{API}/courses/{taken_down.id}/reviews"), 404)
    assert api(learner, "read").get(f"{API}/courses/{taken_down.id}/reviews").status_code == 200
    assert_problem(anonymous.get(f"{API}/courses/999999/reviews"), 404)


def test_the_reviews_page_keeps_the_same_rule(client, creator, reviewer):
    draft = learning_course(creator, reviewer, title="Draft course", status="draft")
    assert client.get(f"/learn/{draft.id}/reviews").status_code == 404


# --- my review -----------------------------------------------------------------------------

def test_writing_and_rewriting_my_review(api, learner, course):
    enroll(learner, course)
    caller = api(learner, "learn")
    resp = caller.put(mine(course), json={"rating": 4, "body": " Clear and short. "})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.get_json()["body"] == "Clear and short." and resp.get_json()["rating"] == 4
    again = caller.put(mine(course), json={"rating": 5})
    assert again.get_json()["id"] == resp.get_json()["id"] and again.get_json()["rating"] == 5
    assert stats_for(course.id).rating_count == 1 and stats_for(course.id).rating_sum == 5
    assert api(learner, "read").get(mine(course)).get_json()["rating"] == 5


@pytest.mark.parametrize("body", [{"rating": 0}, {"rating": 6}, {"rating": "five"}, {}, {"rating": 3, "x": 1},
                                  {"rating": 3, "body": "x" * 5001}])
def test_a_bad_review_is_422(api, learner, course, body):
    enroll(learner, course)
    assert_problem(api(learner, "learn").put(mine(course), json=body), 422)
    assert count(Review) == 0


def test_only_enrolled_learners_review(api, stranger, learner, creator, course):
    body = assert_problem(api(stranger, "learn").put(mine(course), json={"rating": 5}), 403)
    assert "review this course" in body["detail"]
    revoked(learner, course)
    assert_problem(api(learner, "learn").put(mine(course), json={"rating": 5}), 403)
    assert "own course" in assert_problem(api(creator, "learn").put(mine(course), json={"rating": 5}), 422)["detail"]


def test_my_review_is_404_before_i_write_one(api, learner, stranger, course):
    reviewed(stranger, course, 5)
    enroll(learner, course)
    assert_problem(api(learner, "read").get(mine(course)), 404)  # another learner's review is not mine
    assert_problem(api(learner, "learn").delete(mine(course)), 404)
    assert count(Review) == 1


def test_taking_my_review_back(api, learner, stranger, course):
    reviewed(learner, course, 1)
    reviewed(stranger, course, 5)
    assert api(learner, "learn").delete(mine(course)).status_code == 204
    assert count(Review, Review.learner_id == learner.id) == 0
    stats = stats_for(course.id)
    assert (stats.rating_count, stats.rating_sum, stats.rating_1, stats.rating_5) == (1, 5, 0, 1)


def test_a_refunded_learner_may_still_take_their_review_back(api, learner, course):
    reviewed(learner, course, 2)
    revoked(learner, course)
    assert api(learner, "learn").delete(mine(course)).status_code == 204


def test_my_review_of_a_hidden_or_missing_course_is_404(api, learner, creator, reviewer):
    draft = learning_course(creator, reviewer, title="Draft course", status="draft")
    assert_problem(api(learner, "learn").put(mine(draft), json={"rating": 5}), 404)
    assert_problem(api(learner, "read").get(f"{API}/courses/999999/reviews/mine"), 404)
