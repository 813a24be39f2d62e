"""Uploads made in the tests: PNG images of any size, and request bodies that count how much of
them the server read."""
from __future__ import annotations

import io
import struct
import zlib


def png(width: int = 1, height: int = 1, padding: int = 0) -> bytes:
    """A valid PNG made here; `padding` bytes of an ancillary chunk make it as large as needed."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    raw = b"".join(b"\x00" + b"\x10\x20\x30" * width for _ in range(height))
    parts = [b"\x89PNG\r\n\x1a\n",
             chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))]
    if padding:
        parts.append(chunk(b"zzZz", b"\x00" * padding))
    parts += [chunk(b"IDAT", zlib.compress(raw)), chunk(b"IEND", b"")]
    return b"".join(parts)


class CountingStream(io.BytesIO):
    """A request body that remembers how much of it the server read."""

    def __init__(self, data: bytes):
        super().__init__(data)
        self.consumed = 0

    def read(self, size=-1):
        chunk = super().read(size)
        self.consumed += len(chunk)
        return chunk

    def readline(self, size=-1):
        line = super().readline(size)
        self.consumed += len(line)
        return line


def multipart(field: str, filename: str, payload: bytes) -> tuple[bytes, str]:
    boundary = "lyceum-test-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n").encode() + payload + \
        f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def post_oversized(client, url: str, field: str, filename: str, payload: bytes, headers=None):
    body, content_type = multipart(field, filename, payload)
    stream = CountingStream(body)
    resp = client.post(url, input_stream=stream, content_type=content_type,
                       content_length=len(body), headers=headers or {})
    return resp, stream

