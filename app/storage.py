"""Media storage: one interface, local disk by default (ARCHITECTURE §7, §12).

Files are streamed in chunks, capped in size while they arrive, typed by sniffing their
content (never by name or the browser's header), and stored under random names.
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


class TooLarge(DomainError):
    status = 413
    title = "File too large"


@dataclass(frozen=True)
class StoredFile:
    key: str
    content_type: str
    size: int
    sha256: str


def sniff(head: bytes) -> str | None:
    kind = filetype.guess(head)
    return kind.mime if kind else None


class LocalStorage:
    def __init__(self, root: str):
        self.root = Path(root)

    def path(self, key: str) -> Path:
        if not key or "/" in key or key.startswith("."):
            raise Invalid("Bad file key.")
        return self.root / key

    def save(self, stream: BinaryIO, *, max_bytes: int, allowed: dict[str, str],
             what: str = "file") -> StoredFile:
        """Store `stream` if its sniffed type is in `allowed` (mime -> extension)."""
        self.root.mkdir(parents=True, exist_ok=True)
        digest, size = hashlib.sha256(), 0
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                head = b""
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise TooLarge(f"The {what} is larger than {max_bytes // (1024 * 1024)} MB.")
                    if len(head) < 8192:
                        head += chunk[: 8192 - len(head)]
                    digest.update(chunk)
                    out.write(chunk)
            content_type = sniff(head)
            if size == 0:
                raise Invalid(f"The {what} is empty.")
            if content_type not in allowed:
                kinds = ", ".join(sorted(set(allowed.values())))
                raise Invalid(f"The {what} must be one of: {kinds}.")
            key = f"{secrets.token_urlsafe(24)}.{allowed[content_type]}"
            os.replace(tmp, self.path(key))
            return StoredFile(key=key, content_type=content_type, size=size, sha256=digest.hexdigest())
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def open(self, key: str) -> BinaryIO:
        return self.path(key).open("rb")

    def size(self, key: str) -> int:
        return self.path(key).stat().st_size

    def exists(self, key: str) -> bool:
        try:
            return self.path(key).is_file()
        except Invalid:
            return False

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def iter_range(self, key: str, start: int, end: int) -> Iterator[bytes]:
        with self.open(key) as fh:
            fh.seek(start)
            remaining = end - start + 1
            while remaining > 0:
                chunk = fh.read(min(CHUNK, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
                yield chunk


def get_storage() -> LocalStorage:
    target = current_app.config["MEDIA_STORAGE"]
    if target.startswith("s3://"):
        raise RuntimeError("MEDIA_STORAGE=s3:// is not available yet; use a local path.")
    storage = current_app.extensions.get("storage")
    if storage is None or str(storage.root) != target:
        storage = current_app.extensions["storage"] = LocalStorage(target)
    return storage
