"""The creator studio over HTTP: each view as a whole page and as an htmx fragment, the
inline editor's fields, the curriculum, the workflow buttons, bad input, and another
creator's ids in the URL.

`build_course` (also used by the lesson-editor, review and media tests) makes a course
through the services, the way the studio would."""
from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa

from app.catalog import quizzes, structure
from app.catalog.models import Course, Lesson, Section
from app.catalog.samples import pdf, png, video
from app.extensions import db
from tests.support.catalog import category
from tests.support.pages import EVIL_MARKDOWN, HX, assert_fragment, assert_page, harmless, text, words
from tests.support.rows import reload
from tests.support.studio import asset_count, build_course, lesson_of, media_files
from tests.support.uploads import png as padded_png
from tests.support.uploads import post_oversized

# --- building courses ------------------------------------------------------------------


@pytest.fixture
def other_creator(make_user):
    return make_user(email="rival@example.test", display_name="Rita Rival")


@pytest.fixture
def reviewer(make_user):
    return make_user(email="reviewer@example.test", display_name="Rex Reviewer",
                     permissions=("review_courses",))


# --- course list -------------------------------------------------------------------------

def test_course_list_page_shows_my_courses_only(client, login, creator, other_creator, reviewer):
    build_course(creator, title="Mine and published", status="published", price=1999, reviewer=reviewer)
    build_course(creator, title="Mine in draft", complete=False)
    build_course(other_creator, title="Somebody else's", complete=False)
    login(creator)
    resp = client.get("/studio/")
    assert_page(resp)
    body = text(resp)
    assert "Mine and published" in body and "Mine in draft" in body
    assert "Somebody else's" not in body
    assert "Published" in body and "Draft" in body and "$19.99" in body and "Free" in body


def test_course_list_for_htmx_is_the_table_only(htmx, login, creator):
    build_course(creator, title="Only one", complete=False)
    login(creator)
    resp = htmx.get("/studio/")
    assert_fragment(resp, "course-table")
    assert "Only one" in text(resp)


def test_course_list_invites_a_first_course(client, login, creator):
    login(creator)
    resp = client.get("/studio/")
    assert_page(resp)
    assert "Create your first course" in text(resp)


# --- new course ----------------------------------------------------------------------------

def test_new_course_page_asks_for_the_terms_the_first_time(client, login, creator):
    login(creator)
    resp = client.get("/studio/courses/new")
    assert_page(resp)
    assert 'name="accept_terms"' in text(resp)


def test_new_course_form_for_htmx_is_the_form_only(htmx, login, creator):
    login(creator)
    assert_fragment(htmx.get("/studio/courses/new"), 'name="title"')


def test_creating_a_course_lands_in_the_editor(client, login, creator):
    login(creator)
    resp = client.post("/studio/courses/new", data={"title": "  Sourdough   basics ",
                                                     "category_id": str(category().id),
                                                     "accept_terms": "y"})
    assert resp.status_code == 302
    course = db.session.scalar(sa.select(Course).where(Course.creator_id == creator.id))
    assert resp.headers["Location"] == f"/studio/courses/{course.id}"
    assert course.title == "Sourdough basics" and course.status == "draft"
    assert reload(type(creator), creator.id).creator_terms_accepted_at is not None


def test_creating_a_course_over_htmx_redirects_the_whole_page(htmx, login, creator):
    login(creator)
    resp = htmx.post("/studio/courses/new", data={"title": "Boosted", "category_id": str(category().id),
                                                  "accept_terms": "y"})
    course = db.session.scalar(sa.select(Course).where(Course.creator_id == creator.id))
    assert course is not None
    assert resp.headers.get("HX-Redirect") == f"/studio/courses/{course.id}"
    assert b"<html" not in resp.data


def test_the_terms_are_required_on_the_first_course_and_the_title_is_kept(client, htmx, login, creator):
    login(creator)
    data = {"title": "My first course", "category_id": str(category().id)}
    resp = client.post("/studio/courses/new", data=data)
    assert_page(resp, 422)
    assert "Accept the creator terms" in text(resp)
    assert 'value="My first course"' in text(resp)
    fragment = htmx.post("/studio/courses/new", data=data)
    assert_fragment(fragment, "Accept the creator terms", 422)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Course)) == 0


def test_the_terms_are_not_asked_again(client, login, creator):
    build_course(creator, complete=False)
    login(creator)
    assert 'name="accept_terms"' not in text(client.get("/studio/courses/new"))
    resp = client.post("/studio/courses/new", data={"title": "Second", "category_id": str(category().id)})
    assert resp.status_code == 302


@pytest.mark.parametrize("title, message", [
    ("", "This field is required."),
    ("   ", "This field is required."),
    ("T" * 300, "Keep the title under 120 characters (it has 300)."),
    ("T" * 301, "Field cannot be longer than 300 characters."),
])
def test_a_bad_title_is_refused_and_kept(client, login, creator, title, message):
    login(creator)
    resp = client.post("/studio/courses/new", data={"title": title, "category_id": str(category().id),
                                                     "accept_terms": "y"})
    assert_page(resp, 422)
    assert message in text(resp)
    if title.strip():
        assert f'value="{title}"' in text(resp)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Course)) == 0


@pytest.mark.parametrize("category_id", ["", "999999", "abc", "9" * 30, "-1", "1" * 5000])
def test_a_bad_category_is_refused(client, login, creator, category_id):
    login(creator)
    resp = client.post("/studio/courses/new", data={"title": "Fine", "category_id": category_id,
                                                     "accept_terms": "y"})
    assert_page(resp, 422)
    assert 'value="Fine"' in text(resp)


# --- the editor ------------------------------------------------------------------------------

def test_editor_page_shows_every_field_the_checklist_and_the_curriculum(client, login, creator):
    course = build_course(creator)
    login(creator)
    resp = client.get(f"/studio/courses/{course.id}")
    assert_page(resp)
    body = text(resp)
    for field in ("title", "subtitle", "category_id", "level", "language", "description", "price"):
        assert f'id="field-{field}"' in body
    assert 'id="checklist"' in body and 'id="curriculum"' in body and 'id="cover_panel"' in body
    assert "Welcome video" in body and "Check yourself" in body
    assert 'id="field-title-input"' not in body  # every field shows its value, not its form


def test_editor_for_htmx_is_the_editor_block_only(htmx, login, creator):
    course = build_course(creator)
    login(creator)
    resp = htmx.get(f"/studio/courses/{course.id}")
    assert_fragment(resp, 'id="field-title"')
    assert 'id="curriculum"' in text(resp)


def test_the_editor_of_a_missing_course_is_404(client, htmx, login, creator):
    login(creator)
    assert client.get("/studio/courses/999999").status_code == 404
    assert htmx.get("/studio/courses/999999").status_code == 404


# --- inline fields -----------------------------------------------------------------------------

# field -> (a good value, what the display then shows, a bad value, the error, typed value visible)
FIELD_CASES = {
    "title": ("A better title", "A better title", "T" * 300,
              "Keep the title under 120 characters (it has 300).", True),
    "subtitle": ("Learn it by doing", "Learn it by doing", "S" * 201,
                 "Keep the subtitle under 200 characters.", True),
    "category_id": ("<second>", "<second name>", "999999", "Choose a category from the list.", False),
    "level": ("advanced", "Advanced", "expert", "Choose a level from the list.", False),
    "language": ("fr", "French", "klingon", "Choose a language from the list.", False),
    "description": ("A **bold** claim about testing.", "<strong>bold</strong>", "D" * 20_001,
                    "Keep the description under 20,000 characters.", True),
    "price": ("24.50", "$24.50", "-5", "The amount cannot be negative.", True),
}


def _good(field):
    good, shown, *_ = FIELD_CASES[field]
    if field == "category_id":
        return str(category(1).id), category(1).name
    return good, shown


@pytest.mark.parametrize("field", FIELD_CASES)
def test_field_edit_swaps_in_the_form(htmx, login, creator, field):
    course = build_course(creator, complete=False)
    login(creator)
    resp = htmx.get(f"/studio/courses/{course.id}/fields/{field}/edit")
    assert_fragment(resp, f'id="field-{field}"')
    assert f'id="field-{field}-input"' in text(resp) and 'name="value"' in text(resp)
    assert f'hx-post="/studio/courses/{course.id}/fields/{field}"' in text(resp)


@pytest.mark.parametrize("field", FIELD_CASES)
def test_field_edit_without_javascript_opens_the_form_in_the_editor(client, login, creator, field):
    course = build_course(creator, complete=False)
    login(creator)
    resp = client.get(f"/studio/courses/{course.id}/fields/{field}/edit")
    assert resp.status_code == 302
    assert resp.headers["Location"] == f"/studio/courses/{course.id}?edit={field}#field-{field}"
    page = client.get(f"/studio/courses/{course.id}?edit={field}")
    assert_page(page)
    assert f'id="field-{field}-input"' in text(page)
    others = [f for f in FIELD_CASES if f != field]
    assert not any(f'id="field-{other}-input"' in text(page) for other in others)


@pytest.mark.parametrize("field", FIELD_CASES)
def test_field_show_restores_the_value(client, htmx, login, creator, field):
    """Cancel (and Escape) fetch the value back; without htmx it is the editor page."""
    course = build_course(creator, complete=False)
    login(creator)
    resp = htmx.get(f"/studio/courses/{course.id}/fields/{field}")
    assert_fragment(resp, f'id="field-{field}"')
    assert f'id="field-{field}-input"' not in text(resp) and "Edit" in text(resp)
    plain = client.get(f"/studio/courses/{course.id}/fields/{field}")
    assert plain.status_code == 302
    assert plain.headers["Location"] == f"/studio/courses/{course.id}#field-{field}"


@pytest.mark.parametrize("field", FIELD_CASES)
def test_field_update_over_htmx_returns_the_new_value(htmx, login, creator, field):
    course = build_course(creator, complete=False)
    login(creator)
    value, shown = _good(field)
    resp = htmx.post(f"/studio/courses/{course.id}/fields/{field}", data={"value": value})
    assert_fragment(resp, f'id="field-{field}"')
    body = resp.get_data(as_text=True)
    assert shown in (body if field == "description" else text(resp))
    assert f'id="field-{field}-input"' not in body
    assert 'id="checklist"' in body and 'hx-swap-oob="true"' in body  # the checklist follows
    saved = reload(Course, course.id)
    expected = 2450 if field == "price" else int(value) if field == "category_id" else value
    assert getattr(saved, "price_minor" if field == "price" else field) == expected


@pytest.mark.parametrize("field", FIELD_CASES)
def test_field_update_without_javascript_redirects_to_the_editor(client, login, creator, field):
    course = build_course(creator, complete=False)
    login(creator)
    value, shown = _good(field)
    resp = client.post(f"/studio/courses/{course.id}/fields/{field}", data={"value": value})
    assert resp.status_code == 302
    assert resp.headers["Location"] == f"/studio/courses/{course.id}#field-{field}"
    page = client.get(resp.headers["Location"])
    assert shown in (page.get_data(as_text=True) if field == "description" else text(page))


@pytest.mark.parametrize("value", [str(2**31), "9" * 40, "-5"])
def test_a_category_id_no_column_can_hold_is_a_form_message(htmx, login, creator, value):
    course = build_course(creator, complete=False)
    login(creator)
    resp = htmx.post(f"/studio/courses/{course.id}/fields/category_id", data={"value": value})
    assert_fragment(resp, 'id="field-category_id-input"', 422)
    assert "Choose a category from the list." in text(resp)


@pytest.mark.parametrize("field", FIELD_CASES)
def test_a_bad_value_over_htmx_is_422_with_the_form_the_error_and_what_was_typed(htmx, login, creator, field):
    course = build_course(creator, complete=False)
    before = (course.title, course.subtitle, course.category_id, course.level, course.language,
              course.description, course.price_minor)
    login(creator)
    _, _, bad, message, typed_visible = FIELD_CASES[field]
    resp = htmx.post(f"/studio/courses/{course.id}/fields/{field}", data={"value": bad})
    assert_fragment(resp, f'id="field-{field}-input"', 422)
    assert message in text(resp)
    assert 'aria-invalid="true"' in text(resp)
    if typed_visible:
        assert bad in text(resp)
    saved = reload(Course, course.id)
    assert (saved.title, saved.subtitle, saved.category_id, saved.level, saved.language,
            saved.description, saved.price_minor) == before


@pytest.mark.parametrize("field", FIELD_CASES)
def test_a_bad_value_without_javascript_reopens_the_form_in_the_editor(client, login, creator, field):
    course = build_course(creator, complete=False)
    login(creator)
    _, _, bad, message, typed_visible = FIELD_CASES[field]
    resp = client.post(f"/studio/courses/{course.id}/fields/{field}", data={"value": bad})
    assert_page(resp, 422)
    assert message in text(resp)
    assert f'id="field-{field}-input"' in text(resp)
    if typed_visible:
        assert bad in text(resp)


def test_an_unknown_field_is_404(client, htmx, login, creator):
    course = build_course(creator, complete=False)
    login(creator)
    for url in (f"/studio/courses/{course.id}/fields/status", f"/studio/courses/{course.id}/fields/status/edit"):
        assert client.get(url).status_code == 404
        assert htmx.get(url).status_code == 404
    assert client.post(f"/studio/courses/{course.id}/fields/status", data={"value": "published"}).status_code == 404
    assert reload(Course, course.id).status == "draft"


@pytest.mark.parametrize("title, message", [
    ("", "Give the course a title."),
    ("   \t ", "Give the course a title."),
    ("T" * 300, "Keep the title under 120 characters (it has 300)."),
])
def test_bad_titles_in_the_editor(htmx, login, creator, title, message):
    course = build_course(creator, complete=False)
    login(creator)
    resp = htmx.post(f"/studio/courses/{course.id}/fields/title", data={"value": title})
    assert_fragment(resp, message, 422)
    assert reload(Course, course.id).title == "Practical Testing"


@pytest.mark.parametrize("price, message", [
    ("-5", "The amount cannot be negative."),
    ("-0.01", "The amount cannot be negative."),
    ("ten dollars", "Enter an amount as a number"),
    ("", "Enter an amount"),
    ("NaN", "Enter an amount as a number"),
    ("Infinity", "Enter an amount as a number"),
    ("1e30", "Enter an amount as a number"),
    ("1e999999999", "Enter an amount as a number"),
    ("9" * 60, "That amount is too large."),
    ("100000001", "That amount is too large."),
    ("99999999", "The highest price is 999.99."),
    ("1000", "The highest price is 999.99."),
    ("1.50", "Paid courses cost at least 1.99"),
    ("0.01", "Paid courses cost at least 1.99"),
    ("19.999", "whole cents"),
])
def test_bad_prices_are_refused_with_a_clear_message(htmx, login, creator, price, message):
    course = build_course(creator, complete=False, price=1500)
    login(creator)
    resp = htmx.post(f"/studio/courses/{course.id}/fields/price", data={"value": price})
    assert_fragment(resp, 'id="field-price-input"', 422)
    assert message in text(resp)
    assert reload(Course, course.id).price_minor == 1500


@pytest.mark.parametrize("price, minor, shown", [("0", 0, "Free"), ("1.99", 199, "$1.99"),
                                                 ("$1,000", None, None), ("999.99", 99999, "$999.99")])
def test_prices_at_the_edges(htmx, login, creator, price, minor, shown):
    course = build_course(creator, complete=False, price=1500)
    login(creator)
    resp = htmx.post(f"/studio/courses/{course.id}/fields/price", data={"value": price})
    if minor is None:
        assert resp.status_code == 422
        assert reload(Course, course.id).price_minor == 1500
    else:
        assert_fragment(resp, shown)
        assert reload(Course, course.id).price_minor == minor


def test_the_price_form_shows_what_the_creator_receives(htmx, login, creator):
    course = build_course(creator, complete=False, price=2000)
    login(creator)
    resp = htmx.get(f"/studio/courses/{course.id}/fields/price/edit")
    assert "you receive $17.00 after the platform's 15% commission ($3.00)" in words(resp)


# --- price split and markdown preview ------------------------------------------------------

def test_price_split_for_htmx_says_what_the_creator_receives(htmx, login, creator):
    course = build_course(creator, complete=False)
    login(creator)
    resp = htmx.get(f"/studio/courses/{course.id}/price/split?value=19.99")
    assert_fragment(resp, 'id="price-split"')
    assert "Learners pay $19.99 ; you receive $16.99 after the platform's 15% commission ($3.00)." \
        in words(resp)


def test_price_split_without_javascript_is_a_page(client, login, creator):
    course = build_course(creator, complete=False)
    login(creator)
    resp = client.get(f"/studio/courses/{course.id}/price/split?value=10")
    assert_page(resp)
    assert "you receive $8.50" in words(resp)


@pytest.mark.parametrize("value, message", [("-3", "cannot be negative"), ("abc", "as a number"),
                                            ("9" * 60, "too large"), ("", "Enter an amount")])
def test_price_split_explains_a_bad_value(htmx, login, creator, value, message):
    course = build_course(creator, complete=False)
    login(creator)
    resp = htmx.get(f"/studio/courses/{course.id}/price/split", query_string={"value": value})
    assert_fragment(resp, message)


def test_price_split_of_a_free_price(htmx, login, creator):
    course = build_course(creator, complete=False)
    login(creator)
    assert "Free course" in text(htmx.get(f"/studio/courses/{course.id}/price/split?value=0"))


def test_markdown_preview_for_htmx_renders_and_strips_scripts(htmx, login, creator):
    login(creator)
    resp = htmx.post("/studio/markdown/preview", data={"value": EVIL_MARKDOWN})
    assert_fragment(resp, "markdown-preview")
    body = resp.get_data(as_text=True)
    assert "<strong>still bold</strong>" in body
    assert "<script" not in body.lower()
    harmless(body)


def test_markdown_preview_without_javascript_is_a_page(client, login, creator):
    login(creator)
    resp = client.post("/studio/markdown/preview", data={"body": EVIL_MARKDOWN})
    assert_page(resp)
    body = resp.get_data(as_text=True)
    assert "<strong>still bold</strong>" in body
    harmless(body)


def test_the_description_is_harmless_in_the_editor_and_its_form(client, htmx, login, creator):
    course = build_course(creator, complete=False)
    login(creator)
    resp = htmx.post(f"/studio/courses/{course.id}/fields/description", data={"value": EVIL_MARKDOWN})
    assert resp.status_code == 200
    harmless(resp.get_data(as_text=True))
    for url in (f"/studio/courses/{course.id}", f"/studio/courses/{course.id}?edit=description"):
        page = client.get(url)
        assert_page(page)
        assert "<strong>still bold</strong>" in page.get_data(as_text=True)
        harmless(page.get_data(as_text=True))


# --- cover -------------------------------------------------------------------------------------

def test_cover_upload_over_htmx_shows_the_new_cover(htmx, login, creator, app):
    course = build_course(creator, complete=False)
    login(creator)
    resp = htmx.post(f"/studio/courses/{course.id}/cover",
                     data={"cover": (io.BytesIO(png(32, 18)), "my cover.png")},
                     content_type="multipart/form-data")
    assert_fragment(resp, 'class="cover-thumb"')
    saved = reload(Course, course.id)
    assert saved.cover is not None and saved.cover.content_type == "image/png"
    assert saved.cover.original_name == "my cover.png"
    assert saved.cover.storage_key in media_files(app)
    assert f"/courses/covers/{saved.cover.storage_key}" in text(resp)
    assert "The course has a cover image" in text(resp)  # the checklist, out of band


def test_cover_upload_without_javascript_redirects_to_the_editor(client, login, creator):
    course = build_course(creator, complete=False)
    login(creator)
    resp = client.post(f"/studio/courses/{course.id}/cover",
                       data={"cover": (io.BytesIO(png()), "c.png")}, content_type="multipart/form-data")
    assert resp.status_code == 302
    assert resp.headers["Location"] == f"/studio/courses/{course.id}#cover"
    assert reload(Course, course.id).cover is not None


@pytest.mark.parametrize("payload, name", [
    (b"just some words, not a picture", "cover.png"),
    (pdf("Not a picture", []), "cover.png"),
    (b"MZ\x90\x00" + b"\x00" * 200, "cover.jpg"),
    (b"", "empty.png"),
])
def test_a_cover_that_is_not_an_image_is_refused_and_nothing_is_saved(client, htmx, login, creator, app,
                                                                      payload, name):
    course = build_course(creator, complete=False)
    login(creator)
    files, assets = media_files(app), asset_count()
    resp = htmx.post(f"/studio/courses/{course.id}/cover", data={"cover": (io.BytesIO(payload), name)},
                     content_type="multipart/form-data")
    assert_fragment(resp, 'id="cover-error"', 422)
    assert ("must be one of: gif, jpg, png, webp" in text(resp)) or ("is empty" in text(resp))
    page = client.post(f"/studio/courses/{course.id}/cover", data={"cover": (io.BytesIO(payload), name)},
                       content_type="multipart/form-data")
    assert_page(page, 422)
    assert 'id="cover-error"' in text(page)
    assert reload(Course, course.id).cover is None
    assert media_files(app) == files and asset_count() == assets


def test_a_cover_upload_without_a_file_is_422(htmx, login, creator):
    course = build_course(creator, complete=False)
    login(creator)
    resp = htmx.post(f"/studio/courses/{course.id}/cover", data={}, content_type="multipart/form-data")
    assert_fragment(resp, "Choose an image file.", 422)


@pytest.fixture
def small_limits(app):
    saved = {key: app.config[key] for key in ("COVER_MAX_BYTES", "PDF_MAX_BYTES", "VIDEO_MAX_BYTES")}
    app.config.update(COVER_MAX_BYTES=100_000, PDF_MAX_BYTES=100_000, VIDEO_MAX_BYTES=100_000)
    yield
    app.config.update(saved)


@pytest.mark.parametrize("headers", [{}, HX])
def test_an_oversized_cover_is_refused_with_413_before_it_is_read(client, login, creator, app,
                                                                  small_limits, headers):
    course = build_course(creator, complete=False)
    login(creator)
    files, assets = media_files(app), asset_count()
    resp, stream = post_oversized(client, f"/studio/courses/{course.id}/cover", "cover", "big.png",
                                  padded_png(padding=400_000), headers)
    assert resp.status_code == 413
    assert "too large" in text(resp)
    assert stream.consumed == 0  # refused from its Content-Length, not after receiving it
    assert reload(Course, course.id).cover is None
    assert media_files(app) == files and asset_count() == assets


def test_a_cover_just_over_the_limit_is_refused_while_it_streams(htmx, login, creator, app, small_limits):
    """Inside the multipart slack the Content-Length passes; the storage's own cap stops it."""
    course = build_course(creator, complete=False)
    login(creator)
    files, assets = media_files(app), asset_count()
    resp = htmx.post(f"/studio/courses/{course.id}/cover",
                     data={"cover": (io.BytesIO(padded_png(padding=100_500)), "big.png")},
                     content_type="multipart/form-data")
    assert resp.status_code == 413
    assert "larger than" in text(resp)
    assert reload(Course, course.id).cover is None
    assert media_files(app) == files and asset_count() == assets


# --- curriculum --------------------------------------------------------------------------------

def section_titles(course_id):
    return [s.title for s in reload(Course, course_id).sections]


def lesson_titles(course_id):
    return [[lesson.title for lesson in s.lessons] for s in reload(Course, course_id).sections]


def test_adding_a_section_over_htmx_returns_the_curriculum(htmx, login, creator):
    course = build_course(creator)
    login(creator)
    resp = htmx.post(f"/studio/courses/{course.id}/sections", data={"title": "  Going   further "})
    assert_fragment(resp, 'id="section-new-title"')
    assert "Section 2: Going further" in text(resp)
    assert section_titles(course.id) == ["Basics", "Going further"]


def test_adding_a_section_without_javascript_redirects_to_it(client, login, creator):
    course = build_course(creator)
    login(creator)
    resp = client.post(f"/studio/courses/{course.id}/sections", data={"title": "Extra"})
    section = reload(Course, course.id).sections[-1]
    assert resp.status_code == 302
    assert resp.headers["Location"] == f"/studio/courses/{course.id}#section-{section.id}"


@pytest.mark.parametrize("title, message", [("", "Give the section a title."),
                                            ("S" * 300, "Keep the section title under 120 characters.")])
def test_a_bad_section_title_is_422_and_kept(client, htmx, login, creator, title, message):
    course = build_course(creator)
    login(creator)
    resp = htmx.post(f"/studio/courses/{course.id}/sections", data={"title": title})
    assert_fragment(resp, message, 422)
    assert f'value="{title}"' in text(resp)
    page = client.post(f"/studio/courses/{course.id}/sections", data={"title": title})
    assert_page(page, 422)
    assert message in text(page) and f'value="{title}"' in text(page)
    assert section_titles(course.id) == ["Basics"]


def test_renaming_a_section(client, htmx, login, creator):
    course = build_course(creator)
    section = course.sections[0]
    login(creator)
    resp = htmx.post(f"/studio/sections/{section.id}/rename", data={"title": "Foundations"})
    assert_fragment(resp, "Section 1: Foundations")
    plain = client.post(f"/studio/sections/{section.id}/rename", data={"title": "Roots"})
    assert plain.status_code == 302 and plain.headers["Location"].endswith(f"#section-{section.id}")
    assert section_titles(course.id) == ["Roots"]


def test_a_bad_section_rename_is_422_and_keeps_the_typed_title(htmx, login, creator):
    course = build_course(creator)
    section = course.sections[0]
    login(creator)
    resp = htmx.post(f"/studio/sections/{section.id}/rename", data={"title": "R" * 300})
    assert_fragment(resp, "Keep the section title under 120 characters.", 422)
    assert f'value="{"R" * 300}"' in text(resp)
    assert section_titles(course.id) == ["Basics"]


def test_moving_sections_up_and_down(client, htmx, login, creator):
    course = build_course(creator)
    second = structure.add_section(creator, course, title="Second")
    db.session.commit()
    login(creator)
    resp = htmx.post(f"/studio/sections/{second.id}/move", data={"direction": "up"})
    assert_fragment(resp, "Section 1: Second")
    assert section_titles(course.id) == ["Second", "Basics"]
    plain = client.post(f"/studio/sections/{second.id}/move", data={"direction": "down"})
    assert plain.status_code == 302
    assert section_titles(course.id) == ["Basics", "Second"]
    # Past the end nothing moves, and a nonsense direction is a clear 422.
    assert client.post(f"/studio/sections/{second.id}/move", data={"direction": "down"}).status_code == 302
    assert section_titles(course.id) == ["Basics", "Second"]
    assert htmx.post(f"/studio/sections/{second.id}/move", data={"direction": "sideways"}).status_code == 422
    assert [s.position for s in reload(Course, course.id).sections] == [0, 1]


def test_deleting_a_section(client, htmx, login, creator):
    course = build_course(creator)
    extra = structure.add_section(creator, course, title="Extra")
    other = structure.add_section(creator, course, title="Other")
    db.session.commit()
    login(creator)
    extra_id, other_id = extra.id, other.id
    resp = htmx.post(f"/studio/sections/{extra_id}/delete")
    assert_fragment(resp, 'id="section-new-title"')
    assert "Extra" not in text(resp)
    assert client.post(f"/studio/sections/{other_id}/delete").status_code == 302
    assert section_titles(course.id) == ["Basics"]
    assert reload(Section, extra_id) is None


def test_adding_lessons_of_every_kind(client, htmx, login, creator):
    course = build_course(creator, complete=False)
    section = structure.add_section(creator, course, title="Only")
    db.session.commit()
    login(creator)
    for kind in ("video", "pdf", "text", "quiz"):
        resp = htmx.post(f"/studio/sections/{section.id}/lessons", data={"title": f"A {kind} lesson", "kind": kind})
        assert_fragment(resp, f"A {kind} lesson")
    plain = client.post(f"/studio/sections/{section.id}/lessons", data={"title": "Plain", "kind": "text"})
    lessons = reload(Course, course.id).lessons
    assert plain.status_code == 302
    assert plain.headers["Location"] == f"/studio/courses/{course.id}#lesson-{lessons[-1].id}"
    assert [(lesson.title, lesson.kind) for lesson in lessons] == [
        ("A video lesson", "video"), ("A pdf lesson", "pdf"), ("A text lesson", "text"),
        ("A quiz lesson", "quiz"), ("Plain", "text")]
    assert lessons[3].quiz is not None


@pytest.mark.parametrize("title, kind, message", [
    ("", "text", "Give the lesson a title."),
    ("L" * 300, "text", "Keep the lesson title under 120 characters."),
    ("Fine", "slideshow", "Choose a lesson type"),
    ("Fine", "", "Choose a lesson type"),
])
def test_a_bad_lesson_is_422_and_keeps_the_typed_title(client, htmx, login, creator, title, kind, message):
    course = build_course(creator)
    section = course.sections[0]
    login(creator)
    resp = htmx.post(f"/studio/sections/{section.id}/lessons", data={"title": title, "kind": kind})
    assert_fragment(resp, message, 422)
    assert f'id="lesson-new-title-{section.id}" name="title" value="{title}"' in text(resp)
    page = client.post(f"/studio/sections/{section.id}/lessons", data={"title": title, "kind": kind})
    assert_page(page, 422)
    assert message in text(page)
    assert len(reload(Course, course.id).lessons) == 4


def test_moving_lessons_within_and_across_sections(client, htmx, login, creator):
    course = build_course(creator)
    second = structure.add_section(creator, course, title="Second")
    db.session.commit()
    reading = lesson_of(course, "text")
    quiz = lesson_of(course, "quiz")
    login(creator)
    resp = htmx.post(f"/studio/lessons/{quiz.id}/move", data={"direction": "up"})
    assert_fragment(resp, f'id="lesson-{quiz.id}"')
    assert lesson_titles(course.id) == [["Welcome video", "Course notes", "Check yourself",
                                         "The first principle"], []]
    # The last lesson of a section moves down into the next one.
    assert client.post(f"/studio/lessons/{reading.id}/move", data={"direction": "down"}).status_code == 302
    assert lesson_titles(course.id) == [["Welcome video", "Course notes", "Check yourself"],
                                        ["The first principle"]]
    assert reload(Lesson, reading.id).section_id == second.id
    # ...and back up.
    assert client.post(f"/studio/lessons/{reading.id}/move", data={"direction": "up"}).status_code == 302
    assert lesson_titles(course.id) == [["Welcome video", "Course notes", "Check yourself",
                                         "The first principle"], []]
    positions = [[lesson.position for lesson in s.lessons] for s in reload(Course, course.id).sections]
    assert positions == [[0, 1, 2, 3], []]
    assert htmx.post(f"/studio/lessons/{reading.id}/move", data={"direction": ""}).status_code == 422


def test_deleting_a_lesson(client, htmx, login, creator):
    course = build_course(creator)
    pdf_lesson, text_lesson = lesson_of(course, "pdf"), lesson_of(course, "text")
    login(creator)
    resp = htmx.post(f"/studio/lessons/{pdf_lesson.id}/delete")
    assert_fragment(resp, 'id="section-new-title"')
    assert "Course notes" not in text(resp)
    assert client.post(f"/studio/lessons/{text_lesson.id}/delete").status_code == 302
    assert lesson_titles(course.id) == [["Welcome video", "Check yourself"]]
    assert [lesson.position for lesson in reload(Course, course.id).lessons] == [0, 1]


def test_missing_sections_and_lessons_are_404(client, htmx, login, creator):
    login(creator)
    for url in ("/studio/sections/999999/rename", "/studio/sections/999999/delete",
                "/studio/sections/999999/lessons", "/studio/lessons/999999/move",
                "/studio/lessons/999999/delete"):
        assert client.post(url, data={"title": "x", "direction": "up"}).status_code == 404
        assert htmx.post(url, data={"title": "x", "direction": "up"}).status_code == 404


# --- workflow: submit, withdraw, unpublish, delete ---------------------------------------------

def test_submitting_a_ready_course_puts_it_under_review(client, login, creator, emitted):
    course = build_course(creator)
    login(creator)
    resp = client.post(f"/studio/courses/{course.id}/submit")
    assert resp.status_code == 302 and resp.headers["Location"] == f"/studio/courses/{course.id}"
    saved = reload(Course, course.id)
    assert saved.status == "under_review" and saved.submitted_at is not None
    assert "catalog.course.submitted" in [e.name for e in emitted]
    page = client.get(resp.headers["Location"])
    assert "Withdraw from review" in text(page) and "it is locked" in text(page)
    assert 'id="field-title-input"' not in text(page) and "Edit<span" not in page.get_data(as_text=True)


def test_submitting_over_htmx_redirects_the_whole_page(htmx, login, creator):
    course = build_course(creator)
    login(creator)
    resp = htmx.post(f"/studio/courses/{course.id}/submit")
    assert resp.headers.get("HX-Redirect") == f"/studio/courses/{course.id}"
    assert reload(Course, course.id).status == "under_review"


def test_a_course_that_fails_the_checklist_lists_what_to_fix(client, htmx, login, creator):
    course = build_course(creator, complete=False)
    section = structure.add_section(creator, course, title="Only")
    empty = structure.add_lesson(creator, section, title="Empty video", kind="video")
    db.session.commit()
    login(creator)
    resp = client.post(f"/studio/courses/{course.id}/submit")
    assert_page(resp, 422)
    body = text(resp)
    assert "not ready for review" in body
    assert re.search(r'<a href="#field-description">The description has at least 200 characters \(now 0\)</a>', body)
    assert '<a href="#cover">The course has a cover image</a>' in body
    assert '<a href="#curriculum">The course has at least 3 lessons (now 1)</a>' in body
    assert f'<a href="/studio/lessons/{empty.id}">Lesson “Empty video” has no content yet</a>' in body
    assert "The course has a title" in body and "The course has a category" in body  # passing items
    assert reload(Course, course.id).status == "draft"
    fragment = htmx.post(f"/studio/courses/{course.id}/submit")
    assert_fragment(fragment, 'id="checklist"', 422)
    assert "not ready for review" in text(fragment)


def test_a_quiz_without_a_correct_answer_blocks_the_submission(client, login, creator):
    course = build_course(creator)
    quiz = lesson_of(course, "quiz").quiz
    quizzes.add_question(creator, quiz, prompt="Unanswerable?", kind="single")
    quizzes.add_option(creator, quiz.questions[-1], text="a")
    quizzes.add_option(creator, quiz.questions[-1], text="b")
    db.session.commit()
    login(creator)
    resp = client.post(f"/studio/courses/{course.id}/submit")
    assert resp.status_code == 422
    assert "A question in quiz “Check yourself” has no correct answer" in text(resp)


def test_submitting_an_already_submitted_course_is_409(client, htmx, login, creator):
    course = build_course(creator, status="under_review")
    login(creator)
    resp = client.post(f"/studio/courses/{course.id}/submit")
    assert_page(resp, 409)
    assert "Only a draft or an unpublished course can be submitted" in text(resp)
    assert htmx.post(f"/studio/courses/{course.id}/submit").status_code == 409
    assert reload(Course, course.id).status == "under_review"


def test_a_course_under_review_is_locked(client, htmx, login, creator):
    course = build_course(creator, status="under_review")
    section, lesson = course.sections[0], lesson_of(course, "text")
    login(creator)
    attempts = [
        htmx.get(f"/studio/courses/{course.id}/fields/title/edit"),
        htmx.post(f"/studio/courses/{course.id}/fields/title", data={"value": "Changed"}),
        client.post(f"/studio/courses/{course.id}/fields/price", data={"value": "5"}),
        client.post(f"/studio/courses/{course.id}/cover", data={"cover": (io.BytesIO(png()), "c.png")},
                    content_type="multipart/form-data"),
        htmx.post(f"/studio/courses/{course.id}/sections", data={"title": "New"}),
        htmx.post(f"/studio/sections/{section.id}/rename", data={"title": "New"}),
        htmx.post(f"/studio/sections/{section.id}/lessons", data={"title": "New", "kind": "text"}),
        htmx.post(f"/studio/lessons/{lesson.id}/delete"),
        client.post(f"/studio/courses/{course.id}/delete"),
    ]
    assert [r.status_code for r in attempts] == [409] * len(attempts)
    assert "under review" in text(attempts[1])
    saved = reload(Course, course.id)
    assert saved.title == "Practical Testing" and len(saved.lessons) == 4 and len(saved.sections) == 1


def test_withdrawing_a_submission(client, htmx, login, creator):
    course = build_course(creator, status="under_review")
    login(creator)
    resp = client.post(f"/studio/courses/{course.id}/withdraw")
    assert resp.status_code == 302 and resp.headers["Location"] == f"/studio/courses/{course.id}"
    assert reload(Course, course.id).status == "draft"
    again = htmx.post(f"/studio/courses/{course.id}/withdraw")
    assert again.status_code == 409 and b"<html" not in again.data
    assert "not waiting for review" in text(again)


def test_withdrawing_over_htmx_redirects_the_whole_page(htmx, login, creator):
    course = build_course(creator, status="under_review")
    login(creator)
    resp = htmx.post(f"/studio/courses/{course.id}/withdraw")
    assert resp.headers.get("HX-Redirect") == f"/studio/courses/{course.id}"
    assert reload(Course, course.id).status == "draft"


def test_unpublishing_my_course(client, htmx, login, creator, reviewer, emitted):
    course = build_course(creator, status="published", reviewer=reviewer)
    login(creator)
    page = client.get(f"/studio/courses/{course.id}")
    assert "live in the catalog since" in text(page) and ">Unpublish</button>" in text(page)
    resp = client.post(f"/studio/courses/{course.id}/unpublish")
    assert resp.status_code == 302
    saved = reload(Course, course.id)
    assert saved.status == "unpublished" and saved.unpublished_at is not None
    assert "catalog.course.unpublished" in [e.name for e in emitted]
    assert htmx.post(f"/studio/courses/{course.id}/unpublish").status_code == 409
    # Republishing goes through review again.
    assert client.post(f"/studio/courses/{course.id}/submit").status_code == 302
    assert reload(Course, course.id).status == "under_review"


def test_unpublishing_over_htmx_redirects_the_whole_page(htmx, login, creator, reviewer):
    course = build_course(creator, status="published", reviewer=reviewer)
    login(creator)
    resp = htmx.post(f"/studio/courses/{course.id}/unpublish")
    assert resp.headers.get("HX-Redirect") == f"/studio/courses/{course.id}"
    assert reload(Course, course.id).status == "unpublished"


def test_deleting_a_draft(client, login, creator, app):
    course = build_course(creator)
    login(creator)
    resp = client.post(f"/studio/courses/{course.id}/delete")
    assert resp.status_code == 302 and resp.headers["Location"] == "/studio/"
    assert reload(Course, course.id) is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Lesson)) == 0


def test_deleting_over_htmx_redirects_the_whole_page(htmx, login, creator):
    course = build_course(creator, complete=False)
    login(creator)
    resp = htmx.post(f"/studio/courses/{course.id}/delete")
    assert resp.headers.get("HX-Redirect") == "/studio/"
    assert reload(Course, course.id) is None


def test_a_course_that_was_published_cannot_be_deleted(client, htmx, login, creator, reviewer):
    course = build_course(creator, status="unpublished", reviewer=reviewer)
    login(creator)
    resp = client.post(f"/studio/courses/{course.id}/delete")
    assert_page(resp, 409)
    assert "unpublish it instead" in text(resp)
    assert htmx.post(f"/studio/courses/{course.id}/delete").status_code == 409
    assert reload(Course, course.id) is not None


# --- nobody else's course, and nobody anonymous ---------------------------------------------------

def snapshot(course_id: int):
    course = reload(Course, course_id)
    if course is None:
        return None
    lessons = []
    for section in course.sections:
        for lesson in section.lessons:
            quiz = None
            if lesson.quiz is not None:
                quiz = (lesson.quiz.pass_mark_percent,
                        [(q.id, q.prompt, q.explanation, q.position,
                          [(o.id, o.text, o.is_correct, o.position) for o in q.options])
                         for q in lesson.quiz.questions])
            lessons.append((section.id, section.title, section.position, lesson.id, lesson.title,
                            lesson.position, lesson.body, lesson.media_asset_id,
                            lesson.is_free_preview, lesson.duration_seconds, quiz))
    return (course.title, course.subtitle, course.description, course.category_id, course.level,
            course.language, course.price_minor, course.status, course.cover_asset_id,
            course.updated_at, [s.id for s in course.sections], lessons, asset_count())


def studio_posts(course: Course) -> dict[str, tuple[str, callable]]:
    """Every studio POST that acts on an existing course, aimed at `course`, with a
    plausible form (a callable, because a file can be sent only once)."""
    section = course.sections[0]
    video_lesson, text_lesson, quiz_lesson = (lesson_of(course, k) for k in ("video", "text", "quiz"))
    single = next(q for q in quiz_lesson.quiz.questions if q.kind == "single")
    option = single.options[1]
    c, s, q = course.id, section.id, single.id
    return {
        "studio.field_update": (f"/studio/courses/{c}/fields/title", lambda: {"value": "Hijacked"}),
        "studio.cover_upload": (f"/studio/courses/{c}/cover",
                                lambda: {"cover": (io.BytesIO(png()), "c.png")}),
        "studio.course_submit": (f"/studio/courses/{c}/submit", dict),
        "studio.course_withdraw": (f"/studio/courses/{c}/withdraw", dict),
        "studio.course_unpublish": (f"/studio/courses/{c}/unpublish", dict),
        "studio.course_delete": (f"/studio/courses/{c}/delete", dict),
        "studio.section_add": (f"/studio/courses/{c}/sections", lambda: {"title": "Hijacked"}),
        "studio.section_rename": (f"/studio/sections/{s}/rename", lambda: {"title": "Hijacked"}),
        "studio.section_move": (f"/studio/sections/{s}/move", lambda: {"direction": "down"}),
        "studio.section_delete": (f"/studio/sections/{s}/delete", dict),
        "studio.lesson_add": (f"/studio/sections/{s}/lessons", lambda: {"title": "Hijacked", "kind": "text"}),
        "studio.lesson_move": (f"/studio/lessons/{text_lesson.id}/move", lambda: {"direction": "up"}),
        "studio.lesson_delete": (f"/studio/lessons/{text_lesson.id}/delete", dict),
        "studio.lesson_settings": (f"/studio/lessons/{video_lesson.id}/settings",
                                   lambda: {"title": "Hijacked", "duration_minutes": "9"}),
        "studio.lesson_body": (f"/studio/lessons/{text_lesson.id}/body", lambda: {"body": "Hijacked"}),
        "studio.lesson_media": (f"/studio/lessons/{video_lesson.id}/media",
                                lambda: {"file": (io.BytesIO(video()), "v.webm")}),
        "studio.quiz_pass_mark": (f"/studio/lessons/{quiz_lesson.id}/quiz/pass-mark",
                                  lambda: {"pass_mark_percent": "10"}),
        "studio.question_add": (f"/studio/lessons/{quiz_lesson.id}/quiz/questions",
                                lambda: {"prompt": "Hijacked", "kind": "single"}),
        "studio.question_update": (f"/studio/questions/{q}", lambda: {"prompt": "Hijacked"}),
        "studio.question_delete": (f"/studio/questions/{q}/delete", dict),
        "studio.option_add": (f"/studio/questions/{q}/options", lambda: {"text": "Hijacked", "is_correct": "on"}),
        "studio.option_correct": (f"/studio/options/{option.id}/correct", lambda: {"correct": "1"}),
        "studio.option_delete": (f"/studio/options/{option.id}/delete", dict),
    }


def studio_gets(course: Course) -> list[str]:
    lesson = lesson_of(course, "quiz")
    return [f"/studio/courses/{course.id}", f"/studio/courses/{course.id}?edit=title",
            f"/studio/courses/{course.id}/fields/title", f"/studio/courses/{course.id}/fields/title/edit",
            f"/studio/courses/{course.id}/price/split?value=10", f"/studio/lessons/{lesson.id}"]


def test_the_list_of_studio_posts_is_complete(app, creator):
    """The forbidden-path tests below cover every POST route of the course studio (the view
    modules of app/blueprints/studio/; earnings and payouts live in a module of their own)."""
    course = build_course(creator)
    routes = {rule.endpoint for rule in app.url_map.iter_rules()
              if rule.endpoint.startswith("studio.") and "POST" in rule.methods
              and app.view_functions[rule.endpoint].__module__ != "app.blueprints.studio.earnings"}
    assert routes - {"studio.course_new", "studio.markdown_preview"} == set(studio_posts(course))


@pytest.mark.parametrize("status", ["draft", "published"])
@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
def test_another_creator_can_change_nothing_by_url_or_htmx(client, login, creator, other_creator,
                                                          reviewer, status, headers):
    course = build_course(creator, status=status, reviewer=reviewer, price=1999)
    build_course(other_creator, title="Rival's own", complete=False)
    before = snapshot(course.id)
    login(other_creator)
    for endpoint, (url, form) in studio_posts(course).items():
        resp = client.post(url, data=form(), headers=headers, content_type="multipart/form-data")
        assert resp.status_code == 403, (endpoint, resp.status_code)
        assert "not allowed" in text(resp), endpoint
        assert (b"<html" in resp.data) == (not headers), endpoint
        assert snapshot(course.id) == before, endpoint
    for url in studio_gets(course):
        resp = client.get(url, headers=headers)
        assert resp.status_code == 403, url
        assert "Hijacked" not in text(resp) and "Practical Testing" not in text(resp)


def test_even_an_admin_cannot_edit_a_creators_course(client, login, creator, admin):
    course = build_course(creator)
    before = snapshot(course.id)
    login(admin)
    for endpoint, (url, form) in studio_posts(course).items():
        resp = client.post(url, data=form(), content_type="multipart/form-data")
        assert resp.status_code == 403, endpoint
    assert snapshot(course.id) == before


@pytest.mark.parametrize("path", ["/studio/", "/studio/courses/new"])
def test_anonymous_visitors_are_sent_to_log_in(client, path):
    resp = client.get(path)
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith("/auth/login?next=")


def test_anonymous_htmx_requests_get_401_with_hx_redirect(client, creator):
    course = build_course(creator)
    resp = client.get(f"/studio/courses/{course.id}/fields/title/edit",
                      headers={**HX, "HX-Current-URL": f"http://localhost/studio/courses/{course.id}"})
    assert resp.status_code == 401
    assert resp.headers["HX-Redirect"].startswith("/auth/login?next=")
    assert f"/studio/courses/{course.id}" in resp.headers["HX-Redirect"].replace("%2F", "/")


def test_anonymous_posts_change_nothing(client, creator):
    course = build_course(creator)
    before = snapshot(course.id)
    for endpoint, (url, form) in studio_posts(course).items():
        plain = client.post(url, data=form(), content_type="multipart/form-data")
        assert plain.status_code == 302 and plain.headers["Location"].startswith("/auth/login"), endpoint
        fragment = client.post(url, data=form(), headers=HX, content_type="multipart/form-data")
        assert fragment.status_code == 401 and fragment.headers["HX-Redirect"].startswith("/auth/login")
    for url in studio_gets(course):
        assert client.get(url).status_code == 302
    assert snapshot(course.id) == before
