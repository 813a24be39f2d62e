"""The periodic discovery jobs: time-decayed trending, co-enrollment ("also took") and the
search vocabulary, and the RQ job that runs all three."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.catalog import publishing
from app.catalog.models import CourseAffinity, SearchTerm
from app.dbtypes import utcnow
from app.discovery.ranking import HALF_LIFE_DAYS, WEIGHTS, WINDOW, refresh_affinity, refresh_trending
from app.discovery.search import CatalogQuery, refresh_search_terms, search_courses
from app.extensions import db
from app.jobs import enqueue
from app.jobs.discovery import refresh_discovery
from app.learning.discussions import delete_post, start_thread
from app.learning.enrollment import enroll, revoke
from app.learning.models import CourseStats
from app.learning.progress import complete_lesson
from app.learning.reviews import write_review
from app.moderation.suspensions import suspend_user
from tests.support.search import draft_course, ids

NOW = utcnow().replace(microsecond=0)


def trending(course) -> int:
    return db.session.scalar(sa.select(CourseStats.trending_score)
                             .where(CourseStats.course_id == course.id)) or 0


def decayed(kind: str, days: float) -> int:
    return int(round(WEIGHTS[kind] * 0.5 ** (days / HALF_LIFE_DAYS) * 1000))


def affinity(course) -> list[tuple[int, int]]:
    return list(db.session.execute(
        sa.select(CourseAffinity.other_course_id, CourseAffinity.shared_learners)
        .where(CourseAffinity.course_id == course.id)
        .order_by(CourseAffinity.shared_learners.desc(), CourseAffinity.other_course_id)).all())


def test_every_kind_of_engagement_counts_with_its_weight(publish, make_learners):
    course = publish(title="Knitting Basics")
    learner, = make_learners(1)
    enroll(learner, course, now=NOW)
    complete_lesson(learner, course.lessons[0], now=NOW)
    write_review(learner, course, rating=5, now=NOW)
    start_thread(learner, course, title="Which needles?", body="Metal or bamboo?", now=NOW)
    db.session.commit()
    assert refresh_trending(now=NOW) == 1
    assert trending(course) == 1000 * sum(WEIGHTS.values())


def test_older_activity_counts_less_and_activity_outside_the_window_counts_nothing(
        publish, make_learners):
    fresh, week_old, stale, future = (publish(title=f"Knitting {n}") for n in range(4))
    a, b, c, d = make_learners(4)
    enroll(a, fresh, now=NOW - timedelta(days=1))
    enroll(b, week_old, now=NOW - timedelta(days=7))
    enroll(c, stale, now=NOW - WINDOW - timedelta(hours=1))
    enroll(d, future, now=NOW + timedelta(days=1))
    db.session.commit()
    refresh_trending(now=NOW)
    assert trending(fresh) == decayed("enrollment", 1)
    assert trending(week_old) == decayed("enrollment", 7)
    assert trending(fresh) > trending(week_old) > 0
    assert trending(stale) == 0 and trending(future) == 0
    results = search_courses(CatalogQuery(sort="trending"))
    assert ids(results)[:2] == [fresh.id, week_old.id]


def test_scores_fall_back_to_zero_when_the_activity_ages_out(publish, make_learners):
    course = publish(title="Knitting Basics")
    learner, = make_learners(1)
    enroll(learner, course, now=NOW)
    db.session.commit()
    refresh_trending(now=NOW)
    assert trending(course) == decayed("enrollment", 0)
    assert refresh_trending(now=NOW + WINDOW + timedelta(days=1)) == 0
    assert trending(course) == 0


def test_deleted_discussion_posts_do_not_count(publish, make_learners):
    course = publish(title="Knitting Basics")
    learner, = make_learners(1)
    enroll(learner, course, now=NOW - timedelta(days=30))  # outside the window
    thread = start_thread(learner, course, title="Spam?", body="Buy yarn here", now=NOW)
    db.session.commit()
    refresh_trending(now=NOW)
    assert trending(course) == decayed("post", 0)
    delete_post(learner, thread.posts[0], now=NOW)
    db.session.commit()
    refresh_trending(now=NOW)
    assert trending(course) == 0


def test_affinity_counts_shared_learners_and_ignores_revoked_enrollments(
        publish, make_learners, admin):
    a, b, c, d = (publish(title=f"Knitting {n}") for n in "ABCD")
    learners = make_learners(4)
    for learner in learners[:3]:
        enroll(learner, a)
        enroll(learner, b)
    enroll(learners[0], c)
    refunded = enroll(learners[3], d)
    enroll(learners[3], a)
    db.session.commit()
    revoke(refunded, reason="refund", actor=admin)
    db.session.commit()
    assert refresh_affinity() == 6  # a<->b, a<->c, b<->c
    assert affinity(a) == [(b.id, 3), (c.id, 1)]
    assert affinity(b) == [(a.id, 3), (c.id, 1)]
    assert affinity(c) == [(a.id, 1), (b.id, 1)]
    assert affinity(d) == []


def test_the_vocabulary_holds_words_of_visible_courses_only(publish, creator, make_user, user_admin):
    publish(title="Python for Data Analysis", subtitle="Pandas in 20 hours")
    publish(title="Python Web Apps", category_slug="it-software")
    draft_course(creator, title="Secret Draft Knitting")
    banned = make_user(password=None)
    publish(title="Forbidden Crochet", by=banned)
    suspend_user(user_admin, banned, reason="spam")
    db.session.add(SearchTerm(term="stale", frequency=9))
    db.session.commit()
    refresh_search_terms()
    terms = dict(db.session.execute(sa.select(SearchTerm.term, SearchTerm.frequency)).all())
    assert terms["python"] == 2 and terms["pandas"] == 1 and terms["software"] == 1
    assert terms["development"] == 1  # the first course's category
    for missing in ("stale", "secret", "knitting", "forbidden", "crochet", "20", "in"):
        assert missing not in terms


def test_the_discovery_job_refreshes_everything_inline(publish, make_learners):
    a, b = publish(title="Python for Data Analysis"), publish(title="Sourdough Basics")
    learners = make_learners(2)
    for learner in learners:
        enroll(learner, a)
        enroll(learner, b)
    db.session.commit()
    enqueue(refresh_discovery, queue="low")
    db.session.commit()  # inline queues run the job right after the commit
    db.session.expire_all()
    assert trending(a) > 0 and trending(b) > 0
    assert affinity(a) == [(b.id, 2)]
    assert db.session.get(SearchTerm, "sourdough") is not None
    assert search_courses(CatalogQuery(q="pyhton")).corrected_q == "python"


def test_an_unpublished_course_keeps_no_vocabulary(publish, creator):
    course = publish(title="Sourdough Basics")
    refresh_search_terms()
    assert db.session.get(SearchTerm, "sourdough") is not None
    publishing.unpublish_course(creator, course)
    db.session.commit()
    refresh_discovery()
    assert db.session.get(SearchTerm, "sourdough") is None
