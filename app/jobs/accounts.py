"""Account mail jobs (queue `low`): the work a sign-up or a password-reset request must
not do while the visitor waits, because it differs between an address that has an
account and one that has not (issue #13, item 12)."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app

from app.accounts import auth
from app.jobs import job_session


@contextmanager
def links_for(url_root: str) -> Iterator[None]:
    """Links in the mail point where the request came from (host and scheme), as they
    would if the mail had been written during the request."""
    with current_app.test_request_context(base_url=url_root):
        yield


def finish_sign_up(pending: dict, url_root: str) -> None:
    with job_session(), links_for(url_root):
        auth.finish_sign_up(**pending)


def send_password_reset(email: str, url_root: str) -> None:
    with job_session(), links_for(url_root):
        auth.request_password_reset(email=email)
