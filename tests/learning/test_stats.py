"""Course aggregates in one place (app/learning/stats.py)."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.learning import stats
from app.learning.models import CourseStats


def test_a_course_without_activity_has_empty_stats(db, make_course):
    course = make_course(status="published")
    row = stats.stats_for(course.id)
    assert (row.learners, row.rating_count, row.rating_sum) == (0, 0, 0)
    assert row.histogram == {5: 0, 4: 0, 3: 0, 2: 0, 1: 0} and row.average == 0.0
    assert row.rating_score == stats.smoothed_score(0, 0) == stats.PRIOR_MEAN_MILLI


def test_bump_creates_the_row_once_and_adds(db, make_course):
    course = make_course(status="published")
    stats.bump(course.id, learners=1)
    stats.bump(course.id, learners=2)
    stats.bump(course.id, learners=-1)
    db.session.commit()
    assert db.session.get(CourseStats, course.id).learners == 2


def test_bump_keeps_the_smoothed_score_in_step(db, make_course):
    course = make_course(status="published")
    stats.bump(course.id, rating_count=3, rating_sum=14, rating_5=2, rating_4=1)
    row = stats.stats_for(course.id)
    assert row.rating_score == stats.smoothed_score(14, 3) == (5 * 3500 + 14_000) // 8


def test_a_learner_bump_leaves_the_score_alone(db, make_course):
    course = make_course(status="published")
    stats.bump(course.id, rating_count=1, rating_sum=4, rating_4=1)
    before = stats.stats_for(course.id).rating_score
    stats.bump(course.id, learners=1)
    assert stats.stats_for(course.id).rating_score == before


@given(st.lists(st.integers(1, 5), max_size=200))
def test_the_smoothed_score_stays_between_the_prior_and_the_mean(ratings):
    score = stats.smoothed_score(sum(ratings), len(ratings))
    prior = stats.PRIOR_MEAN_MILLI
    if not ratings:
        assert score == prior
    else:
        mean = 1000 * sum(ratings) / len(ratings)
        assert min(prior, mean) - 1 <= score <= max(prior, mean)


@given(st.integers(0, 500), st.integers(0, 500))
def test_more_of_the_same_rating_pulls_the_score_towards_it(few, extra):
    """n five-star reviews score at most n + k five-star reviews."""
    assert stats.smoothed_score(5 * few, few) <= stats.smoothed_score(5 * (few + extra), few + extra)


@pytest.mark.parametrize("ratings", [[5], [1], [4, 5], [3] * 10, [5] * 20 + [1] * 3])
def test_the_stored_score_equals_the_python_formula(db, make_course, ratings):
    course = make_course(status="published")
    deltas = {"rating_count": len(ratings), "rating_sum": sum(ratings)}
    stats.bump(course.id, **deltas)
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(CourseStats, course.id).rating_score
    assert stored == stats.smoothed_score(sum(ratings), len(ratings))
    assert isinstance(stored, int)
