"""The user's own profile: name, headline, bio, avatar, deletion request."""
from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest

from app.accounts.profile import (
    accept_creator_terms,
    remove_avatar,
    request_account_deletion,
    set_avatar,
    update_profile,
)
from app.errors import Invalid
from app.storage import TooLarge, get_storage


@pytest.fixture
def media_files(app):
    """The names of the files in the media folder (temporary uploads included)."""
    def names() -> set[str]:
        root = get_storage().root
        return {p.name for p in root.iterdir()} if root.exists() else set()
    return names


@pytest.fixture
def avatar_cap(app):
    """Set AVATAR_MAX_BYTES for one test."""
    original = app.config["AVATAR_MAX_BYTES"]

    def set_cap(n: int) -> None:
        app.config["AVATAR_MAX_BYTES"] = n

    yield set_cap
    app.config["AVATAR_MAX_BYTES"] = original


# --- name, headline, bio -------------------------------------------------------------


def test_update_profile_saves_name_headline_and_bio(db, learner):
    update_profile(learner, display_name=" Lena  L. ", headline="  Curious   about  Rust ",
                   bio="  I like lists.\n\nAnd trees.  ")
    db.session.commit()
    assert learner.display_name == "Lena L."
    assert learner.headline == "Curious about Rust"
    assert learner.bio == "I like lists.\n\nAnd trees."


def test_headline_over_120_characters_is_refused(db, learner):
    with pytest.raises(Invalid) as caught:
        update_profile(learner, display_name="Lena", headline="h" * 121)
    assert caught.value.field == "headline"


def test_headline_of_120_characters_is_accepted(learner):
    assert update_profile(learner, display_name="Lena", headline="h" * 120).headline == "h" * 120


def test_bio_over_5000_characters_is_refused(learner):
    with pytest.raises(Invalid) as caught:
        update_profile(learner, display_name="Lena", bio="b" * 5001)
    assert caught.value.field == "bio"


def test_bio_of_5000_characters_with_a_trailing_newline_is_accepted(learner):
    # Browsers often end a textarea's value with a line break; the stored bio is stripped.
    assert update_profile(learner, display_name="Lena", bio="b" * 5000 + "\r\n").bio == "b" * 5000


@pytest.mark.parametrize("name", ["", "   ", "n" * 81])
def test_bad_display_name_is_refused(learner, name):
    with pytest.raises(Invalid) as caught:
        update_profile(learner, display_name=name)
    assert caught.value.field == "display_name"


def test_refused_update_changes_nothing(db, learner):
    update_profile(learner, display_name="Lena", headline="Old headline", bio="Old bio")
    db.session.commit()
    with pytest.raises(Invalid):
        update_profile(learner, display_name="", headline="New headline", bio="New bio")
    assert (learner.display_name, learner.headline, learner.bio) == ("Lena", "Old headline", "Old bio")


# --- avatar ----------------------------------------------------------------------------


def test_png_avatar_is_stored_under_a_random_name(db, learner, tiny_png):
    set_avatar(learner, io.BytesIO(tiny_png))
    db.session.commit()
    assert learner.avatar_key.endswith(".png")
    with get_storage().open(learner.avatar_key) as fh:
        assert fh.read() == tiny_png


def test_text_is_not_an_avatar(db, learner, media_files):
    before = media_files()
    with pytest.raises(Invalid) as caught:
        set_avatar(learner, io.BytesIO(b"hello, I am definitely a picture"))
    assert caught.value.status == 422 and "must be one of" in caught.value.message
    assert learner.avatar_key is None
    assert media_files() == before


def test_executable_is_not_an_avatar(db, learner, media_files):
    before = media_files()
    with pytest.raises(Invalid):
        set_avatar(learner, io.BytesIO(b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 500))
    assert learner.avatar_key is None
    assert media_files() == before


def test_empty_upload_is_not_an_avatar(learner):
    with pytest.raises(Invalid, match="empty"):
        set_avatar(learner, io.BytesIO(b""))


def test_avatar_over_the_limit_is_too_large(db, learner, tiny_png, avatar_cap, media_files):
    avatar_cap(len(tiny_png) - 1)
    before = media_files()
    with pytest.raises(TooLarge) as caught:
        set_avatar(learner, io.BytesIO(tiny_png))
    assert caught.value.status == 413
    assert learner.avatar_key is None
    assert media_files() == before


def test_avatar_at_the_limit_is_accepted(learner, tiny_png, avatar_cap):
    avatar_cap(len(tiny_png))
    assert set_avatar(learner, io.BytesIO(tiny_png)).avatar_key


def test_old_avatar_is_deleted_only_after_commit(db, learner, tiny_png):
    set_avatar(learner, io.BytesIO(tiny_png))
    db.session.commit()
    old = learner.avatar_key
    set_avatar(learner, io.BytesIO(tiny_png))
    assert get_storage().exists(old)  # still shown until the change is saved
    db.session.commit()
    assert not get_storage().exists(old)
    assert get_storage().exists(learner.avatar_key)


def test_old_avatar_is_kept_when_the_change_rolls_back(db, learner, tiny_png):
    set_avatar(learner, io.BytesIO(tiny_png))
    db.session.commit()
    old = learner.avatar_key
    set_avatar(learner, io.BytesIO(tiny_png))
    db.session.rollback()
    db.session.commit()
    assert learner.avatar_key == old
    assert get_storage().exists(old)


def test_remove_avatar_deletes_the_file_after_commit(db, learner, tiny_png):
    set_avatar(learner, io.BytesIO(tiny_png))
    db.session.commit()
    key = learner.avatar_key
    remove_avatar(learner)
    assert learner.avatar_key is None and get_storage().exists(key)
    db.session.commit()
    assert not get_storage().exists(key)


def test_remove_avatar_without_one_does_nothing(db, learner):
    remove_avatar(learner)
    db.session.commit()
    assert learner.avatar_key is None


# --- deletion request, creator terms ---------------------------------------------------


def test_deletion_request_is_recorded_and_emitted_after_commit(db, learner, emitted):
    when = datetime(2030, 1, 2, tzinfo=UTC)
    request_account_deletion(learner, now=when)
    assert emitted == []
    db.session.commit()
    assert learner.deletion_requested_at == when
    assert [(e.name, e.payload) for e in emitted] == [
        ("accounts.deletion.requested", {"user_id": learner.id})]


def test_deletion_request_twice_keeps_the_first_and_emits_once(db, learner, emitted):
    first = datetime(2030, 1, 2, tzinfo=UTC)
    request_account_deletion(learner, now=first)
    db.session.commit()
    request_account_deletion(learner, now=datetime(2030, 2, 2, tzinfo=UTC))
    db.session.commit()
    assert learner.deletion_requested_at == first
    assert [e.name for e in emitted] == ["accounts.deletion.requested"]


def test_creator_terms_are_accepted_once(db, learner):
    first = datetime(2030, 1, 2, tzinfo=UTC)
    accept_creator_terms(learner, now=first)
    accept_creator_terms(learner, now=datetime(2030, 2, 2, tzinfo=UTC))
    db.session.commit()
    assert learner.creator_terms_accepted_at == first


def test_new_avatar_file_is_removed_when_the_change_rolls_back(db, learner, tiny_png, media_files):
    before = media_files()
    set_avatar(learner, io.BytesIO(tiny_png))
    assert len(media_files() - before) == 1
    db.session.rollback()
    assert media_files() == before
