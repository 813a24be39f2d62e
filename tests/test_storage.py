"""Media storage (app/storage.py): sniffed types, random names, size caps, ranges."""
from __future__ import annotations

import hashlib
import io

import pytest

from app.errors import Invalid
from app.storage import LocalStorage, TooLarge, get_storage, human_size

IMAGES = {"image/png": "png", "image/jpeg": "jpg"}
JPEG_HEAD = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01"


@pytest.fixture
def storage(tmp_path):
    return LocalStorage(str(tmp_path / "media"))


def _files(storage) -> list[str]:
    return sorted(p.name for p in storage.root.iterdir()) if storage.root.exists() else []


def test_save_keeps_the_bytes_and_reports_type_size_and_digest(storage, tiny_png):
    stored = storage.save(io.BytesIO(tiny_png), max_bytes=10_000, allowed=IMAGES)
    assert stored.content_type == "image/png"
    assert stored.size == len(tiny_png)
    assert stored.sha256 == hashlib.sha256(tiny_png).hexdigest()
    with storage.open(stored.key) as fh:
        assert fh.read() == tiny_png
    assert storage.size(stored.key) == len(tiny_png)


def test_type_comes_from_the_content_not_the_file_name(storage, tiny_png, tmp_path):
    disguised = tmp_path / "notes.txt"
    disguised.write_bytes(tiny_png)
    with disguised.open("rb") as fh:
        stored = storage.save(fh, max_bytes=10_000, allowed=IMAGES)
    assert stored.key.endswith(".png") and "notes" not in stored.key


def test_text_named_like_an_image_is_rejected(storage, tmp_path):
    fake = tmp_path / "photo.png"
    fake.write_bytes(b"just some text, not a picture at all")
    with fake.open("rb") as fh, pytest.raises(Invalid, match="must be one of: jpg, png"):
        storage.save(fh, max_bytes=10_000, allowed=IMAGES, what="picture")
    assert _files(storage) == []


def test_executable_is_rejected(storage):
    exe = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 300
    with pytest.raises(Invalid):
        storage.save(io.BytesIO(exe), max_bytes=10_000, allowed=IMAGES)
    assert _files(storage) == []


def test_empty_file_is_rejected(storage):
    with pytest.raises(Invalid, match="The avatar is empty"):
        storage.save(io.BytesIO(b""), max_bytes=10_000, allowed=IMAGES, what="avatar")
    assert _files(storage) == []


def test_file_over_the_cap_is_refused_and_nothing_is_left_behind(storage, tiny_png):
    big = tiny_png + b"\x00" * 5000
    with pytest.raises(TooLarge) as caught:
        storage.save(io.BytesIO(big), max_bytes=1000, allowed=IMAGES, what="avatar")
    assert caught.value.status == 413
    assert _files(storage) == []  # no temporary file either


def test_too_large_message_names_a_readable_limit(storage, tiny_png):
    big = tiny_png + b"\x00" * 5000
    with pytest.raises(TooLarge, match="larger than 1000 bytes"):
        storage.save(io.BytesIO(big), max_bytes=1000, allowed=IMAGES, what="avatar")
    with pytest.raises(TooLarge, match="larger than 2 KB"):
        storage.save(io.BytesIO(big), max_bytes=2048, allowed=IMAGES, what="avatar")


def test_a_file_exactly_at_the_cap_is_accepted(storage, tiny_png):
    stored = storage.save(io.BytesIO(tiny_png), max_bytes=len(tiny_png), allowed=IMAGES)
    assert stored.size == len(tiny_png)


def test_files_get_random_unguessable_names(storage, tiny_png):
    first = storage.save(io.BytesIO(tiny_png), max_bytes=10_000, allowed=IMAGES)
    second = storage.save(io.BytesIO(tiny_png), max_bytes=10_000, allowed=IMAGES)
    assert first.key != second.key
    assert len(first.key.split(".")[0]) >= 32
    assert _files(storage) == sorted([first.key, second.key])


def test_extension_follows_the_sniffed_type(storage):
    jpeg = JPEG_HEAD + b"\x00" * 200
    stored = storage.save(io.BytesIO(jpeg), max_bytes=10_000, allowed=IMAGES)
    assert stored.content_type == "image/jpeg" and stored.key.endswith(".jpg")


def test_large_file_is_stored_across_many_chunks(storage, tiny_png):
    content = tiny_png + bytes(range(256)) * 1000  # several 64 KiB chunks
    stored = storage.save(io.BytesIO(content), max_bytes=len(content), allowed=IMAGES)
    assert stored.sha256 == hashlib.sha256(content).hexdigest()
    assert storage.size(stored.key) == len(content)


def test_iter_range_returns_exactly_the_requested_bytes(storage, tiny_png):
    content = tiny_png + bytes(range(256)) * 1000
    key = storage.save(io.BytesIO(content), max_bytes=len(content), allowed=IMAGES).key
    assert b"".join(storage.iter_range(key, 10, 70_000)) == content[10:70_001]
    assert b"".join(storage.iter_range(key, 0, 0)) == content[:1]
    last = len(content) - 1
    assert b"".join(storage.iter_range(key, last - 4, last)) == content[-5:]


def test_iter_range_stops_at_the_end_of_the_file(storage, tiny_png):
    key = storage.save(io.BytesIO(tiny_png), max_bytes=10_000, allowed=IMAGES).key
    assert b"".join(storage.iter_range(key, 5, 10_000)) == tiny_png[5:]


@pytest.mark.parametrize("key", ["", "../secret", "a/b", ".hidden", "..", "/etc/passwd", "a" * 5000,
                                 "x\0.png"])
def test_keys_that_could_leave_the_media_folder_are_refused(storage, key):
    with pytest.raises(Invalid):
        storage.path(key)
    assert storage.exists(key) is False


def test_delete_removes_the_file_and_tolerates_a_missing_one(storage, tiny_png):
    key = storage.save(io.BytesIO(tiny_png), max_bytes=10_000, allowed=IMAGES).key
    assert storage.exists(key)
    storage.delete(key)
    assert not storage.exists(key)
    storage.delete(key)  # already gone: no error


def test_get_storage_uses_the_configured_folder(app, tmp_path):
    original = app.config["MEDIA_STORAGE"]
    assert str(get_storage().root) == original
    app.config["MEDIA_STORAGE"] = str(tmp_path / "elsewhere")
    try:
        assert get_storage().root == tmp_path / "elsewhere"
    finally:
        app.config["MEDIA_STORAGE"] = original
    assert str(get_storage().root) == original


@pytest.mark.parametrize("size, text", [(900, "900 bytes"), (2048, "2 KB"), (1536, "1.5 KB"),
                                        (2 * 1024 * 1024, "2 MB"), (3 * 1024 ** 3, "3 GB")])
def test_human_size(size, text):
    assert human_size(size) == text
