"""Errors as RFC 9457 problem details (`application/problem+json`).

A route raises `problem(status, detail)` (or a service raises a DomainError); the site's one
error handler (blueprints/errors.py) writes every error under /api/ as a problem document.
"""
from __future__ import annotations

from pydantic import BaseModel, Field

from app.errors import DomainError, NotAllowed


class FieldError(BaseModel):
    field: str = Field(description="The field as a dotted path: `title`, `limit`, `questions.0.text`")
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = Field("about:blank", description="Always about:blank: the status says what kind of problem")
    title: str = Field(description="The status in words")
    status: int
    detail: str = Field(description="What went wrong, in words a person can act on")
    errors: list[FieldError] | None = Field(None, description="For 422: each invalid field")


class ApiProblem(DomainError):
    """A DomainError with any status, response headers and per-field errors."""

    def __init__(self, status: int, detail: str, *, headers: dict[str, str] | None = None,
                 errors: list[dict] | None = None):
        super().__init__(detail)
        self.status = status
        self.headers = headers or {}
        self.errors = errors


def mine_or_404(load, *args, what: str):
    """`load(*args)`: a service's loader of the caller's own object. Someone else's object is
    a 404 here too, as if it did not exist, so an id tells a client nothing (the service's
    own answer, for the pages, is a 403)."""
    try:
        return load(*args)
    except NotAllowed:
        raise ApiProblem(404, f"No such {what}.") from None


def problem(status: int, detail: str, *, headers: dict[str, str] | None = None) -> ApiProblem:
    return ApiProblem(status, detail, headers=headers)


def validation_problem(errors: list[dict]) -> ApiProblem:
    """pydantic's errors as a 422 naming each field: `loc` ("body", "title") → "body.title"."""
    fields = []
    for error in errors:
        where = ".".join(str(part) for part in error.get("loc", ()))
        fields.append({"field": where or "body", "message": error.get("msg", "is invalid")})
    first = fields[0] if fields else {"field": "body", "message": "is invalid"}
    detail = f"{first['field']}: {first['message']}" + (f" (and {len(fields) - 1} more)" if len(fields) > 1 else "")
    return ApiProblem(422, detail, errors=fields)
