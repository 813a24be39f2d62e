"""The studio through the API: a creator's own courses, details, price and split, cover,
review; another creator's course is a 404; a course under review is locked for the API too."""
from __future__ import annotations

import io

from app.extensions import db
from tests.support.api import assert_problem
from tests.support.search import draft_course
from tests.support.uploads import png


def new_course(caller, **fields):
    body = {"title": "Practical SQL", "category": "development", "accept_terms": True, **fields}
    return caller.post("/api/v1/studio/courses", json=body)


def test_a_creator_makes_and_edits_a_course(api, creator):
    caller = api(creator, "read", "teach")
    resp = new_course(caller)
    assert resp.status_code == 201
    course = resp.get_json()
    assert course["status"] == "draft" and course["locked"] is False
    assert course["category"]["slug"] == "development"
    assert not all(entry["done"] for entry in course["checklist"])

    changed = caller.patch(f"/api/v1/studio/courses/{course['id']}",
                           json={"subtitle": "Queries that work", "level": "beginner", "language": "fr"})
    assert changed.status_code == 200
    assert (changed.get_json()["subtitle"], changed.get_json()["level"], changed.get_json()["language"]) == \
        ("Queries that work", "beginner", "fr")

    priced = caller.put(f"/api/v1/studio/courses/{course['id']}/price", json={"price_minor": 1999})
    assert priced.get_json()["price"] == {"amount_minor": 1999, "currency": "USD"}
    split = caller.get(f"/api/v1/studio/courses/{course['id']}/split").get_json()
    assert split["price"]["amount_minor"] == 1999
    assert split["commission"]["amount_minor"] + split["creator_share"]["amount_minor"] == 1999
    assert split["commission"]["amount_minor"] == round(1999 * split["commission_rate_bps"] / 10_000)
    other = caller.get(f"/api/v1/studio/courses/{course['id']}/split?price_minor=5000").get_json()
    assert other["price"]["amount_minor"] == 5000

    listed = caller.get("/api/v1/studio/courses").get_json()
    assert [item["id"] for item in listed["items"]] == [course["id"]]


def test_bad_input_is_a_422_with_the_reason(api, make_user):
    caller = api(make_user(), "teach")
    assert "creator terms" in assert_problem(new_course(caller, accept_terms=False), 422)["detail"]
    assert "no category" in assert_problem(new_course(caller, category="nope"), 422)["detail"]
    assert assert_problem(new_course(caller, title=""), 422)["errors"][0]["field"] == "title"
    assert assert_problem(new_course(caller, colour="red"), 422)["errors"][0]["field"] == "colour"
    course = new_course(caller).get_json()
    too_cheap = caller.put(f"/api/v1/studio/courses/{course['id']}/price", json={"price_minor": 1})
    assert "at least" in assert_problem(too_cheap, 422)["detail"]
    not_json = caller.post("/api/v1/studio/courses", data={"title": "x"})
    assert_problem(not_json, 415)


def test_another_creators_course_is_a_404_and_scopes_are_checked(api, anonymous, creator, make_user):
    course = draft_course(creator, title="Mine alone")
    db.session.commit()
    stranger = api(make_user(), "read", "teach")
    for method, path, body in (("GET", f"/api/v1/studio/courses/{course.id}", None),
                               ("PATCH", f"/api/v1/studio/courses/{course.id}", {"title": "Taken"}),
                               ("PUT", f"/api/v1/studio/courses/{course.id}/price", {"price_minor": 0}),
                               ("DELETE", f"/api/v1/studio/courses/{course.id}", None),
                               ("POST", f"/api/v1/studio/courses/{course.id}/submission", None)):
        assert_problem(stranger.open(method, path, json=body), 404)
        assert_problem(anonymous.open(method, path, json=body), 401)
    reader = api(creator, "read")
    assert reader.get(f"/api/v1/studio/courses/{course.id}").status_code == 200
    body = assert_problem(reader.patch(f"/api/v1/studio/courses/{course.id}", json={"title": "New"}), 403)
    assert "teach" in body["detail"]
    assert_problem(api(creator, "teach").get(f"/api/v1/studio/courses/{course.id}"), 403)
    assert db.session.get(type(course), course.id).title == "Mine alone"


def test_submitting_locks_the_course_until_withdrawn(api, creator):
    course = draft_course(creator, title="Ready to go")
    db.session.commit()
    caller = api(creator, "read", "teach")
    submitted = caller.post(f"/api/v1/studio/courses/{course.id}/submission")
    assert submitted.status_code == 200 and submitted.get_json()["status"] == "under_review"
    assert submitted.get_json()["locked"] is True
    locked = caller.patch(f"/api/v1/studio/courses/{course.id}", json={"title": "Changed"})
    assert_problem(locked, 409)
    assert_problem(caller.put(f"/api/v1/studio/courses/{course.id}/price", json={"price_minor": 0}), 409)
    withdrawn = caller.delete(f"/api/v1/studio/courses/{course.id}/submission")
    assert withdrawn.get_json()["status"] == "draft" and withdrawn.get_json()["locked"] is False
    assert caller.patch(f"/api/v1/studio/courses/{course.id}", json={"title": "Changed"}).status_code == 200


def test_an_incomplete_course_cannot_be_submitted(api, creator):
    caller = api(creator, "read", "teach")
    course = new_course(caller).get_json()
    body = assert_problem(caller.post(f"/api/v1/studio/courses/{course['id']}/submission"), 422)
    assert "description" in body["detail"]


def test_cover_upload_checks_type_and_size(app, api, creator):
    caller = api(creator, "read", "teach")
    course = new_course(caller).get_json()
    path = f"/api/v1/studio/courses/{course['id']}/cover"
    ok = caller.put(path, data={"file": (io.BytesIO(png(8, 8)), "cover.png")}, content_type="multipart/form-data")
    assert ok.status_code == 200 and ok.get_json()["cover_url"].startswith("/courses/covers/")
    wrong = caller.put(path, data={"file": (io.BytesIO(b"%PDF-1.4 not an image"), "cover.png")},
                       content_type="multipart/form-data")
    assert_problem(wrong, 422)
    big = b"x" * (app.config["COVER_MAX_BYTES"] + 100 * 1024)
    assert_problem(caller.put(path, data={"file": (io.BytesIO(big), "big.png")},
                              content_type="multipart/form-data"), 413)
    assert_problem(caller.put(path, data={}, content_type="multipart/form-data"), 422)


def test_deleting_a_draft(api, creator):
    caller = api(creator, "read", "teach")
    course = new_course(caller).get_json()
    assert caller.delete(f"/api/v1/studio/courses/{course['id']}").status_code == 204
    assert_problem(caller.get(f"/api/v1/studio/courses/{course['id']}"), 404)
