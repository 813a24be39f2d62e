"""The curriculum through the API: sections, lessons of the four kinds with uploads checked
like the editor's, quizzes; someone else's items are 404s, a read-only token gets a 403."""
from __future__ import annotations

import io

from app.catalog.samples import pdf, png
from app.extensions import db
from tests.support.api import assert_problem
from tests.support.search import draft_course


def make_course(caller) -> dict:
    return caller.post("/api/v1/studio/courses", json={"title": "Pottery", "category": "development",
                                                       "accept_terms": True}).get_json()


def test_sections_and_lessons_are_built_moved_and_deleted(api, creator):
    caller = api(creator, "read", "teach")
    course = make_course(caller)
    first = caller.post(f"/api/v1/studio/courses/{course['id']}/sections", json={"title": "Basics"})
    assert first.status_code == 201
    second = caller.post(f"/api/v1/studio/courses/{course['id']}/sections", json={"title": "More"}).get_json()
    section = first.get_json()
    lessons = [caller.post(f"/api/v1/studio/sections/{section['id']}/lessons",
                           json={"title": f"Lesson {kind}", "kind": kind}).get_json()
               for kind in ("text", "video", "pdf", "quiz")]
    assert [lesson["kind"] for lesson in lessons] == ["text", "video", "pdf", "quiz"]

    text = caller.patch(f"/api/v1/studio/lessons/{lessons[0]['id']}",
                        json={"body": "# Hello", "duration_minutes": 5, "is_free_preview": True}).get_json()
    assert (text["body"], text["duration_seconds"], text["is_free_preview"], text["has_content"]) == \
        ("# Hello", 300, True, True)
    body_on_video = caller.patch(f"/api/v1/studio/lessons/{lessons[1]['id']}", json={"body": "x"})
    assert "text lessons" in assert_problem(body_on_video, 422)["detail"]

    moved = caller.post(f"/api/v1/studio/sections/{second['id']}/move", json={"direction": "up"}).get_json()
    assert moved["position"] == 0
    assert_problem(caller.post(f"/api/v1/studio/sections/{second['id']}/move", json={"direction": "left"}), 422)
    renamed = caller.patch(f"/api/v1/studio/sections/{section['id']}", json={"title": "Foundations"})
    assert renamed.get_json()["title"] == "Foundations"

    assert caller.delete(f"/api/v1/studio/lessons/{lessons[3]['id']}").status_code == 204
    assert caller.delete(f"/api/v1/studio/sections/{second['id']}").status_code == 204
    outline = caller.get(f"/api/v1/studio/courses/{course['id']}").get_json()["sections"]
    assert [s["title"] for s in outline] == ["Foundations"]
    assert [lesson["kind"] for lesson in outline[0]["lessons"]] == ["text", "video", "pdf"]


def test_media_uploads_are_checked_by_kind(api, creator):
    caller = api(creator, "read", "teach")
    course = make_course(caller)
    section = caller.post(f"/api/v1/studio/courses/{course['id']}/sections", json={"title": "A"}).get_json()
    lesson = caller.post(f"/api/v1/studio/sections/{section['id']}/lessons",
                         json={"title": "Notes", "kind": "pdf"}).get_json()
    path = f"/api/v1/studio/lessons/{lesson['id']}/media"
    ok = caller.put(path, data={"file": (io.BytesIO(pdf("Notes", ["one line"])), "notes.pdf")}, content_type="multipart/form-data")
    assert ok.status_code == 200 and ok.get_json()["media_url"] and ok.get_json()["has_content"]
    wrong = caller.put(path, data={"file": (io.BytesIO(png(2, 2)), "notes.pdf")}, content_type="multipart/form-data")
    assert_problem(wrong, 422)
    assert_problem(caller.put(path, json={"file": "x"}), 415)


def test_quizzes_are_written_through_the_api(api, creator):
    caller = api(creator, "read", "teach")
    course = make_course(caller)
    section = caller.post(f"/api/v1/studio/courses/{course['id']}/sections", json={"title": "A"}).get_json()
    lesson = caller.post(f"/api/v1/studio/sections/{section['id']}/lessons",
                         json={"title": "Check", "kind": "quiz"}).get_json()
    quiz_path = f"/api/v1/studio/lessons/{lesson['id']}/quiz"
    assert caller.patch(quiz_path, json={"pass_mark_percent": 80}).get_json()["pass_mark_percent"] == 80
    assert_problem(caller.patch(quiz_path, json={"pass_mark_percent": 120}), 422)
    question = caller.post(f"{quiz_path}/questions", json={"prompt": "2 + 2?", "kind": "single"}).get_json()
    four = caller.post(f"/api/v1/studio/questions/{question['id']}/options",
                       json={"text": "4", "is_correct": True}).get_json()["options"][0]
    five = caller.post(f"/api/v1/studio/questions/{question['id']}/options", json={"text": "5"}).get_json()
    assert [o["is_correct"] for o in five["options"]] == [True, False]
    flipped = caller.patch(f"/api/v1/studio/options/{five['options'][1]['id']}", json={"is_correct": True})
    assert [o["is_correct"] for o in flipped.get_json()["options"]] == [False, True]  # one correct answer
    true_false = caller.post(f"{quiz_path}/questions", json={"prompt": "Clay is wet?", "kind": "true_false"})
    assert len(true_false.get_json()["options"]) == 2
    assert caller.delete(f"/api/v1/studio/options/{four['id']}").status_code == 204
    edited = caller.patch(f"/api/v1/studio/questions/{question['id']}", json={"prompt": "Two plus two?"})
    assert edited.get_json()["prompt"] == "Two plus two?"
    assert caller.delete(f"/api/v1/studio/questions/{question['id']}").status_code == 204
    assert [q["prompt"] for q in caller.get(quiz_path).get_json()["questions"]] == ["Clay is wet?"]
    text = caller.post(f"/api/v1/studio/sections/{section['id']}/lessons", json={"title": "T", "kind": "text"})
    assert_problem(caller.get(f"/api/v1/studio/lessons/{text.get_json()['id']}/quiz"), 404)


def test_someone_elses_curriculum_is_a_404_and_read_tokens_cannot_write(api, anonymous, creator, make_user):
    course = draft_course(creator, title="Mine")
    db.session.commit()
    section, lesson = course.sections[0], course.sections[0].lessons[0]
    stranger = api(make_user(), "read", "teach")
    attempts = (("POST", f"/api/v1/studio/courses/{course.id}/sections", {"title": "x"}),
                ("PATCH", f"/api/v1/studio/sections/{section.id}", {"title": "x"}),
                ("DELETE", f"/api/v1/studio/sections/{section.id}", None),
                ("POST", f"/api/v1/studio/sections/{section.id}/lessons", {"title": "x", "kind": "text"}),
                ("PATCH", f"/api/v1/studio/lessons/{lesson.id}", {"title": "x"}),
                ("DELETE", f"/api/v1/studio/lessons/{lesson.id}", None))
    for method, path, body in attempts:
        assert_problem(stranger.open(method, path, json=body), 404)
        assert_problem(anonymous.open(method, path, json=body), 401)
        assert_problem(api(creator, "read").open(method, path, json=body), 403)
    assert [s.title for s in course.sections] == ["Part one"] and lesson.title == "Getting started"
