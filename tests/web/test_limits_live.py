"""A real server refuses 50 MB bodies without holding them (issue #13, item 5): its
memory grows by less than 20 MB while a 50 MB body streams at each kind of route.

The server is another process (werkzeug's threaded server on this suite's database), so
the resident memory measured (`VmRSS` in /proc) is its own."""
from __future__ import annotations

import select
import socket
import threading
from pathlib import Path

import pytest

from tests.support.apps import app_in_another_process

MB = 1024 * 1024


@pytest.fixture
def server(app):
    # With CSRF on, its check parses the form: the cap must come first.
    with app_in_another_process(app.config, WTF_CSRF_ENABLED=True) as proc:
        yield proc


def rss(pid: int) -> int:
    """The process's resident memory, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def stream_post(port: int, path: str, size: int, *, chunked: bool,
                content_type: str = "application/x-www-form-urlencoded") -> tuple[int, int]:
    """POST `size` bytes made as they are sent, 64 KB at a time, stopping as soon as the
    server answers (as browsers do). Returns the status and how many bytes went out."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    head = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Type: {content_type}"]
    head.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}")
    sent, piece = 0, b"a" * (64 * 1024)
    answer = b""
    try:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        while sent < size:
            if select.select([sock], [], [], 0)[0]:
                break  # the server has answered: stop sending
            data = piece[:size - sent]
            sock.sendall(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)
            sent += len(data)
        else:
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        while b"\r\n" not in answer:
            more = sock.recv(65536)
            if not more:
                break
            answer += more
    except (BrokenPipeError, ConnectionResetError):
        pass
    finally:
        sock.close()
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0
    return status, sent


ROUTES = [("/webhooks/stripe", "application/json"),
          ("/auth/login", "application/x-www-form-urlencoded"),
          ("/auth/signup", "multipart/form-data; boundary=x"),
          ("/auth/settings/avatar", "multipart/form-data; boundary=x")]  # an upload: 2 MiB cap


class PeakMemory(threading.Thread):
    """Samples a process's resident memory every few milliseconds until stopped."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self.done = pid, rss(pid), threading.Event()

    def run(self):
        while not self.done.wait(0.005):
            self.peak = max(self.peak, rss(self.pid))

    def stop(self) -> int:
        self.done.set()
        self.join()
        return max(self.peak, rss(self.pid))


def test_fifty_megabytes_are_refused_without_growing_the_servers_memory(server):
    for path, content_type in ROUTES:  # warm up: every page and error page rendered once
        stream_post(server.port, path, 10, chunked=False, content_type=content_type)
        stream_post(server.port, path, 2 * MB, chunked=True, content_type=content_type)
    before = rss(server.pid)
    sampler = PeakMemory(server.pid)
    sampler.start()
    try:
        for path, content_type in ROUTES:
            for chunked in (False, True):
                status, sent = stream_post(server.port, path, 50 * MB, chunked=chunked,
                                           content_type=content_type)
                assert status == 413, (path, chunked)
                assert sent < 50 * MB, (path, chunked)  # answered before it was all sent
    finally:
        peak = sampler.stop()
    assert peak - before < 20 * MB, f"the server's memory grew by {(peak - before) / MB:.1f} MB"
