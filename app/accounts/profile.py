"""The signed-in user's own profile: name, headline, bio, avatar, deletion request."""
from __future__ import annotations

from datetime import datetime
from typing import BinaryIO

from flask import current_app

from app.accounts.auth import clean_display_name
from app.accounts.events import DeletionRequested
from app.accounts.models import User
from app.dbtypes import utcnow
from app.errors import Invalid
from app.events import emit, on_commit, on_rollback
from app.storage import get_storage

AVATAR_TYPES = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp"}


def update_profile(user: User, *, display_name: str, headline: str = "", bio: str = "") -> User:
    headline = " ".join((headline or "").split())
    bio = (bio or "").strip()  # measured as stored: a textarea's trailing newline is not text
    if len(headline) > 120:
        raise Invalid("Keep your headline under 120 characters.", field="headline")
    if len(bio) > 5000:
        raise Invalid("Keep your bio under 5,000 characters.", field="bio")
    user.display_name = clean_display_name(display_name)
    user.headline = headline
    user.bio = bio
    return user


def set_avatar(user: User, stream: BinaryIO) -> User:
    """Store a new avatar (an image, sniffed; at most AVATAR_MAX_BYTES) and drop the old one."""
    storage = get_storage()
    stored = storage.save(stream, max_bytes=current_app.config["AVATAR_MAX_BYTES"],
                          allowed=AVATAR_TYPES, what="avatar")
    on_rollback(lambda: storage.delete(stored.key))  # not saved after all: no orphan file
    old, user.avatar_key = user.avatar_key, stored.key
    if old:
        on_commit(lambda: storage.delete(old))
    return user


def remove_avatar(user: User) -> None:
    if user.avatar_key:
        key, user.avatar_key = user.avatar_key, None
        on_commit(lambda: get_storage().delete(key))


def request_account_deletion(user: User, *, now: datetime | None = None) -> None:
    if user.deletion_requested_at is None:
        user.deletion_requested_at = now or utcnow()
        emit(DeletionRequested(user_id=user.id))


def accept_creator_terms(user: User, *, now: datetime | None = None) -> None:
    if user.creator_terms_accepted_at is None:
        user.creator_terms_accepted_at = now or utcnow()
