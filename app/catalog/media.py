"""Course media: uploads (typed by content, size-capped per kind) and access to them."""
from __future__ import annotations

from typing import BinaryIO

from flask import current_app

from app.accounts.models import User
from app.catalog.models import Lesson, MediaAsset
from app.catalog.permissions import can_view_lesson
from app.catalog.queries import get_lesson
from app.errors import NotFound
from app.extensions import db
from app.policy import require
from app.storage import get_storage

ALLOWED = {
    "video": {"video/mp4": "mp4", "video/webm": "webm"},
    "pdf": {"application/pdf": "pdf"},
    "image": {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif"},
}
LIMIT_KEYS = {"video": "VIDEO_MAX_BYTES", "pdf": "PDF_MAX_BYTES", "image": "COVER_MAX_BYTES"}
WHAT = {"video": "video", "pdf": "PDF", "image": "image"}


def max_bytes(kind: str) -> int:
    return current_app.config[LIMIT_KEYS[kind]]


def lesson_upload_limit(lesson: Lesson | None) -> int | None:
    """The largest file a lesson takes: its kind's limit for a video or PDF lesson; for a
    text or quiz lesson, which take none (the upload is refused with a reason), the smaller
    of the two; None for no lesson (the view answers 404)."""
    if lesson is None:
        return None
    if lesson.kind in ("video", "pdf"):
        return max_bytes(lesson.kind)
    return min(max_bytes("video"), max_bytes("pdf"))


def store_asset(owner: User, stream: BinaryIO, *, kind: str, filename: str = "") -> MediaAsset:
    stored = get_storage().save(stream, max_bytes=max_bytes(kind), allowed=ALLOWED[kind],
                                what=WHAT[kind])
    asset = MediaAsset(owner_id=owner.id, storage_key=stored.key, kind=kind,
                       content_type=stored.content_type, size=stored.size, sha256=stored.sha256,
                       original_name=(filename or "")[:255])
    db.session.add(asset)
    db.session.flush()
    return asset


def access_lesson_media(actor, lesson_id: int, *, enrolled: bool = False) -> tuple[Lesson, MediaAsset]:
    """The lesson's file, if `actor` may view the lesson (the one `can_view_lesson` rule)."""
    lesson = get_lesson(lesson_id)
    require(can_view_lesson(actor, lesson, enrolled=enrolled), "view this lesson")
    if lesson.media is None or not get_storage().exists(lesson.media.storage_key):
        raise NotFound("This lesson has no file yet.")
    return lesson, lesson.media
