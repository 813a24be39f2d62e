"""Small generated media for demo data and tests: a PNG cover, a one-page PDF, a short video.

Generated in code (no binary blobs from elsewhere); the video is a 2-second clip we rendered
once with ffmpeg's test pattern and keep in `sample_media/`.
"""
from __future__ import annotations

import struct
import zlib
from pathlib import Path

SAMPLE_DIR = Path(__file__).with_name("sample_media")


def png(width: int = 640, height: int = 360, start=(29, 78, 216), end=(124, 58, 237)) -> bytes:
    """A diagonal two-colour gradient as a valid PNG."""
    # 256 shades along the diagonal, looked up per pixel: drawing a cover costs milliseconds,
    # not the seconds that computing each pixel's colour in Python took (the demo draws five).
    shades = [bytes(int(a + (b - a) * k / 255) for a, b in zip(start, end, strict=True))
              for k in range(256)]
    across = [x / max(width - 1, 1) for x in range(width)]
    rows = []
    for y in range(height):
        down = y / max(height - 1, 1)
        rows.append(b"\0" + b"".join([shades[int((dx + down) * 127.5)] for dx in across]))
    raw = zlib.compress(b"".join(rows), 6)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def pdf(title: str, lines: list[str]) -> bytes:
    """A one-page PDF with a title and a few lines of text."""
    def esc(text: str) -> str:
        return text.encode("latin-1", "replace").decode("latin-1").replace("\\", "\\\\") \
            .replace("(", "\\(").replace(")", "\\)")

    ops = ["BT", "/F1 24 Tf", "72 760 Td", f"({esc(title)}) Tj", "/F1 12 Tf"]
    for line in lines:
        ops += ["0 -22 Td", f"({esc(line)}) Tj"]
    ops.append("ET")
    stream = "\n".join(ops).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def video() -> bytes:
    """A 2-second WebM clip (VP8, test pattern)."""
    return (SAMPLE_DIR / "sample.webm").read_bytes()
