"""How media is served (issue #13): a paid lesson's file is never kept by the browser
(`no-store`), while public files (free previews, covers, avatars) stay cacheable; every
stored file carries its own CSP, which lets only our own pages frame it (the player shows a
PDF inline) and runs a PDF or image as a sandboxed document of an opaque origin, so nothing
uploaded can run as this site. Every other page keeps `frame-ancestors 'none'`."""
from __future__ import annotations

import io
import re
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from moto import mock_aws

from app.accounts.profile import set_avatar
from app.catalog.samples import png
from app.extensions import db
from app.learning import enrollment
from app.storage import get_storage
from tests.support.pages import text
from tests.support.studio import build_course, lesson_of


def csp(resp) -> dict[str, str]:
    """The response's CSP as {directive: value} (a directive without a value maps to "")."""
    policy = resp.headers["Content-Security-Policy"]
    return dict((part.strip().split(" ", 1) + [""])[:2] for part in policy.split(";"))


@pytest.fixture
def reviewer(make_user):
    return make_user(email="reviewer@example.test", permissions=("review_courses",))


@pytest.fixture
def course(creator, reviewer):
    """Published, paid: its video is a free preview, its PDF is paid."""
    return build_course(creator, title="Live and paid", status="published", price=1999, reviewer=reviewer)


@pytest.fixture
def enrolled(make_user, course):
    granter = make_user(email="granter@example.test", permissions=("manage_users",))
    user = make_user(email="enrolled@example.test")
    enrollment.enroll(user, course, source="admin", granted_by=granter)
    db.session.commit()
    return user


@pytest.fixture
def paid_video(creator, course):
    """The video made a paid lesson (no longer a free preview)."""
    lesson = lesson_of(course, "video")
    lesson.is_free_preview = False
    db.session.commit()
    return lesson


def media(lesson) -> str:
    return f"/courses/lessons/{lesson.id}/media"


def assert_framed_by_us_only(resp):
    assert csp(resp)["frame-ancestors"] == "'self'"
    assert resp.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


# --- caching ----------------------------------------------------------------------------------

def test_a_paid_pdf_is_not_stored_by_the_browser(client, login, enrolled, course):
    login(enrolled)
    resp = client.get(media(lesson_of(course, "pdf")))
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("range_header", [None, "bytes=0-99"])
def test_a_paid_video_is_not_stored_by_the_browser(client, login, enrolled, paid_video, range_header):
    login(enrolled)
    resp = client.get(media(paid_video), headers={"Range": range_header} if range_header else {})
    assert resp.status_code in (200, 206) and resp.headers["Cache-Control"] == "no-store"


def test_a_free_preview_may_be_cached(client, course):
    resp = client.get(media(lesson_of(course, "video")))
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "public, max-age=3600"


def test_covers_and_avatars_may_be_cached(client, course, learner):
    set_avatar(learner, io.BytesIO(png(8, 8)))
    db.session.commit()
    for url in (f"/courses/covers/{course.cover.storage_key}", f"/avatars/{learner.avatar_key}"):
        resp = client.get(url)
        assert resp.status_code == 200
        assert resp.headers["Cache-Control"] == "public, max-age=86400, immutable"


# --- the media policy ---------------------------------------------------------------------------

def test_a_pdf_is_a_sandboxed_document_that_only_our_pages_may_frame(client, login, enrolled, course):
    login(enrolled)
    resp = client.get(media(lesson_of(course, "pdf")), headers={"Range": "bytes=0-9"})
    assert resp.status_code == 206
    policy = csp(resp)
    assert policy["sandbox"] == ""  # no allow-scripts, no allow-same-origin: an opaque origin
    assert policy["default-src"] == "'none'"
    assert_framed_by_us_only(resp)


def test_a_video_may_be_framed_by_our_pages_and_loads_nothing_else(client, course):
    resp = client.get(media(lesson_of(course, "video")))
    policy = csp(resp)
    assert policy["default-src"] == "'none'" and policy["media-src"] == "'self'"
    assert "script-src" not in policy
    assert_framed_by_us_only(resp)


def test_images_are_sandboxed_too(client, course, learner):
    set_avatar(learner, io.BytesIO(png(8, 8)))
    db.session.commit()
    for url in (f"/courses/covers/{course.cover.storage_key}", f"/avatars/{learner.avatar_key}"):
        resp = client.get(url)
        assert csp(resp)["sandbox"] == "" and csp(resp)["default-src"] == "'none'"
        assert_framed_by_us_only(resp)


def test_the_player_page_itself_may_not_be_framed(client, login, enrolled, course):
    login(enrolled)
    pdf = lesson_of(course, "pdf")
    resp = client.get(f"/learn/{course.id}/lessons/{pdf.id}")
    assert resp.status_code == 200
    assert csp(resp)["frame-ancestors"] == "'none'" and resp.headers["X-Frame-Options"] == "DENY"
    # ...and may embed our own files (object-src/frame-src allow this site only).
    assert csp(resp)["object-src"] == "'self'" and csp(resp)["frame-src"] == "'self'"


@pytest.mark.parametrize("url", ["/", "/courses/", "/auth/login", "/no-such-page"])
def test_other_pages_keep_frame_ancestors_none(client, url):
    resp = client.get(url)
    assert csp(resp)["frame-ancestors"] == "'none'" and resp.headers["X-Frame-Options"] == "DENY"


def test_refusals_of_media_are_pages_that_cannot_be_framed(client, course):
    resp = client.get(media(lesson_of(course, "pdf")))  # anonymous: not allowed
    assert resp.status_code == 403
    assert csp(resp)["frame-ancestors"] == "'none'" and "sandbox" not in csp(resp)


def test_the_player_shows_the_pdf_inline(client, login, enrolled, course):
    login(enrolled)
    pdf = lesson_of(course, "pdf")
    body = text(client.get(f"/learn/{course.id}/lessons/{pdf.id}"))
    [embed] = re.findall(r"<object [^>]*>", body)
    assert f'data="{media(pdf)}"' in embed and 'type="application/pdf"' in embed


# --- S3: the bucket's response is told the same caching -------------------------------------------

@pytest.fixture
def s3(app, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="lyceum-media")
        monkeypatch.setitem(app.config, "MEDIA_STORAGE", "s3://lyceum-media/uploads")
        yield get_storage()


def test_a_paid_file_from_s3_is_not_stored_either(s3, client, login, enrolled, course):
    login(enrolled)
    resp = client.get(media(lesson_of(course, "pdf")))  # the course was built on S3 too
    assert resp.status_code == 302 and resp.headers["Cache-Control"] == "private, no-store"
    query = parse_qs(urlsplit(resp.headers["Location"]).query)
    assert query["response-cache-control"] == ["no-store"]
