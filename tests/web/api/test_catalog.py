"""The public catalog through the API: the search page's filters, sorts and facets, cursors,
a course with its syllabus (visible to whom the page shows it), categories, creators."""
from __future__ import annotations

from app.extensions import db
from app.learning.enrollment import enroll
from tests.support.api import assert_problem
from tests.support.search import draft_course, publish, rate


def titles(body) -> list[str]:
    return [item["title"] for item in body["items"]]


def test_search_finds_filters_and_sorts_like_the_page(anonymous, creator, reviewer, make_user):
    publish(creator, reviewer, title="Practical SQL", price="19.99", level="beginner")
    publish(creator, reviewer, title="Advanced SQL tuning", price="0", level="advanced")
    publish(creator, reviewer, title="Watercolour basics", price="5", level="beginner")

    body = anonymous.get("/api/v1/courses?q=sql&sort=price").get_json()
    assert titles(body) == ["Advanced SQL tuning", "Practical SQL"]
    assert body["total"] == 2
    first = body["items"][1]
    assert first["price"] == {"amount_minor": 1999, "currency": "USD"}
    assert first["creator"] == {"id": creator.id, "display_name": creator.display_name, "headline": ""}

    assert titles(anonymous.get("/api/v1/courses?price=free").get_json()) == ["Advanced SQL tuning"]
    assert titles(anonymous.get("/api/v1/courses?level=beginner&max_price=1000").get_json()) == \
        ["Watercolour basics"]
    levels = {f["value"]: f["count"] for f in anonymous.get("/api/v1/courses").get_json()["facets"]["level"]}
    assert levels == {"beginner": 2, "advanced": 1}


def test_search_pages_with_a_cursor_until_the_end(anonymous, creator, reviewer):
    for n in range(5):
        publish(creator, reviewer, title=f"Pottery course {n}")
    seen, cursor = [], None
    while True:
        resp = anonymous.get("/api/v1/courses?sort=newest&limit=2" + (f"&cursor={cursor}" if cursor else ""))
        body = resp.get_json()
        seen += titles(body)
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == [f"Pottery course {n}" for n in range(5)] and len(seen) == 5


def test_bad_search_input_is_a_422_naming_the_field(anonymous):
    for query, field in (("sort=cheapest", "sort"), ("min_rating=9", "min_rating"), ("limit=0", "limit"),
                         ("level=guru", "level"), ("min_price=-1", "min_price"), ("q=" + "x" * 201, "q")):
        body = assert_problem(anonymous.get(f"/api/v1/courses?{query}"), 422)
        assert body["errors"][0]["field"] == field, query
    assert "no category" in assert_problem(anonymous.get("/api/v1/courses?category=nope"), 422)["detail"]
    assert "cursor" in assert_problem(anonymous.get("/api/v1/courses?cursor=forged"), 422)["detail"]


def test_course_detail_has_the_syllabus(anonymous, creator, reviewer, admin, make_user):
    course = publish(creator, reviewer, title="Practical SQL", price="19.99", category_slug="development")
    rate(course, [make_user(), make_user()], [5, 4], granter=admin)
    body = anonymous.get(f"/api/v1/courses/{course.slug}").get_json()
    assert body["title"] == "Practical SQL" and body["status"] == "published"
    assert body["category"]["slug"] == "development"
    assert body["rating_average"] == 4.5 and body["rating_count"] == 2 and body["learners"] == 2
    assert [lesson["title"] for lesson in body["syllabus"][0]["lessons"]] == \
        ["Getting started", "Going further", "Wrapping up"]
    assert body["published_at"].endswith("Z")


def test_a_draft_is_a_404_except_for_its_creator_and_reviewers(anonymous, api, creator, reviewer, learner):
    draft = draft_course(creator, title="Secret plans")
    db.session.commit()
    assert_problem(anonymous.get(f"/api/v1/courses/{draft.slug}"), 404)
    assert_problem(api(learner, "read").get(f"/api/v1/courses/{draft.slug}"), 404)
    assert api(creator, "read").get(f"/api/v1/courses/{draft.slug}").get_json()["status"] == "draft"
    assert api(reviewer, "read").get(f"/api/v1/courses/{draft.slug}").status_code == 200
    assert_problem(anonymous.get("/api/v1/courses/no-such-course"), 404)


def test_a_course_taken_down_stays_visible_to_its_learners(anonymous, api, creator, reviewer, learner):
    course = publish(creator, reviewer, title="Old course")
    enroll(learner, course)
    course.status = "unpublished"
    db.session.commit()
    assert_problem(anonymous.get(f"/api/v1/courses/{course.slug}"), 404)
    assert api(learner, "read").get(f"/api/v1/courses/{course.slug}").status_code == 200


def test_categories_and_creators(anonymous, creator, reviewer):
    publish(creator, reviewer, title="Practical SQL")
    slugs = [c["slug"] for c in anonymous.get("/api/v1/categories").get_json()["items"]]
    assert "development" in slugs
    profile = anonymous.get(f"/api/v1/creators/{creator.id}").get_json()
    assert profile["display_name"] == creator.display_name and profile["published_courses"] == 1
    assert [c["title"] for c in profile["courses"]] == ["Practical SQL"]
    assert "email" not in profile
    assert_problem(anonymous.get("/api/v1/creators/999999"), 404)
    assert_problem(anonymous.get("/api/v1/creators/99999999999"), 404)
