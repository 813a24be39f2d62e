"""The lesson editor over HTTP: settings, the text body with its preview, media uploads
typed by content and capped in size, and quiz authoring; page and htmx fragment each."""
from __future__ import annotations

import io

import pytest

from app.catalog.models import Course, Lesson, QuizQuestion
from app.catalog.samples import pdf, png, video
from tests.support.pages import EVIL_MARKDOWN, HX, assert_fragment, assert_page, harmless, text
from tests.support.rows import reload
from tests.support.studio import asset_count, build_course, lesson_of, media_files
from tests.support.uploads import post_oversized

# A minimal ISO-BMFF file: an `ftyp` box naming the mp4 brands, then a small `mdat` box.
MP4 = (b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isommp41"
       + b"\x00\x00\x00\x28mdat" + bytes(range(32)))
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200 + b"This program cannot be run in DOS mode."


@pytest.fixture
def course(creator):
    return build_course(creator)


def upload(client, lesson_id, payload: bytes, name: str):
    """Post `payload` as the lesson's file (`client` may be the `htmx` helper)."""
    return client.post(f"/studio/lessons/{lesson_id}/media", data={"file": (io.BytesIO(payload), name)},
                       content_type="multipart/form-data")


# --- the page ----------------------------------------------------------------------------------

@pytest.mark.parametrize("kind, marker", [("video", "Upload a video (MP4 or WebM"),
                                          ("pdf", "Upload a PDF"),
                                          ("text", 'id="lesson-body"'),
                                          ("quiz", 'id="pass-mark"')])
def test_lesson_editor_page_for_every_kind(client, login, creator, course, kind, marker):
    login(creator)
    resp = client.get(f"/studio/lessons/{lesson_of(course, kind).id}")
    assert_page(resp)
    assert marker in text(resp) and 'id="lesson-title"' in text(resp)


@pytest.mark.parametrize("kind", ["video", "pdf", "text", "quiz"])
def test_lesson_editor_for_htmx_is_the_editor_block(htmx, login, creator, course, kind):
    login(creator)
    resp = htmx.get(f"/studio/lessons/{lesson_of(course, kind).id}")
    assert_fragment(resp, 'id="lesson_settings"')
    assert "Saved." not in text(resp)  # nothing was saved yet


def test_the_video_lesson_editor_plays_the_current_file(client, login, creator, course):
    lesson = lesson_of(course, "video")
    login(creator)
    body = text(client.get(f"/studio/lessons/{lesson.id}"))
    assert f'<video controls preload="metadata" class="lesson-video" src="/courses/lessons/{lesson.id}/media"' in body
    assert "welcome.webm" in body and "video/webm" in body


def test_a_missing_lesson_is_404(client, login, creator):
    login(creator)
    assert client.get("/studio/lessons/999999").status_code == 404


# --- settings ----------------------------------------------------------------------------------

def test_saving_settings_over_htmx(htmx, login, creator, course):
    lesson = lesson_of(course, "pdf")
    login(creator)
    resp = htmx.post(f"/studio/lessons/{lesson.id}/settings",
                     data={"title": "  Printable   notes ", "duration_minutes": "12", "is_free_preview": "on"})
    assert_fragment(resp, 'id="lesson-duration"')
    assert "Saved." in text(resp)
    saved = reload(Lesson, lesson.id)
    assert (saved.title, saved.duration_seconds, saved.is_free_preview) == ("Printable notes", 720, True)
    # Unticking the box takes the free preview away again.
    htmx.post(f"/studio/lessons/{lesson.id}/settings", data={"title": "Printable notes", "duration_minutes": "12"})
    assert reload(Lesson, lesson.id).is_free_preview is False


def test_saving_settings_without_javascript_redirects(client, login, creator, course):
    lesson = lesson_of(course, "pdf")
    login(creator)
    resp = client.post(f"/studio/lessons/{lesson.id}/settings", data={"title": "Notes", "duration_minutes": ""})
    assert resp.status_code == 302
    assert resp.headers["Location"] == f"/studio/lessons/{lesson.id}#settings"


@pytest.mark.parametrize("title, minutes, message", [
    ("", "5", "Give the lesson a title."),
    ("L" * 300, "5", "Keep the lesson title under 120 characters."),
    ("Fine", "abc", "Enter the duration in whole minutes."),
    ("Fine", "-5", "Enter a duration between 0 and 1,440 minutes."),
    ("Fine", "99999999999999999999", "Enter a duration between 0 and 1,440 minutes."),
    ("Fine", "2.5", "Enter the duration in whole minutes."),
])
def test_bad_settings_are_422_and_keep_what_was_typed(client, htmx, login, creator, course, title, minutes, message):
    lesson = lesson_of(course, "text")
    login(creator)
    form = {"title": title, "duration_minutes": minutes}
    resp = htmx.post(f"/studio/lessons/{lesson.id}/settings", data=form)
    assert_fragment(resp, message, 422)
    assert f'value="{title}"' in text(resp) and f'value="{minutes}"' in text(resp)
    assert "Saved." not in text(resp)
    page = client.post(f"/studio/lessons/{lesson.id}/settings", data=form)
    assert_page(page, 422)
    assert message in text(page) and f'value="{title}"' in text(page)
    saved = reload(Lesson, lesson.id)
    assert (saved.title, saved.duration_seconds) == ("The first principle", 0)


# --- the text body -----------------------------------------------------------------------------

def test_saving_the_body_over_htmx_shows_it_rendered(htmx, login, creator, course):
    lesson = lesson_of(course, "text")
    login(creator)
    resp = htmx.post(f"/studio/lessons/{lesson.id}/body", data={"body": "# Heading\n\nSome **bold** words.",
                                                               "action": "save"})
    assert_fragment(resp, 'id="lesson-body-preview"')
    assert "<strong>bold</strong>" in resp.get_data(as_text=True)
    assert reload(Lesson, lesson.id).body == "# Heading\n\nSome **bold** words."


def test_saving_the_body_without_javascript_redirects(client, login, creator, course):
    lesson = lesson_of(course, "text")
    login(creator)
    resp = client.post(f"/studio/lessons/{lesson.id}/body", data={"body": "Plain", "action": "save"})
    assert resp.status_code == 302 and resp.headers["Location"] == f"/studio/lessons/{lesson.id}#content"
    assert reload(Lesson, lesson.id).body == "Plain"


def test_the_no_javascript_preview_renders_without_saving(client, login, creator, course):
    lesson = lesson_of(course, "text")
    login(creator)
    resp = client.post(f"/studio/lessons/{lesson.id}/body", data={"body": EVIL_MARKDOWN, "action": "preview"})
    assert_page(resp)
    body = resp.get_data(as_text=True)
    assert "<strong>still bold</strong>" in body
    harmless(body)
    assert reload(Lesson, lesson.id).body == "## Start small\n\nMake it *work* first."


def test_a_saved_body_with_scripts_is_harmless_in_the_editor(client, htmx, login, creator, course):
    lesson = lesson_of(course, "text")
    login(creator)
    resp = htmx.post(f"/studio/lessons/{lesson.id}/body", data={"body": EVIL_MARKDOWN})
    assert resp.status_code == 200
    harmless(resp.get_data(as_text=True))
    page = client.get(f"/studio/lessons/{lesson.id}")
    assert "<strong>still bold</strong>" in page.get_data(as_text=True)
    harmless(page.get_data(as_text=True))
    assert "&lt;script&gt;" in page.get_data(as_text=True)  # what was typed, escaped in the textarea


def test_a_body_is_only_for_text_lessons(htmx, login, creator, course):
    lesson = lesson_of(course, "video")
    login(creator)
    resp = htmx.post(f"/studio/lessons/{lesson.id}/body", data={"body": "Words"})
    assert_fragment(resp, "Only text lessons have a written body.", 422)


def test_a_body_over_the_limit_is_422_and_kept(htmx, login, creator, course):
    lesson = lesson_of(course, "text")
    login(creator)
    long_body = "w" * 100_001
    resp = htmx.post(f"/studio/lessons/{lesson.id}/body", data={"body": long_body})
    assert_fragment(resp, "Keep the lesson under 100,000 characters.", 422)
    assert long_body in text(resp)
    assert reload(Lesson, lesson.id).body == "## Start small\n\nMake it *work* first."


# --- media uploads -------------------------------------------------------------------------------

@pytest.mark.parametrize("kind, payload, name, content_type", [
    ("video", MP4, "clip.mp4", "video/mp4"),
    ("video", video(), "clip.webm", "video/webm"),
    ("video", video(), "misnamed.mp4", "video/webm"),  # the content decides, not the name
    ("pdf", pdf("Handout", ["One", "Two"]), "handout.pdf", "application/pdf"),
])
def test_uploading_media_over_htmx(htmx, login, creator, course, app, kind, payload, name, content_type):
    lesson = lesson_of(course, kind)
    old_asset = lesson.media_asset_id
    login(creator)
    resp = upload(htmx, lesson.id, payload, name)
    assert_fragment(resp, 'id="lesson-file"')
    saved = reload(Lesson, lesson.id)
    assert saved.media_asset_id != old_asset
    assert (saved.media.content_type, saved.media.size, saved.media.original_name) == (content_type, len(payload), name)
    assert saved.media.storage_key in media_files(app)
    assert name in text(resp)


def test_uploading_media_without_javascript_redirects(client, login, creator, course):
    lesson = lesson_of(course, "pdf")
    login(creator)
    resp = upload(client, lesson.id, pdf("x", []), "x.pdf")
    assert resp.status_code == 302 and resp.headers["Location"] == f"/studio/lessons/{lesson.id}#content"


@pytest.mark.parametrize("kind, payload, name, message", [
    ("video", EXE, "movie.mp4", "The video must be one of: mp4, webm."),
    ("video", pdf("x", []), "movie.webm", "The video must be one of: mp4, webm."),
    ("video", b"", "empty.mp4", "The video is empty."),
    ("pdf", b"Just text pretending to be a PDF", "notes.pdf", "The PDF must be one of: pdf."),
    ("pdf", png(), "notes.pdf", "The PDF must be one of: pdf."),
    ("pdf", EXE, "notes.pdf", "The PDF must be one of: pdf."),
    ("text", pdf("x", []), "notes.pdf", "Only video and PDF lessons take a file."),
    ("quiz", video(), "clip.webm", "Only video and PDF lessons take a file."),
])
def test_a_file_of_the_wrong_kind_is_refused_and_nothing_is_saved(client, htmx, login, creator, course, app,
                                                                 kind, payload, name, message):
    lesson = lesson_of(course, kind)
    before, files, assets = lesson.media_asset_id, media_files(app), asset_count()
    login(creator)
    resp = upload(htmx, lesson.id, payload, name)
    assert_fragment(resp, message, 422)
    page = upload(client, lesson.id, payload, name)
    assert_page(page, 422)
    assert message in text(page)
    assert reload(Lesson, lesson.id).media_asset_id == before
    assert media_files(app) == files and asset_count() == assets


def test_an_upload_without_a_file_is_422(htmx, login, creator, course):
    login(creator)
    resp = htmx.post(f"/studio/lessons/{lesson_of(course, 'pdf').id}/media", data={},
                     content_type="multipart/form-data")
    assert_fragment(resp, "Choose a file to upload.", 422)


@pytest.fixture
def pdf_limit(app):
    saved = app.config["PDF_MAX_BYTES"]
    app.config["PDF_MAX_BYTES"] = 50_000
    yield 50_000
    app.config["PDF_MAX_BYTES"] = saved


@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
def test_an_oversized_pdf_is_refused_with_413_before_it_is_read(client, login, creator, course, app,
                                                               pdf_limit, headers):
    lesson = lesson_of(course, "pdf")
    before, files, assets = lesson.media_asset_id, media_files(app), asset_count()
    login(creator)
    big = pdf("Big", ["x" * 80] * 4000)
    assert len(big) > pdf_limit + 64 * 1024
    resp, stream = post_oversized(client, f"/studio/lessons/{lesson.id}/media", "file", "big.pdf", big, headers)
    assert resp.status_code == 413
    assert "That upload is too large." in text(resp)
    assert (b"<html" in resp.data) == (not headers)
    assert stream.consumed == 0  # refused from its Content-Length: not a byte was read
    assert reload(Lesson, lesson.id).media_asset_id == before
    assert media_files(app) == files and asset_count() == assets


def test_the_size_check_comes_before_the_csrf_check_reads_the_body(client, login, creator, course, app,
                                                                   pdf_limit, csrf_on):
    """With CSRF on, its check parses the form first: the cap must already be in place."""
    lesson = lesson_of(course, "pdf")
    files, assets = media_files(app), asset_count()
    login(creator)
    big = pdf("Big", ["x" * 80] * 4000)
    resp, stream = post_oversized(client, f"/studio/lessons/{lesson.id}/media", "file", "big.pdf", big)
    assert resp.status_code == 413 and stream.consumed == 0
    assert media_files(app) == files and asset_count() == assets


def test_a_pdf_just_over_the_limit_is_stopped_while_it_streams(htmx, login, creator, course, app, pdf_limit):
    lesson = lesson_of(course, "pdf")
    before, files, assets = lesson.media_asset_id, media_files(app), asset_count()
    login(creator)
    big = pdf("Big", ["x" * 80] * 700)
    assert pdf_limit < len(big) < pdf_limit + 64 * 1024
    resp = upload(htmx, lesson.id, big, "big.pdf")
    assert_fragment(resp, "The PDF is larger than 48.8 KB.", 413)
    assert reload(Lesson, lesson.id).media_asset_id == before
    assert media_files(app) == files and asset_count() == assets


def test_the_video_limit_does_not_apply_to_pdfs(client, login, creator, course, app):
    """Each kind has its own cap: lowering the PDF's leaves video uploads alone."""
    saved = app.config["PDF_MAX_BYTES"]
    app.config["PDF_MAX_BYTES"] = 1000
    try:
        login(creator)
        resp = upload(client, lesson_of(course, "video").id, video(), "clip.webm")
        assert resp.status_code == 302
    finally:
        app.config["PDF_MAX_BYTES"] = saved


# --- quiz authoring ----------------------------------------------------------------------------------

@pytest.fixture
def quiz_lesson(course):
    return lesson_of(course, "quiz")


def questions(lesson_id):
    return [(q.kind, q.prompt, [(o.text, o.is_correct) for o in q.options])
            for q in reload(Lesson, lesson_id).quiz.questions]


def test_setting_the_pass_mark(client, htmx, login, creator, quiz_lesson):
    login(creator)
    resp = htmx.post(f"/studio/lessons/{quiz_lesson.id}/quiz/pass-mark", data={"pass_mark_percent": "85"})
    assert_fragment(resp, 'id="pass-mark"')
    assert 'value="85"' in text(resp)
    plain = client.post(f"/studio/lessons/{quiz_lesson.id}/quiz/pass-mark", data={"pass_mark_percent": "90"})
    assert plain.status_code == 302 and plain.headers["Location"] == f"/studio/lessons/{quiz_lesson.id}#quiz"
    assert reload(Lesson, quiz_lesson.id).quiz.pass_mark_percent == 90


@pytest.mark.parametrize("value, message", [("0", "between 1% and 100%"), ("101", "between 1% and 100%"),
                                            ("abc", "whole percentage"), ("", "whole percentage"),
                                            ("9" * 40, "between 1% and 100%")])
def test_a_bad_pass_mark_is_422_and_kept(client, htmx, login, creator, quiz_lesson, value, message):
    login(creator)
    resp = htmx.post(f"/studio/lessons/{quiz_lesson.id}/quiz/pass-mark", data={"pass_mark_percent": value})
    assert_fragment(resp, message, 422)
    assert f'id="pass-mark" name="pass_mark_percent" type="number" min="1" max="100" value="{value}"' in text(resp)
    page = client.post(f"/studio/lessons/{quiz_lesson.id}/quiz/pass-mark", data={"pass_mark_percent": value})
    assert_page(page, 422)
    assert reload(Lesson, quiz_lesson.id).quiz.pass_mark_percent == 70


@pytest.mark.parametrize("kind", ["single", "multiple", "true_false"])
def test_adding_questions_of_every_kind(htmx, login, creator, quiz_lesson, kind):
    login(creator)
    resp = htmx.post(f"/studio/lessons/{quiz_lesson.id}/quiz/questions",
                     data={"prompt": f"A {kind} question?", "kind": kind, "explanation": "Because."})
    assert_fragment(resp, f"A {kind} question?")
    added = questions(quiz_lesson.id)[-1]
    assert added[:2] == (kind, f"A {kind} question?")
    assert added[2] == ([("True", False), ("False", False)] if kind == "true_false" else [])


def test_adding_a_question_without_javascript_redirects(client, login, creator, quiz_lesson):
    login(creator)
    resp = client.post(f"/studio/lessons/{quiz_lesson.id}/quiz/questions", data={"prompt": "Why?", "kind": "single"})
    assert resp.status_code == 302 and resp.headers["Location"] == f"/studio/lessons/{quiz_lesson.id}#quiz"
    assert questions(quiz_lesson.id)[-1][1] == "Why?"


@pytest.mark.parametrize("prompt, kind, message", [("", "single", "Write the question."),
                                                   ("Q" * 2001, "single", "Keep the question under 2,000 characters."),
                                                   ("Fine?", "essay", "Choose single choice, multiple choice or true/false.")])
def test_a_bad_question_is_422_and_keeps_what_was_typed(client, htmx, login, creator, quiz_lesson,
                                                       prompt, kind, message):
    login(creator)
    form = {"prompt": prompt, "kind": kind, "explanation": "My explanation"}
    resp = htmx.post(f"/studio/lessons/{quiz_lesson.id}/quiz/questions", data=form)
    assert_fragment(resp, message, 422)
    assert f">{prompt}</textarea>" in text(resp) and ">My explanation</textarea>" in text(resp)
    assert_page(client.post(f"/studio/lessons/{quiz_lesson.id}/quiz/questions", data=form), 422)
    assert len(questions(quiz_lesson.id)) == 2


def test_editing_and_deleting_a_question(client, htmx, login, creator, quiz_lesson):
    first, second = quiz_lesson.quiz.questions
    second_id = second.id
    login(creator)
    resp = htmx.post(f"/studio/questions/{first.id}", data={"prompt": "Do tests find bugs?", "explanation": "Often."})
    assert_fragment(resp, "Do tests find bugs?")
    bad = htmx.post(f"/studio/questions/{first.id}", data={"prompt": "  ", "explanation": ""})
    assert_fragment(bad, "Write the question.", 422)
    assert_page(client.post(f"/studio/questions/{first.id}", data={"prompt": "", "explanation": "x"}), 422)
    assert questions(quiz_lesson.id)[0][1] == "Do tests find bugs?"
    plain = client.post(f"/studio/questions/{first.id}", data={"prompt": "Do tests find all bugs?"})
    assert plain.status_code == 302 and plain.headers["Location"] == f"/studio/lessons/{quiz_lesson.id}#quiz"
    assert questions(quiz_lesson.id)[0][1] == "Do tests find all bugs?"
    assert client.post(f"/studio/questions/{first.id}/delete").status_code == 302
    assert [q.id for q in reload(Lesson, quiz_lesson.id).quiz.questions] == [second_id]
    assert reload(QuizQuestion, second_id).position == 0
    fragment = htmx.post(f"/studio/questions/{second_id}/delete")
    assert_fragment(fragment, "No questions yet.")
    assert reload(Lesson, quiz_lesson.id).quiz.questions == []


def test_answers_add_mark_and_remove(client, htmx, login, creator, quiz_lesson):
    single = quiz_lesson.quiz.questions[1]
    login(creator)
    resp = htmx.post(f"/studio/questions/{single.id}/options", data={"text": "Another idea", "is_correct": "on"})
    assert_fragment(resp, "Another idea")
    # A single-choice question keeps exactly one correct answer.
    assert questions(quiz_lesson.id)[1][2] == [("A tiny goal", False), ("A big plan", False), ("Another idea", True)]
    plain = client.post(f"/studio/questions/{single.id}/options", data={"text": "Plain idea"})
    assert plain.status_code == 302 and plain.headers["Location"] == f"/studio/lessons/{quiz_lesson.id}#quiz"
    option = reload(QuizQuestion, single.id).options[1]
    marked = htmx.post(f"/studio/options/{option.id}/correct", data={"correct": "1"})
    assert_fragment(marked, 'id="pass-mark"')
    assert questions(quiz_lesson.id)[1][2] == [("A tiny goal", False), ("A big plan", True),
                                               ("Another idea", False), ("Plain idea", False)]
    unmarked = client.post(f"/studio/options/{option.id}/correct", data={"correct": "0"})
    assert unmarked.status_code == 302
    assert questions(quiz_lesson.id)[1][2][1] == ("A big plan", False)
    plain = client.post(f"/studio/options/{option.id}/delete")
    assert plain.status_code == 302 and plain.headers["Location"] == f"/studio/lessons/{quiz_lesson.id}#quiz"
    last = reload(QuizQuestion, single.id).options[-1]
    assert_fragment(htmx.post(f"/studio/options/{last.id}/delete"), 'id="pass-mark"')
    assert [(o.text, o.position) for o in reload(QuizQuestion, single.id).options] == [
        ("A tiny goal", 0), ("Another idea", 1)]


def test_multiple_choice_keeps_several_correct_answers(htmx, login, creator, quiz_lesson):
    login(creator)
    htmx.post(f"/studio/lessons/{quiz_lesson.id}/quiz/questions", data={"prompt": "Pick two", "kind": "multiple"})
    question = reload(Lesson, quiz_lesson.id).quiz.questions[-1]
    for answer in ("a", "b", "c"):
        htmx.post(f"/studio/questions/{question.id}/options", data={"text": answer, "is_correct": "on"})
    assert questions(quiz_lesson.id)[-1][2] == [("a", True), ("b", True), ("c", True)]


@pytest.mark.parametrize("answer, message", [("", "Write the answer."),
                                             ("A" * 501, "Keep answers under 500 characters.")])
def test_a_bad_answer_is_422_and_kept(htmx, login, creator, quiz_lesson, answer, message):
    single = quiz_lesson.quiz.questions[1]
    login(creator)
    resp = htmx.post(f"/studio/questions/{single.id}/options", data={"text": answer})
    assert_fragment(resp, message, 422)
    assert f'name="text" value="{answer}"' in text(resp)
    assert len(reload(QuizQuestion, single.id).options) == 2


def test_true_false_questions_keep_their_two_answers(htmx, login, creator, quiz_lesson):
    true_false = quiz_lesson.quiz.questions[0]
    login(creator)
    resp = htmx.post(f"/studio/questions/{true_false.id}/options", data={"text": "Maybe"})
    assert_fragment(resp, "True/false questions have exactly two answers.", 422)
    resp = htmx.post(f"/studio/options/{true_false.options[1].id}/delete")
    assert_fragment(resp, "True/false questions keep both answers.", 422)
    assert questions(quiz_lesson.id)[0][2] == [("True", True), ("False", False)]


def test_quiz_endpoints_on_a_lesson_that_is_not_a_quiz_are_404(client, htmx, login, creator, course):
    lesson = lesson_of(course, "text")
    login(creator)
    for url, form in ((f"/studio/lessons/{lesson.id}/quiz/pass-mark", {"pass_mark_percent": "50"}),
                      (f"/studio/lessons/{lesson.id}/quiz/questions", {"prompt": "Q?", "kind": "single"})):
        assert client.post(url, data=form).status_code == 404
        resp = htmx.post(url, data=form)
        assert resp.status_code == 404 and "This lesson is not a quiz." in text(resp)


def test_missing_questions_and_options_are_404(client, login, creator):
    login(creator)
    for url in ("/studio/questions/999999", "/studio/questions/999999/delete", "/studio/questions/999999/options",
                "/studio/options/999999/correct", "/studio/options/999999/delete"):
        assert client.post(url, data={"prompt": "x", "text": "x"}).status_code == 404


def test_a_locked_course_keeps_its_lessons(client, htmx, login, creator):
    course = build_course(creator, status="under_review")
    text_lesson, quiz_lesson = lesson_of(course, "text"), lesson_of(course, "quiz")
    login(creator)
    page = client.get(f"/studio/lessons/{text_lesson.id}")
    assert_page(page)
    assert "its lessons are locked" in text(page) and "Save text" not in text(page)
    attempts = [
        htmx.post(f"/studio/lessons/{text_lesson.id}/settings", data={"title": "New"}),
        htmx.post(f"/studio/lessons/{text_lesson.id}/body", data={"body": "New"}),
        upload(htmx, lesson_of(course, "pdf").id, pdf("x", []), "x.pdf"),
        htmx.post(f"/studio/lessons/{quiz_lesson.id}/quiz/questions", data={"prompt": "New?"}),
        client.post(f"/studio/options/{quiz_lesson.quiz.questions[1].options[1].id}/correct", data={"correct": "1"}),
    ]
    assert [r.status_code for r in attempts] == [409] * len(attempts)
    saved = reload(Lesson, text_lesson.id)
    assert (saved.title, saved.body) == ("The first principle", "## Start small\n\nMake it *work* first.")
    assert len(reload(Lesson, quiz_lesson.id).quiz.questions) == 2


def test_adding_a_lesson_to_a_published_course_stays_live(client, login, creator, make_user, emitted):
    reviewer = make_user(permissions=("review_courses",))
    course = build_course(creator, status="published", reviewer=reviewer)
    login(creator)
    resp = client.post(f"/studio/sections/{course.sections[0].id}/lessons", data={"title": "Bonus", "kind": "text"})
    assert resp.status_code == 302
    saved = reload(Course, course.id)
    assert saved.status == "published" and saved.lessons[-1].title == "Bonus"
    assert "catalog.course.lesson_added" in [e.name for e in emitted]
