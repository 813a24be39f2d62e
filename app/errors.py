"""Domain errors. Services raise them; one handler (app/blueprints/errors.py) maps them
to responses, so a rule broken anywhere gives the same clear 4xx everywhere."""
from __future__ import annotations


class DomainError(Exception):
    status = 400
    title = "Bad request"

    def __init__(self, message: str = "", *, field: str | None = None):
        super().__init__(message or self.title)
        self.message = message or self.title
        self.field = field  # the form field the message belongs to, when there is one


class NotFound(DomainError):
    status = 404
    title = "Not found"


class NotAllowed(DomainError):
    status = 403
    title = "Not allowed"

    def __init__(self, action: str = "", **kwargs):
        message = f"You are not allowed to {action}." if action else "You are not allowed to do that."
        super().__init__(message, **kwargs)


class Conflict(DomainError):
    status = 409
    title = "Conflict"


class Invalid(DomainError):
    status = 422
    title = "Invalid input"


class TooFast(DomainError):
    """A per-user rate limit or a room's slow mode: try again in `retry_after` seconds."""

    status = 429
    title = "Too many requests"

    def __init__(self, message: str = "", *, retry_after: int = 1, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = max(int(retry_after), 1)
