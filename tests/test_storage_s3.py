"""The S3 backend against a faked S3 (moto intercepts botocore's HTTP calls)."""
import io

import boto3
import pytest
from moto import mock_aws

from app.accounts.profile import set_avatar
from app.catalog.samples import png
from app.errors import Invalid
from app.extensions import db
from app.storage import S3Storage, TooLarge, get_storage

IMAGES = {"image/png": "png"}


@pytest.fixture
def s3(app, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="lyceum-media")
        previous = app.config["MEDIA_STORAGE"]
        app.config["MEDIA_STORAGE"] = "s3://lyceum-media/uploads"
        try:
            yield get_storage()
        finally:
            app.config["MEDIA_STORAGE"] = previous


def test_media_storage_url_selects_the_s3_backend(s3):
    assert isinstance(s3, S3Storage)
    assert (s3.bucket, s3.prefix) == ("lyceum-media", "uploads")


def test_an_upload_is_sniffed_stored_under_a_random_key_and_read_back(s3):
    content = png(32, 18)
    stored = s3.save(io.BytesIO(content), max_bytes=1_000_000, allowed=IMAGES, what="cover")
    assert stored.content_type == "image/png" and stored.key.endswith(".png")
    assert s3.exists(stored.key) and s3.size(stored.key) == len(content)
    assert s3.read(stored.key) == content
    assert b"".join(s3.iter_range(stored.key, 8, 40)) == content[8:41]
    s3.delete(stored.key)
    assert not s3.exists(stored.key)


def test_wrong_type_and_oversized_files_never_reach_the_bucket(s3):
    with pytest.raises(Invalid):
        s3.save(io.BytesIO(b"MZ\x90\x00 not an image"), max_bytes=1000, allowed=IMAGES)
    with pytest.raises(TooLarge):
        s3.save(io.BytesIO(png(64, 64)), max_bytes=100, allowed=IMAGES)
    listing = boto3.client("s3", region_name="us-east-1").list_objects_v2(Bucket="lyceum-media")
    assert listing.get("KeyCount", 0) == 0


def test_files_are_served_by_a_short_lived_signed_url(s3, client, make_user, login):

    user = make_user()
    set_avatar(user, io.BytesIO(png(16, 16)))
    db.session.commit()
    resp = client.get(f"/avatars/{user.avatar_key}")
    assert resp.status_code == 302
    location = resp.headers["Location"]
    assert "lyceum-media" in location and "uploads/" + user.avatar_key in location
    assert "Signature" in location or "X-Amz-Signature" in location
