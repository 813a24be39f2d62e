"""Course media: uploads typed by content and capped per kind, access through one rule
(app/catalog/media.py)."""
from __future__ import annotations

import hashlib
import io

import pytest
import sqlalchemy as sa

from app.catalog import structure
from app.catalog.courses import set_cover
from app.catalog.media import access_lesson_media, store_asset
from app.catalog.models import MediaAsset
from app.catalog.samples import pdf, png, video
from app.errors import Invalid, NotAllowed, NotFound
from app.storage import TooLarge, get_storage

EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 500
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 500


def asset_count(db) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(MediaAsset))


def stored_files(app) -> set[str]:
    root = get_storage().root
    return {p.name for p in root.iterdir()} if root.exists() else set()


@pytest.fixture
def small_pdf_limit(app):
    """PDFs capped at 1 KB for the test (restored afterwards)."""
    before = app.config["PDF_MAX_BYTES"]
    app.config["PDF_MAX_BYTES"] = 1024
    yield 1024
    app.config["PDF_MAX_BYTES"] = before


# --- store_asset -----------------------------------------------------------------------------

@pytest.mark.parametrize("kind, data, content_type, extension", [
    ("video", video(), "video/webm", ".webm"),
    ("video", MP4, "video/mp4", ".mp4"),
    ("pdf", pdf("Notes", ["a line"]), "application/pdf", ".pdf"),
    ("image", png(8, 8), "image/png", ".png"),
])
def test_an_upload_is_typed_by_its_content_and_stored_under_a_random_name(
        app, db, creator, kind, data, content_type, extension):
    asset = store_asset(creator, io.BytesIO(data), kind=kind, filename="my file.bin")
    db.session.commit()
    assert (asset.kind, asset.content_type, asset.size) == (kind, content_type, len(data))
    assert asset.sha256 == hashlib.sha256(data).hexdigest()
    assert asset.owner_id == creator.id and asset.original_name == "my file.bin"
    assert asset.storage_key.endswith(extension) and "my file" not in asset.storage_key
    assert get_storage().read(asset.storage_key) == data


def test_two_uploads_of_the_same_file_get_different_names(db, creator):
    first = store_asset(creator, io.BytesIO(video()), kind="video")
    second = store_asset(creator, io.BytesIO(video()), kind="video")
    assert first.storage_key != second.storage_key and first.sha256 == second.sha256


@pytest.mark.parametrize("kind, data, name", [
    ("video", EXE, "video.mp4"),                                # an .exe renamed
    ("pdf", b"Just some plain text, not a PDF at all.\n" * 10, "notes.pdf"),
    ("video", pdf("Notes", ["x"]), "clip.mp4"),                 # a real file of the wrong kind
    ("pdf", video(), "notes.pdf"),
    ("image", EXE, "cover.png"),
    ("image", b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "c.svg"),
    ("video", b"", "empty.mp4"),
])
def test_files_that_are_not_what_the_lesson_needs_are_refused(app, db, creator, kind, data, name):
    files_before = stored_files(app)
    with pytest.raises(Invalid):
        store_asset(creator, io.BytesIO(data), kind=kind, filename=name)
    assert asset_count(db) == 0
    assert stored_files(app) == files_before  # no file, no temporary left behind


def test_each_kind_has_its_own_size_limit(app, db, creator, small_pdf_limit):
    big_pdf = pdf("Big", ["line"] * 200)
    assert len(big_pdf) > small_pdf_limit
    files_before = stored_files(app)
    with pytest.raises(TooLarge) as exc:
        store_asset(creator, io.BytesIO(big_pdf), kind="pdf", filename="big.pdf")
    assert exc.value.status == 413
    assert "1 KB" in exc.value.message
    assert asset_count(db) == 0 and stored_files(app) == files_before
    # The same limit does not apply to other kinds.
    assert store_asset(creator, io.BytesIO(video()), kind="video").size > small_pdf_limit


def test_a_file_of_exactly_the_limit_is_accepted(app, db, creator, small_pdf_limit):
    doc = pdf("T", ["x"])
    doc = doc + b"%" * (small_pdf_limit - len(doc))  # a PDF comment pads it to the limit
    assert store_asset(creator, io.BytesIO(doc), kind="pdf").size == small_pdf_limit


def test_a_cover_must_be_an_image(db, creator, make_course):
    course = make_course(creator)
    with pytest.raises(Invalid):
        set_cover(creator, course, io.BytesIO(pdf("x", [])), "cover.png")
    assert course.cover is None
    set_cover(creator, course, io.BytesIO(png(4, 4)), "cover.png")
    assert course.cover.content_type == "image/png"


# --- access_lesson_media -----------------------------------------------------------------------

@pytest.fixture
def clip(db, creator, make_course):
    """A video lesson (not a free preview) of a published paid course."""
    course = make_course(creator, price_minor=1999)
    section = structure.add_section(creator, course, title="S")
    lesson = structure.add_lesson(creator, section, title="Clip", kind="video")
    structure.set_lesson_media(creator, lesson, io.BytesIO(video()), "clip.webm")
    course.status = "published"
    db.session.commit()
    return lesson


def test_the_creator_and_reviewers_get_the_file(db, creator, reviewer, admin, clip):
    for someone in (creator, reviewer, admin):
        lesson, asset = access_lesson_media(someone, clip.id)
        assert lesson.id == clip.id and asset.content_type == "video/webm"


def test_others_get_a_paid_lesson_only_when_enrolled(db, learner, make_user, anonymous, clip):
    for someone in (learner, make_user(), anonymous, None):
        with pytest.raises(NotAllowed):
            access_lesson_media(someone, clip.id)
    assert access_lesson_media(learner, clip.id, enrolled=True)[1].id == clip.media.id


def test_anyone_gets_a_free_preview_of_a_published_course(db, creator, anonymous, clip):
    structure.update_lesson(creator, clip, is_free_preview=True)
    db.session.commit()
    assert access_lesson_media(anonymous, clip.id)[0].id == clip.id


def test_a_free_preview_of_an_unpublished_course_is_not_public(db, creator, anonymous, clip):
    structure.update_lesson(creator, clip, is_free_preview=True)
    clip.section.course.status = "unpublished"
    db.session.commit()
    with pytest.raises(NotAllowed):
        access_lesson_media(anonymous, clip.id)


def test_a_lesson_without_a_file_is_not_found_but_only_after_the_access_check(
        db, creator, learner, make_course):
    course = make_course(creator, status="published")
    section = structure.add_section(creator, course, title="S")
    lesson = structure.add_lesson(creator, section, title="Clip", kind="video")
    db.session.commit()
    with pytest.raises(NotAllowed):
        access_lesson_media(learner, lesson.id)
    with pytest.raises(NotFound):
        access_lesson_media(creator, lesson.id)


def test_a_file_missing_from_storage_is_not_found(db, creator, clip):
    get_storage().delete(clip.media.storage_key)
    with pytest.raises(NotFound):
        access_lesson_media(creator, clip.id)


def test_an_unknown_lesson_is_not_found(db, creator):
    with pytest.raises(NotFound):
        access_lesson_media(creator, 987654)
