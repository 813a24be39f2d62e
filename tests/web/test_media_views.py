"""Lesson media and course covers over HTTP: who may fetch what (one `can_view_lesson`
rule), the headers, and HTTP Range requests so video seeks."""
from __future__ import annotations

import io

import pytest

from app.catalog import structure
from app.catalog.models import MediaAsset
from app.catalog.samples import pdf, video
from app.extensions import db
from app.learning import enrollment
from app.storage import get_storage
from tests.support.studio import build_course, lesson_of

PEOPLE = ("anonymous", "learner", "enrolled", "refunded", "other_creator", "owner", "reviewer")
# Which lessons each person may fetch: `enrolled` holds an active enrollment in the published
# course, `refunded` one that was revoked; the draft cannot be enrolled in.
ALLOWED = {
    "free_preview_of_published": set(PEOPLE),
    "paid_lesson_of_published": {"enrolled", "owner", "reviewer"},
    "lesson_of_draft": {"owner", "reviewer"},
}


@pytest.fixture
def reviewer(make_user):
    return make_user(email="reviewer@example.test", permissions=("review_courses",))


@pytest.fixture
def published(creator, reviewer):
    return build_course(creator, title="Live and paid", status="published", price=1999, reviewer=reviewer)


@pytest.fixture
def people(learner, creator, reviewer, make_user, published):
    granter = make_user(email="granter@example.test", permissions=("manage_users",))
    enrolled, refunded = make_user(email="enrolled@example.test"), make_user(email="refunded@example.test")
    enrollment.enroll(enrolled, published, source="admin", granted_by=granter)
    enrollment.revoke(enrollment.enroll(refunded, published, source="admin", granted_by=granter),
                      reason="refunded")
    db.session.commit()
    return {"anonymous": None, "learner": learner, "enrolled": enrolled, "refunded": refunded,
            "other_creator": make_user(email="rival@example.test"), "owner": creator, "reviewer": reviewer}


@pytest.fixture
def lessons(creator, published):
    draft = build_course(creator, title="Not yet", price=1999)  # its video is marked free preview too
    return {"free_preview_of_published": lesson_of(published, "video"),
            "paid_lesson_of_published": lesson_of(published, "pdf"),
            "lesson_of_draft": lesson_of(draft, "video")}


def stored_bytes(lesson) -> bytes:
    with get_storage().open(lesson.media.storage_key) as fh:
        return fh.read()


@pytest.fixture
def webm_lesson(lessons):
    """The published course's free video, and its bytes."""
    lesson = lessons["free_preview_of_published"]
    return lesson, stored_bytes(lesson)


# --- who may fetch what --------------------------------------------------------------------------

@pytest.mark.parametrize("who", PEOPLE)
@pytest.mark.parametrize("case", ALLOWED)
def test_the_media_access_matrix(app, login, lessons, people, who, case):
    client = app.test_client()
    if people[who] is not None:
        login(people[who], on=client)
    lesson = lessons[case]
    resp = client.get(f"/courses/lessons/{lesson.id}/media")
    if who in ALLOWED[case]:
        assert resp.status_code == 200
        assert resp.data == stored_bytes(lesson)
    else:
        assert resp.status_code == 403
        assert resp.mimetype == "text/html" and resp.data != stored_bytes(lesson)
        assert "not allowed to view this lesson" in resp.get_data(as_text=True)


def test_media_headers_for_a_video(client, webm_lesson):
    lesson, data = webm_lesson
    resp = client.get(f"/courses/lessons/{lesson.id}/media")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "video/webm"
    assert resp.headers["Content-Disposition"] == 'inline; filename="welcome.webm"'
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Accept-Ranges"] == "bytes"
    assert resp.headers["Content-Length"] == str(len(data)) == str(lesson.media.size)
    assert resp.headers["Cache-Control"] == "public, max-age=3600"  # a free preview of a live course
    assert "Content-Range" not in resp.headers


def test_media_headers_for_a_pdf_are_private(client, login, creator, lessons):
    lesson = lessons["paid_lesson_of_published"]
    login(creator)
    resp = client.get(f"/courses/lessons/{lesson.id}/media")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "application/pdf"
    assert resp.headers["Content-Disposition"] == 'inline; filename="notes.pdf"'
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Cache-Control"] == "no-store"  # a paid lesson: see test_media_policy.py
    assert resp.data.startswith(b"%PDF-")


def test_the_type_is_the_sniffed_one_not_the_name(client, login, creator):
    """A WebM uploaded as "clip.mp4" is served as video/webm."""
    course = build_course(creator)
    lesson = lesson_of(course, "video")
    structure.set_lesson_media(creator, lesson, io.BytesIO(video()), "clip.mp4")
    db.session.commit()
    login(creator)
    resp = client.get(f"/courses/lessons/{lesson.id}/media")
    assert resp.headers["Content-Type"] == "video/webm"
    assert resp.headers["Content-Disposition"] == 'inline; filename="clip.mp4"'


@pytest.mark.parametrize("name, disposition", [
    ("видео урок.pdf", "inline; filename=\"file.pdf\"; filename*=UTF-8''"
                       "%D0%B2%D0%B8%D0%B4%D0%B5%D0%BE%20%D1%83%D1%80%D0%BE%D0%BA.pdf"),
    ("Écoute.pdf", "inline; filename=\"Ecoute.pdf\"; filename*=UTF-8''%C3%89coute.pdf"),
    ('evil"; filename=x.exe\r\n.pdf', 'inline; filename="evil filenamex.exe.pdf"'),
])
def test_file_names_are_safe_in_the_header(client, login, creator, name, disposition):
    """Header values must be Latin-1: a non-ASCII name goes in `filename*` (RFC 6266)."""
    course = build_course(creator)
    lesson = lesson_of(course, "pdf")
    structure.set_lesson_media(creator, lesson, io.BytesIO(pdf("x", [])), name)
    db.session.commit()
    login(creator)
    resp = client.get(f"/courses/lessons/{lesson.id}/media")
    assert resp.status_code == 200
    assert resp.headers["Content-Disposition"] == disposition
    resp.headers["Content-Disposition"].encode("latin-1")


def test_a_lesson_without_a_file_is_404(client, login, creator):
    course = build_course(creator, complete=False)
    section = structure.add_section(creator, course, title="S")
    lesson = structure.add_lesson(creator, section, title="No file yet", kind="video")
    db.session.commit()
    login(creator)
    resp = client.get(f"/courses/lessons/{lesson.id}/media")
    assert resp.status_code == 404 and "This lesson has no file yet." in resp.get_data(as_text=True)
    assert client.get("/courses/lessons/999999/media").status_code == 404


def test_a_head_request_gets_the_headers_only(client, webm_lesson):
    lesson, data = webm_lesson
    resp = client.head(f"/courses/lessons/{lesson.id}/media")
    assert resp.status_code == 200 and resp.data == b""
    assert resp.headers["Content-Length"] == str(len(data))


# --- Range requests -------------------------------------------------------------------------------

def get_range(client, lesson, header):
    return client.get(f"/courses/lessons/{lesson.id}/media", headers={"Range": header})


def test_the_first_hundred_bytes(client, webm_lesson):
    lesson, data = webm_lesson
    resp = get_range(client, lesson, "bytes=0-99")
    assert resp.status_code == 206
    assert resp.headers["Content-Range"] == f"bytes 0-99/{len(data)}"
    assert resp.headers["Content-Length"] == "100"
    assert len(resp.data) == 100 and resp.data == data[:100]
    assert resp.headers["Content-Type"] == "video/webm"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Accept-Ranges"] == "bytes"


def test_a_suffix_range_is_the_last_bytes(client, webm_lesson):
    lesson, data = webm_lesson
    resp = get_range(client, lesson, "bytes=-50")
    assert resp.status_code == 206
    assert resp.headers["Content-Range"] == f"bytes {len(data) - 50}-{len(data) - 1}/{len(data)}"
    assert resp.data == data[-50:]


def test_a_suffix_longer_than_the_file_is_the_whole_file(client, webm_lesson):
    lesson, data = webm_lesson
    resp = get_range(client, lesson, f"bytes=-{len(data) * 10}")
    assert resp.status_code == 206
    assert resp.headers["Content-Range"] == f"bytes 0-{len(data) - 1}/{len(data)}"
    assert resp.data == data


def test_an_open_ended_range_runs_to_the_end(client, webm_lesson):
    lesson, data = webm_lesson
    resp = get_range(client, lesson, "bytes=100-")
    assert resp.status_code == 206
    assert resp.headers["Content-Range"] == f"bytes 100-{len(data) - 1}/{len(data)}"
    assert resp.headers["Content-Length"] == str(len(data) - 100)
    assert resp.data == data[100:]


def test_a_range_past_the_end_is_clipped(client, webm_lesson):
    lesson, data = webm_lesson
    resp = get_range(client, lesson, "bytes=10-99999999999999999999")
    assert resp.status_code == 206
    assert resp.headers["Content-Range"] == f"bytes 10-{len(data) - 1}/{len(data)}"
    assert resp.data == data[10:]


def test_the_last_byte_alone(client, webm_lesson):
    lesson, data = webm_lesson
    resp = get_range(client, lesson, f"bytes={len(data) - 1}-{len(data) - 1}")
    assert resp.status_code == 206 and resp.data == data[-1:]


def test_the_unit_is_case_insensitive(client, webm_lesson):
    lesson, data = webm_lesson
    resp = get_range(client, lesson, "Bytes=0-9")
    assert resp.status_code == 206 and resp.data == data[:10]


@pytest.mark.parametrize("header", ["bytes={size}-", "bytes={size}-{more}", "bytes=99999999999-", "bytes=-0"])
def test_an_unsatisfiable_range_is_416(client, webm_lesson, header):
    lesson, data = webm_lesson
    resp = get_range(client, lesson, header.format(size=len(data), more=len(data) + 10))
    assert resp.status_code == 416
    assert resp.headers["Content-Range"] == f"bytes */{len(data)}"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert data[:100] not in resp.data


# RFC 9110 §14.2: a server MAY ignore the Range header and MUST ignore an unknown range unit.
# A header that does not parse (or asks for several ranges, which we do not serve as
# multipart/byteranges) is ignored: 200 with the whole file, as every client understands.
# 416 is only for a well-formed range that lies outside the file (§15.5.17).
@pytest.mark.parametrize("header", ["bytes=abc", "bytes=-", "bytes=5-2", "bytes=1-2-3", "items=0-5",
                                    "bytes=0-1,5-6", "bytes 0-99", "bytes=--5", "bytes=0x10-", "🙂"])
def test_a_malformed_range_is_ignored_and_the_whole_file_sent(client, webm_lesson, header):
    lesson, data = webm_lesson
    resp = get_range(client, lesson, header)
    assert resp.status_code == 200
    assert "Content-Range" not in resp.headers
    assert resp.headers["Content-Length"] == str(len(data))
    assert resp.data == data


def test_ranges_still_need_access(client, lessons):
    resp = get_range(client, lessons["paid_lesson_of_published"], "bytes=0-99")
    assert resp.status_code == 403 and b"%PDF" not in resp.data


def test_seeking_through_a_video_reassembles_it(client, webm_lesson):
    lesson, data = webm_lesson
    chunks, start = [], 0
    while start < len(data):
        resp = get_range(client, lesson, f"bytes={start}-{start + 4095}")
        assert resp.status_code == 206
        chunks.append(resp.data)
        start += 4096
    assert b"".join(chunks) == data


# --- covers --------------------------------------------------------------------------------------

def test_a_cover_is_public(client, creator):
    course = build_course(creator)  # even a draft's cover: it lives under an unguessable name
    resp = client.get(f"/courses/covers/{course.cover.storage_key}")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "image/png"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Cache-Control"] == "public, max-age=86400, immutable"
    assert resp.data.startswith(b"\x89PNG")


@pytest.mark.parametrize("kind", ["video", "pdf"])
def test_a_lesson_files_key_is_not_a_cover(client, creator, kind):
    course = build_course(creator)
    resp = client.get(f"/courses/covers/{lesson_of(course, kind).media.storage_key}")
    assert resp.status_code == 404


@pytest.mark.parametrize("key", ["nope.png", ".upload-x", "..", "%2e%2e%2fetc%2fpasswd", "a" * 500])
def test_unknown_cover_keys_are_404(client, key):
    assert client.get(f"/courses/covers/{key}").status_code == 404


def test_a_cover_whose_file_is_gone_is_404(client, creator):
    asset = MediaAsset(owner_id=creator.id, storage_key="vanished-file.png", kind="image",
                       content_type="image/png", size=10, sha256="0" * 64)
    db.session.add(asset)
    db.session.commit()
    assert client.get("/courses/covers/vanished-file.png").status_code == 404
