"""Media storage: one interface, two backends (ARCHITECTURE §7, §12).

`MEDIA_STORAGE` is a local folder (the default, `instance/media`) or `s3://bucket/prefix`
for an S3-compatible store (`S3_ENDPOINT_URL` for one that is not AWS). Uploads are
streamed in chunks to a temporary file, capped in size while they arrive, typed by
sniffing their content (never by name or the browser's header), and stored under random
names. S3 files are served by short-lived signed URLs, so a CDN can sit in front.
"""
from __future__ import annotations

import hashlib
import os
import secrets
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import filetype
from flask import current_app

from app.errors import DomainError, Invalid

CHUNK = 64 * 1024
SNIFF_BYTES = 8192


class TooLarge(DomainError):
    status = 413
    title = "File too large"


@dataclass(frozen=True)
class StoredFile:
    key: str
    content_type: str
    size: int
    sha256: str


def human_size(n: int) -> str:
    """`2 MB`, `1.5 KB`, `900 bytes`: a limit people can read (binary units)."""
    for unit, factor in (("GB", 1024 ** 3), ("MB", 1024 ** 2), ("KB", 1024)):
        if n >= factor:
            value = n / factor
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{n} bytes"


def sniff(head: bytes) -> str | None:
    kind = filetype.guess(head)
    return kind.mime if kind else None


def receive(stream: BinaryIO, tmp: BinaryIO, *, max_bytes: int, allowed: dict[str, str],
            what: str) -> StoredFile:
    """Copy `stream` into `tmp`, enforcing the size cap and the sniffed type."""
    digest, size, head = hashlib.sha256(), 0, b""
    while chunk := stream.read(CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise TooLarge(f"The {what} is larger than {human_size(max_bytes)}.")
        if len(head) < SNIFF_BYTES:
            head += chunk[: SNIFF_BYTES - len(head)]
        digest.update(chunk)
        tmp.write(chunk)
    if size == 0:
        raise Invalid(f"The {what} is empty.")
    content_type = sniff(head)
    if content_type not in allowed:
        kinds = ", ".join(sorted(set(allowed.values())))
        raise Invalid(f"The {what} must be one of: {kinds}.")
    key = f"{secrets.token_urlsafe(24)}.{allowed[content_type]}"
    return StoredFile(key=key, content_type=content_type, size=size, sha256=digest.hexdigest())


MAX_KEY_BYTES = 200  # our keys are ~40 characters; a file name may not pass 255 bytes


def check_key(key: str) -> str:
    """A key we could have made: one short file name, no path, no NUL (anything else would
    reach the file system as "file name too long" or "embedded null byte")."""
    if (not key or "/" in key or "\\" in key or "\0" in key or key.startswith(".")
            or len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES):
        raise Invalid("Bad file key.")
    return key


class LocalStorage:
    signed_urls = False

    def __init__(self, root: str):
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / check_key(key)

    def save(self, stream: BinaryIO, *, max_bytes: int, allowed: dict[str, str],
             what: str = "file") -> StoredFile:
        """Store `stream` if its sniffed type is in `allowed` (mime -> extension)."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                stored = receive(stream, out, max_bytes=max_bytes, allowed=allowed, what=what)
            os.replace(tmp, self.path(stored.key))
            return stored
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def size(self, key: str) -> int:
        return self.path(key).stat().st_size

    def exists(self, key: str) -> bool:
        try:
            return self.path(key).is_file()
        except Invalid:
            return False

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def open(self, key: str) -> BinaryIO:
        return self.path(key).open("rb")

    def read(self, key: str) -> bytes:
        return self.path(key).read_bytes()

    def iter_range(self, key: str, start: int, end: int) -> Iterator[bytes]:
        with self.path(key).open("rb") as fh:
            fh.seek(start)
            remaining = end - start + 1
            while remaining > 0:
                chunk = fh.read(min(CHUNK, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
                yield chunk


class S3Storage:
    """An S3-compatible bucket. Files are served by signed URLs (`signed_url`)."""

    signed_urls = True

    def __init__(self, url: str, *, endpoint_url: str | None = None, region: str | None = None,
                 url_ttl: int = 3600):
        import boto3

        bucket, _, prefix = url[len("s3://"):].partition("/")
        self.root = url
        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.url_ttl = url_ttl
        self.client = boto3.client("s3", endpoint_url=endpoint_url, region_name=region)

    def _name(self, key: str) -> str:
        key = check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def save(self, stream: BinaryIO, *, max_bytes: int, allowed: dict[str, str],
             what: str = "file") -> StoredFile:
        with tempfile.TemporaryFile() as tmp:
            stored = receive(stream, tmp, max_bytes=max_bytes, allowed=allowed, what=what)
            tmp.seek(0)
            self.client.upload_fileobj(tmp, self.bucket, self._name(stored.key),
                                       ExtraArgs={"ContentType": stored.content_type})
        return stored

    def size(self, key: str) -> int:
        return self.client.head_object(Bucket=self.bucket, Key=self._name(key))["ContentLength"]

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.size(key)
            return True
        except (ClientError, Invalid):
            return False

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._name(key))

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=self._name(key))["Body"].read()

    def iter_range(self, key: str, start: int, end: int) -> Iterator[bytes]:
        body = self.client.get_object(Bucket=self.bucket, Key=self._name(key),
                                      Range=f"bytes={start}-{end}")["Body"]
        yield from body.iter_chunks(CHUNK)

    def signed_url(self, key: str, *, content_type: str, disposition: str,
                   cache: str = "no-store") -> str:
        """A short-lived URL whose response carries our type, disposition and caching (a paid
        file's `no-store` too: the bucket would otherwise let the browser keep it)."""
        return self.client.generate_presigned_url(
            "get_object", ExpiresIn=self.url_ttl,
            Params={"Bucket": self.bucket, "Key": self._name(key),
                    "ResponseContentType": content_type,
                    "ResponseContentDisposition": disposition,
                    "ResponseCacheControl": cache})


def get_storage() -> LocalStorage | S3Storage:
    target = current_app.config["MEDIA_STORAGE"]
    storage = current_app.extensions.get("storage")
    if storage is None or str(storage.root) != target:
        if target.startswith("s3://"):
            storage = S3Storage(target, endpoint_url=current_app.config.get("S3_ENDPOINT_URL"),
                                region=current_app.config.get("S3_REGION"))
        else:
            storage = LocalStorage(target)
        current_app.extensions["storage"] = storage
    return storage
