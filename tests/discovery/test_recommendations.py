""""Learners who took this also took" and "recommended for you", each pick with its reason;
a learner with nothing to go on gets what is trending."""
from __future__ import annotations

from datetime import timedelta

from flask_login import AnonymousUserMixin

from app.catalog import publishing
from app.dbtypes import utcnow
from app.discovery.ranking import refresh_affinity, refresh_trending
from app.discovery.recommendations import also_took, for_user
from app.extensions import db
from app.learning.enrollment import enroll, revoke
from app.moderation.suspensions import suspend_user

POPULAR = "Popular with learners right now"


def test_also_took_lists_the_courses_sharing_most_learners(publish, make_learners, make_user,
                                                           user_admin, creator):
    banned = make_user(password=None, display_name="Banned")
    main, often, once, hidden, gone = (
        publish(title="Knitting Basics"), publish(title="Crochet Basics"),
        publish(title="Weaving Basics"), publish(title="Felting Basics", by=banned),
        publish(title="Dyeing Basics"))
    for i, learner in enumerate(make_learners(3)):
        enroll(learner, main)
        enroll(learner, often)
        enroll(learner, hidden)
        enroll(learner, gone)
        if i == 0:
            enroll(learner, once)
    db.session.commit()
    suspend_user(user_admin, banned, reason="spam")
    publishing.unpublish_course(creator, gone)
    db.session.commit()
    refresh_affinity()
    assert [card.id for card in also_took(main)] == [often.id, once.id]
    assert [card.id for card in also_took(main, limit=1)] == [often.id]
    assert also_took(hidden) != [] and hidden.id not in [c.id for c in also_took(often)]


def test_recommendations_follow_the_learners_courses_and_explain_each(
        publish, make_learners, make_user, creator, learner):
    other_maker = make_user(password=None, display_name="Olga Other")
    taken = publish(title="Knitting Basics", category_slug="design")
    same_creator = publish(title="Sourdough Basics", category_slug="business")
    same_category = publish(title="Weaving Basics", category_slug="design", by=other_maker)
    co_enrolled = publish(title="Guitar Chords", category_slug="music", by=other_maker)
    unrelated = publish(title="Tax Returns", category_slug="business", by=other_maker)
    own = publish(title="Quilting Basics", category_slug="design", by=learner)
    for someone in make_learners(2):
        enroll(someone, taken)
        enroll(someone, co_enrolled)
    enroll(learner, taken)
    db.session.commit()
    refresh_affinity()
    picks = {pick.card.id: pick.reason for pick in for_user(learner, limit=3)}
    assert picks == {
        co_enrolled.id: "Learners who took “Knitting Basics” also took this",
        same_creator.id: "More from Carl Creator, who made “Knitting Basics”",
        same_category.id: "Because you took “Knitting Basics”",
    }
    assert taken.id not in picks and own.id not in picks and unrelated.id not in picks


def test_recommendations_never_include_enrolled_or_own_courses(publish, learner, make_learners):
    taken = publish(title="Knitting Basics")
    own = publish(title="Quilting Basics", by=learner)
    others = [publish(title=f"Weaving {n}") for n in range(3)]
    for someone in make_learners(2):
        for course in (taken, own, *others):
            enroll(someone, course)
    enroll(learner, taken)
    db.session.commit()
    refresh_affinity()
    refresh_trending()
    picks = for_user(learner, limit=10)
    assert {pick.card.id for pick in picks} == {course.id for course in others}


def test_a_cold_start_falls_back_to_trending(publish, make_learners, learner):
    quiet, busy, busier = (publish(title=f"Knitting {n}") for n in range(3))
    people = make_learners(3)
    now = utcnow()
    enroll(people[0], busy, now=now - timedelta(days=1))
    for someone in people:
        enroll(someone, busier, now=now - timedelta(days=1))
    db.session.commit()
    refresh_trending(now=now)
    for user in (learner, AnonymousUserMixin(), None):
        picks = for_user(user, limit=3)
        assert [pick.card.id for pick in picks] == [busier.id, busy.id, quiet.id]
        assert {pick.reason for pick in picks} == {POPULAR}


def test_trending_fills_up_when_personal_picks_are_too_few(publish, make_user, learner):
    other_maker = make_user(password=None, display_name="Olga Other")
    taken = publish(title="Knitting Basics", category_slug="design")
    related = publish(title="Weaving Basics", category_slug="design", by=other_maker)
    filler = publish(title="Tax Returns", category_slug="business", by=other_maker)
    enroll(learner, taken)
    db.session.commit()
    picks = for_user(learner, limit=3)
    assert [(pick.card.id, pick.reason) for pick in picks] == [
        (related.id, "Because you took “Knitting Basics”"), (filler.id, POPULAR)]


def test_a_refunded_course_is_neither_offered_again_nor_a_reason(publish, make_user, learner, admin):
    other_maker = make_user(password=None, display_name="Olga Other")
    third_maker = make_user(password=None, display_name="Theo Third")
    refunded = publish(title="Knitting Basics", category_slug="design")
    kept = publish(title="Tax Returns", category_slug="business", by=other_maker)
    same_category_as_refunded = publish(title="Weaving Basics", category_slug="design",
                                        by=third_maker)
    same_category_as_kept = publish(title="Bookkeeping", category_slug="business", by=third_maker)
    enrollment = enroll(learner, refunded)
    enroll(learner, kept)
    db.session.commit()
    revoke(enrollment, reason="refund", actor=admin)
    db.session.commit()
    picks = for_user(learner, limit=2)
    assert [(pick.card.id, pick.reason) for pick in picks] == [
        (same_category_as_kept.id, "Because you took “Tax Returns”"),
        (same_category_as_refunded.id, POPULAR)]
