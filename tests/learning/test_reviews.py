"""Course reviews and their aggregates (app/learning/reviews.py, app/learning/stats.py)."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.errors import Conflict, Invalid, NotAllowed, NotFound
from app.learning import progress, reviews, stats
from app.learning.enrollment import enroll, revoke
from app.learning.models import Review
from app.moderation.models import Report
from app.moderation.reports import report_review
from app.moderation.suspensions import suspend_user
from tests.support.learning import course_with_kinds, finish_course, lessons_of
from tests.support.rows import notifications

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def review_rows(db, course) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Review)
                             .where(Review.course_id == course.id))


def assert_aggregates(course_id: int, ratings: list[int]) -> None:
    """The stored aggregates are those of `ratings` (one per reviewer)."""
    row = stats.stats_for(course_id)
    assert row.rating_count == len(ratings)
    assert row.rating_sum == sum(ratings)
    assert row.histogram == {n: ratings.count(n) for n in range(5, 0, -1)}
    assert row.average == (sum(ratings) / len(ratings) if ratings else 0.0)
    assert row.rating_score == stats.smoothed_score(sum(ratings), len(ratings))
    assert isinstance(row.rating_score, int)


@pytest.fixture
def reviewed(db, learner, course, enrolled):
    review = reviews.write_review(learner, course, rating=4, body="Good.", now=T0)
    db.session.commit()
    return review


# --- writing ---------------------------------------------------------------------------

def test_an_enrolled_learner_rates_a_course(db, creator, learner, course, reviewed):
    assert (reviewed.rating, reviewed.body, reviewed.created_at) == (4, "Good.", T0)
    assert reviews.review_of(learner, course).id == reviewed.id
    assert_aggregates(course.id, [4])
    [note] = notifications(creator, "review.created")
    assert note.data["rating"] == 4


@pytest.mark.parametrize("rating", [0, 6, -1, "abc", "", None, 4.5, "4.5", "5 stars", True])
def test_a_rating_outside_one_to_five_is_refused(db, learner, course, enrolled, rating):
    with pytest.raises(Invalid) as exc:
        reviews.write_review(learner, course, rating=rating)
    assert exc.value.field == "rating"
    assert review_rows(db, course) == 0
    assert_aggregates(course.id, [])


@pytest.mark.parametrize("rating, stored", [("5", 5), (" 3 ", 3), (2, 2), (1.0, 1)])
def test_a_rating_may_come_as_text(db, learner, course, enrolled, rating, stored):
    assert reviews.write_review(learner, course, rating=rating).rating == stored


def test_a_review_body_has_a_limit(db, learner, course, enrolled):
    with pytest.raises(Invalid):
        reviews.write_review(learner, course, rating=5, body="x" * 5001)
    assert review_rows(db, course) == 0


def test_a_second_review_updates_the_first(db, learner, course, reviewed):
    again = reviews.write_review(learner, course, rating=2, body="Changed my mind.")
    db.session.commit()
    assert again.id == reviewed.id and again.body == "Changed my mind."
    assert review_rows(db, course) == 1
    assert_aggregates(course.id, [2])


def test_a_learner_who_is_not_enrolled_cannot_review(db, learner, course):
    with pytest.raises(NotAllowed):
        reviews.write_review(learner, course, rating=5)
    assert review_rows(db, course) == 0


def test_a_revoked_learner_cannot_review(db, admin, learner, course, enrolled):
    revoke(enrolled, reason="refunded", actor=admin)
    with pytest.raises(NotAllowed):
        reviews.write_review(learner, course, rating=5)


def test_a_suspended_learner_cannot_review(db, admin, learner, course, enrolled):
    suspend_user(admin, learner, reason="abuse")
    with pytest.raises(NotAllowed):
        reviews.write_review(learner, course, rating=5)


def test_anonymous_visitors_cannot_review(db, anonymous, course):
    with pytest.raises(NotAllowed):
        reviews.write_review(anonymous, course, rating=5)
    assert reviews.review_of(anonymous, course) is None


def test_the_creator_cannot_review_their_own_course(db, creator, course):
    with pytest.raises((Invalid, NotAllowed)):
        reviews.write_review(creator, course, rating=5)
    assert review_rows(db, course) == 0


def test_a_review_keeps_the_progress_at_the_time_of_writing(db, learner, course, enrolled):
    progress.complete_lesson(learner, lessons_of(course)[0])
    review = reviews.write_review(learner, course, rating=4)
    assert review.progress_percent == 25
    finish_course(learner, course)
    assert review.progress_percent == 25
    reviews.write_review(learner, course, rating=5)
    assert review.progress_percent == 100


def test_changing_the_rating_moves_the_histogram(db, learner, course, reviewed):
    for rating in (5, 1, 1, 3):
        reviews.write_review(learner, course, rating=rating)
        assert_aggregates(course.id, [rating])


def test_aggregates_follow_several_reviewers(db, make_user, course):
    ratings = [5, 4, 4, 2, 1]
    for rating in ratings:
        who = make_user(password=None)
        enroll(who, course)
        reviews.write_review(who, course, rating=rating)
    db.session.commit()
    assert_aggregates(course.id, ratings)
    assert stats.stats_for(course.id).average == pytest.approx(3.2)


REVIEWERS = 4


@pytest.fixture
def people(db, make_user, course):
    """REVIEWERS enrolled learners, committed."""
    crowd = [make_user(password=None) for _ in range(REVIEWERS)]
    for who in crowd:
        enroll(who, course)
    db.session.commit()
    return crowd


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(writes=st.lists(st.tuples(st.integers(0, REVIEWERS - 1), st.integers(1, 5)),
                       min_size=1, max_size=12))
def test_aggregates_match_the_latest_rating_of_each_reviewer(db, people, course, writes):
    savepoint = db.session.begin_nested()  # each example starts from no reviews
    try:
        latest: dict[int, int] = {}
        for index, rating in writes:
            reviews.write_review(people[index], course, rating=rating)
            latest[index] = rating
            assert_aggregates(course.id, list(latest.values()))
    finally:
        savepoint.rollback()


def test_one_five_star_review_ranks_below_twenty_averaging_four_and_a_half(db, make_user, creator,
                                                                        admin, course):
    crowd = course_with_kinds(creator, admin, title="Crowd favourite")
    newcomer = make_user(password=None)
    enroll(newcomer, course)
    reviews.write_review(newcomer, course, rating=5)
    for n in range(20):
        who = make_user(password=None)
        enroll(who, crowd)
        reviews.write_review(who, crowd, rating=5 if n % 2 else 4)
    db.session.commit()
    single, many = stats.stats_for(course.id), stats.stats_for(crowd.id)
    assert single.average == 5.0 and many.average == 4.5
    assert single.rating_score < many.rating_score


# --- the creator's reply ---------------------------------------------------------------

def test_the_creator_replies_once(db, creator, learner, reviewed):
    reviews.reply_to_review(creator, reviewed, text="Thanks!", now=T0)
    db.session.commit()
    assert (reviewed.reply, reviewed.replied_at) == ("Thanks!", T0)
    assert len(notifications(learner, "review.replied")) == 1
    with pytest.raises(Conflict):
        reviews.reply_to_review(creator, reviewed, text="Thanks again!")
    assert reviewed.reply == "Thanks!"


def test_a_reply_needs_text(db, creator, reviewed):
    with pytest.raises(Invalid):
        reviews.reply_to_review(creator, reviewed, text="   ")
    assert reviewed.reply is None


def test_nobody_else_replies_to_a_review(db, make_user, admin, learner, reviewed):
    other_creator = make_user(password=None)
    for who in (other_creator, learner, admin):
        with pytest.raises(NotAllowed):
            reviews.reply_to_review(who, reviewed, text="Hi")
    assert reviewed.reply is None


def test_a_reply_to_someone_elses_course_stays_not_allowed_after_a_reply(db, make_user, creator,
                                                                         reviewed):
    reviews.reply_to_review(creator, reviewed, text="Thanks!")
    with pytest.raises(NotAllowed):
        reviews.reply_to_review(make_user(password=None), reviewed, text="Me too")


def test_reviews_are_listed_newest_first(db, make_user, course):
    written = []
    for _ in range(3):
        who = make_user(password=None)
        enroll(who, course)
        written.append(reviews.write_review(who, course, rating=5))
    assert [r.id for r in reviews.list_reviews(course).items] == [r.id for r in reversed(written)]


# --- reports ---------------------------------------------------------------------------

def test_a_review_is_reported_once_per_reporter(db, make_user, reviewed):
    reporter = make_user(password=None)
    first = report_review(reporter, reviewed, reason="Fake")
    assert report_review(reporter, reviewed, reason="Fake!").id == first.id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Report).where(
        Report.target_type == "review", Report.target_id == reviewed.id)) == 1


def test_anonymous_and_suspended_users_cannot_report_a_review(db, make_user, admin, anonymous,
                                                              reviewed):
    banned = make_user(password=None)
    suspend_user(admin, banned, reason="abuse")
    for who in (anonymous, banned):
        with pytest.raises(NotAllowed):
            report_review(who, reviewed, reason="Fake")


# --- taking a review back, and who reads a course's reviews ------------------------------------

def test_the_author_takes_their_review_back(db, learner, course, reviewed):
    reviews.delete_review(learner, course)
    db.session.commit()
    assert review_rows(db, course) == 0
    assert_aggregates(course.id, [])


def test_taking_back_a_review_never_written_is_not_found(db, make_user, learner, course, reviewed):
    other = make_user(password=None)
    with pytest.raises(NotFound):
        reviews.delete_review(other, course)  # someone else's review is not theirs to delete
    assert review_rows(db, course) == 1


def test_a_refunded_learner_still_takes_their_review_back(db, learner, course, enrolled, reviewed):
    revoke(enrolled, reason="refunded")
    reviews.delete_review(learner, course)
    assert review_rows(db, course) == 0


def test_a_course_that_is_not_public_shows_its_reviews_to_its_people_only(db, creator, learner, make_user,
                                                                          draft_course):
    assert reviews.access_course_reviews(creator, draft_course.id).id == draft_course.id
    for outsider in (learner, None):
        with pytest.raises(NotFound):
            reviews.access_course_reviews(outsider, draft_course.id)


def test_the_reviews_by_keyset_in_the_pages_order(db, make_user, course):
    written = []
    for n in range(5):
        who = make_user(password=None)
        enroll(who, course)
        written.append(reviews.write_review(who, course, rating=5, now=T0 if n < 3 else None))
    db.session.commit()
    first = reviews.reviews_page(course, limit=2)
    rest = reviews.reviews_page(course, after=(first[-1].updated_at, first[-1].id), limit=10)
    assert [r.id for r in first + rest] == [r.id for r in reviews.list_reviews(course).items]
