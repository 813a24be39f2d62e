"""Creator pages /creators/<id>, category pages /courses/categories/<slug>, and the home page's
"Popular right now" (visitors) and "Recommended for you" (signed-in learners)."""
from __future__ import annotations

import re
from datetime import timedelta

from app.accounts.profile import update_profile
from app.catalog import publishing
from app.dbtypes import utcnow
from app.discovery.ranking import refresh_trending
from app.extensions import db
from app.learning.enrollment import enroll
from app.moderation.suspensions import suspend_user
from tests.support.pages import HX, facets, text
from tests.support.search import draft_course, publish, rate


def cards(body: str) -> list[str]:
    return re.findall(r'<h[23] class="card-title">([^<]*)</h[23]>', body)


# --- creator pages ----------------------------------------------------------------------------

def test_a_creator_page_shows_bio_courses_learners_and_average_rating(
        client, creator, reviewer, make_user, admin):
    update_profile(creator, display_name="Carl Creator", headline="Baker and coder",
                   bio="I teach **bread** and code.")
    raters = [make_user(password=None) for _ in range(3)]
    python = publish(creator, reviewer, title="Python for Data Analysis", price="19.99")
    bread = publish(creator, reviewer, title="Sourdough Basics")
    rate(python, raters[:2], [5, 4], granter=admin)
    rate(bread, raters[2:], [3])
    gone = publish(creator, reviewer, title="Gone Course")
    publishing.unpublish_course(creator, gone)
    draft_course(creator, title="Secret Draft")
    db.session.commit()
    resp = client.get(f"/creators/{creator.id}")
    body = text(resp)
    assert resp.status_code == 200 and "<html" in body
    assert "<h1>Carl Creator</h1>" in body and "Baker and coder" in body
    assert "<strong>bread</strong>" in body
    assert "2 courses · 3 learners · ★ 4.0 average from 3 reviews" in body
    assert sorted(cards(body)) == ["Python for Data Analysis", "Sourdough Basics"]


def test_an_unknown_creator_is_a_404(client):
    assert client.get("/creators/999999").status_code == 404
    assert client.get("/creators/99999999999999999999").status_code == 404
    assert client.get("/creators/abc").status_code == 404


def test_a_suspended_creators_page_is_gone(client, creator, reviewer, user_admin):
    publish(creator, reviewer, title="Python for Data Analysis")
    suspend_user(user_admin, creator, reason="fraud")
    db.session.commit()
    assert client.get(f"/creators/{creator.id}").status_code == 404


# --- category pages ---------------------------------------------------------------------------

def test_a_category_page_lists_only_its_courses(client, creator, reviewer):
    publish(creator, reviewer, title="Python for Data Analysis", category_slug="development")
    publish(creator, reviewer, title="Sourdough Basics", category_slug="business")
    resp = client.get("/courses/categories/development")
    body = text(resp)
    assert resp.status_code == 200 and "<html" in body
    assert "<h1>Development courses</h1>" in body
    assert cards(body) == ["Python for Data Analysis"]
    assert 'action="/courses/categories/development"' in body
    assert 'name="category"' not in body  # the category is the page itself


def test_a_category_page_keeps_its_category_whatever_the_query_string_says(
        client, creator, reviewer):
    publish(creator, reviewer, title="Python for Data Analysis", category_slug="development")
    publish(creator, reviewer, title="Python Bookkeeping", category_slug="business")
    body = text(client.get("/courses/categories/development",
                           query_string={"q": "python", "category": "business"}))
    assert cards(body) == ["Python for Data Analysis"]


def test_a_category_page_answers_htmx_with_its_results_only(client, creator, reviewer):
    publish(creator, reviewer, title="Python for Data Analysis", category_slug="development",
            level="advanced")
    publish(creator, reviewer, title="Python Basics", category_slug="development",
            level="beginner")
    resp = client.get("/courses/categories/development", query_string={"level": "beginner"},
                      headers=HX)
    body = text(resp)
    assert resp.status_code == 200 and "<html" not in body
    assert cards(body) == ["Python Basics"]
    assert 'id="facet-category-' not in body  # no category facet on a category page
    assert facets(body, oob=True)["facet-level-advanced"] == 1
    (chip,) = re.findall(r'<a class="chip" href="([^"]*)"', body)
    assert chip.startswith("/courses/categories/development") and "level" not in chip


def test_an_unknown_category_is_a_404(client):
    assert client.get("/courses/categories/no-such-category").status_code == 404
    assert client.get("/courses/categories/no-such-category", headers=HX).status_code == 404


def test_an_empty_category_suggests_every_course(client):
    body = text(client.get("/courses/categories/music"))
    assert "0 courses" in body and 'href="/courses/">See every course' in body


# --- home page ----------------------------------------------------------------------------

def test_visitors_see_what_is_popular_right_now(client, creator, reviewer, make_user):
    publish(creator, reviewer, title="Quiet Course")
    busy = publish(creator, reviewer, title="Busy Course")
    for learner in (make_user(password=None), make_user(password=None)):
        enroll(learner, busy, now=utcnow() - timedelta(hours=2))
    db.session.commit()
    refresh_trending()
    db.session.commit()
    body = text(client.get("/"))
    assert "Popular right now" in body and "Recommended for you" not in body
    assert cards(body) == ["Busy Course", "Quiet Course"]
    assert "card-reason" not in body


def test_a_learner_sees_recommendations_with_their_reasons(client, login, learner, creator,
                                                           reviewer, make_user):
    taken = publish(creator, reviewer, title="Knitting Basics", category_slug="design")
    more = publish(creator, reviewer, title="Crochet Basics", category_slug="business")
    other = make_user(password=None, display_name="Olga Other")
    publish(other, reviewer, title="Tax Returns", category_slug="business")
    enroll(learner, taken)
    db.session.commit()
    login(learner)
    body = text(client.get("/"))
    assert "Recommended for you" in body and "Popular right now" not in body
    assert cards(body) == ["Crochet Basics", "Tax Returns"]
    assert "Knitting Basics" not in cards(body)
    assert "More from Carl Creator, who made “Knitting Basics”" in body
    assert "Popular with learners right now" in body
    assert more.title in body
