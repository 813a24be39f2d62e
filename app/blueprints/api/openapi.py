"""How an API route is declared, and the OpenAPI 3.1 document made from the declarations.

spectree (pydantic v2 models) does the validating and the describing: one model checks a
request's query or body, checks and serialises its response, and becomes a JSON Schema
2020-12 component of the document, which is the schema dialect OpenAPI 3.1 uses. It works
on a plain Flask blueprint, so the site's own error handlers and pages are untouched.

`operation(...)` wraps `spec.validate` with what every route of ours shares: the scope the
token must hold (401 without a token, 403 without the scope), the problem responses each
route can give, a JSON body only as `application/json` (415 otherwise), and the
`Idempotency-Key` header on the POSTs that create or move money.
"""
from __future__ import annotations

import copy
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import g, request
from pydantic import BaseModel, ConfigDict, Field
from spectree import Response, SecurityScheme, SecuritySchemeData, SpecTree

from app.accounts.scopes import ALL_SCOPES
from app.blueprints.api.problems import Problem, problem, validation_problem
from app.blueprints.api.replays import IdempotencyKey, replay_or_run

API_PREFIX = "/api/v1"


def _raise_validation_problem(req, resp, req_validation_error, instance, model_adapter) -> None:
    """spectree's hook after it validated a request: our 422 problem instead of its list."""
    if req_validation_error is not None:
        raise validation_problem(model_adapter.validation_errors(req_validation_error))


_NAMED: dict[str, type] = {}


def _schema_name(model: type) -> str:
    """A model's schema is named after its class; two models of one name would overwrite
    each other in the document, so that is an error when the second is declared."""
    name = model.__name__
    if _NAMED.setdefault(name, model) is not model:
        raise TypeError(f"two API models are named {name}: {_NAMED[name].__module__} and {model.__module__}")
    return name


spec = SpecTree(
    "flask",
    mode="strict",  # only routes declared with operation() are in the document
    title="Lyceum API",
    version="1.0.0",
    description=(
        "The Lyceum course marketplace: the catalog, the studio, learning, money and messaging, "
        "as the web pages offer them. Authenticate with `Authorization: Bearer <token>`: a "
        "personal access token made in your account settings, or an OAuth 2.0 access token "
        "(authorization code with PKCE). Errors are RFC 9457 problem details. Money is integer "
        "minor units with an ISO 4217 currency; times are ISO 8601 in UTC."),
    path="api/v1/_spectree",  # spectree's own pages are not registered; this keeps its paths clear
    security_schemes=[
        SecurityScheme(name="bearer", data=SecuritySchemeData(
            type="http", scheme="bearer", description="A personal access token or an OAuth 2.0 access token")),
        SecurityScheme(name="oauth2", data=SecuritySchemeData(type="oauth2", flows={"authorizationCode": {
            "authorizationUrl": "/oauth/authorize", "tokenUrl": "/oauth/token",
            "refreshUrl": "/oauth/token", "scopes": ALL_SCOPES}})),
    ],
    naming_strategy=lambda model: _schema_name(model),
    nested_naming_strategy=lambda parent, child: child,
    before=_raise_validation_problem,
    validation_error_status=422,
    validation_error_model=Problem,
)


class ApiModel(BaseModel):
    """Base of every request and response model: unknown fields in a request body are a
    422 (a typo is not silently ignored); names are the JSON names."""

    model_config = ConfigDict(extra="forbid")


class Page(ApiModel):
    """A page of a list: follow `next_cursor` until it is null."""

    next_cursor: str | None = Field(None, description="Pass as `cursor` for the next page; null on the last page")


class CursorQuery(ApiModel):
    cursor: str | None = Field(None, max_length=200, description="From the previous page's `next_cursor`")
    limit: int = Field(20, ge=1, le=100, description="Items per page")


# The problem responses a route can give, by what it declares. Every route can answer 400:
# the site refuses a request carrying a NUL character before any view (security.py).
_ALWAYS = {"HTTP_400": Problem, "HTTP_429": Problem}
# Operation ids of the routes answering with a stream (events, a file), and its media types.
_STREAMS: dict[str, tuple[str, ...]] = {}
_WITH_TOKEN = {"HTTP_401": Problem, "HTTP_403": Problem}


def operation(*, tags: list[str], scope: str | None = None, token: bool = False, ok: int = 200,
              model: type | None = None, query: type | None = None, json: type | None = None,
              form: type | None = None,
              idempotent: bool = False, not_found: bool = False, conflict: bool = False,
              optional_token: bool = False, stream: str | None = None,
              media_types: tuple[str, ...] = ("text/event-stream",)) -> Callable:
    """Declare an API route.

    `scope`: the token must hold it; `token`: any token will do (None and False: public;
    with `optional_token` a token, when sent, may show more). `ok`/`model`: the success
    status and its body model (None: no body).
    `query`/`json`/`form`: the models of the query string, a JSON body and a multipart
    form (an upload: the view reads the file from `request.files`). `idempotent`: a POST
    that creates or moves money; it needs an `Idempotency-Key` header and a repeat gets the
    first response. `not_found`/`conflict`: the route can answer 404/409.
    `stream`: the route answers with a stream of `media_types` (events, a file; no model);
    the text describes it. spectree would read a streamed response whole to check it, so
    the view's response goes around spectree's response handling (the request is still
    validated), and it gets no ETag.
    """
    statuses: dict[str, Any] = {f"HTTP_{ok}": model} if model is not None else {}
    if stream is not None:
        statuses[f"HTTP_{ok}"] = (None, stream)
    if scope is not None or token or optional_token:
        statuses |= _WITH_TOKEN
    if not_found:
        statuses["HTTP_404"] = Problem
    if conflict or idempotent:
        statuses["HTTP_409"] = Problem
    if json is not None or form is not None:  # a body: of the wrong type, or over the size cap
        statuses["HTTP_415"] = Problem
        statuses["HTTP_413"] = Problem
    statuses |= _ALWAYS
    response = Response(*([] if model is not None or stream is not None else [f"HTTP_{ok}"]), **statuses)
    security = [{"bearer": []}, {"oauth2": [scope] if scope else []}] if scope or token else None

    def decorate(view: Callable) -> Callable:
        # "<module>_<function>": the operationId, and the endpoint (`api.studio_cover`), so two
        # resource modules may both have a `detail` view.
        name = f"{view.__module__.rsplit('.', 1)[-1]}_{view.__name__}"
        inner = view
        if stream is not None:
            _STREAMS[name] = media_types

            @wraps(view)
            def inner(*args, **kwargs):
                g.api_stream = view(*args, **kwargs)
                return "", ok  # what spectree sees; `guarded` answers with the stream

        validated = spec.validate(query=query, json=json, form=form, resp=response, tags=tags, security=security,
                                  headers=IdempotencyKey if idempotent else None, operation_id=name)(inner)

        @wraps(validated)
        def guarded(*args, **kwargs):
            if scope is not None or token:
                require_scope(scope)
            if json is not None and request.mimetype != "application/json":
                raise problem(415, "Send the body as JSON, with `Content-Type: application/json`.")
            if form is not None and request.mimetype != "multipart/form-data":
                raise problem(415, "Send the file as `multipart/form-data`.")
            if idempotent:
                return replay_or_run(g.api_grant, lambda: validated(*args, **kwargs))
            if stream is not None:
                validated(*args, **kwargs)
                g.api_streamed = True
                return g.pop("api_stream")
            return validated(*args, **kwargs)

        guarded.__name__ = name
        return guarded

    return decorate


def require_scope(scope: str | None) -> None:
    """A 401 without a token; a 403 when the token lacks `scope` (None: any token)."""
    grant = g.get("api_grant")
    if grant is None:
        raise problem(401, "This needs a bearer token: `Authorization: Bearer <token>`.",
                      headers={"WWW-Authenticate": 'Bearer realm="lyceum"'})
    if scope is not None and not grant.allows(scope):
        challenge = f'Bearer realm="lyceum", error="insufficient_scope", scope="{scope}"'
        raise problem(403, f"This token does not have the `{scope}` scope.",
                      headers={"WWW-Authenticate": challenge})


def openapi_document() -> dict:
    """The OpenAPI 3.1 document: spectree's, with our server URL, problem details declared
    as `application/problem+json` (spectree names every body application/json), and streams
    (events, files) by their media types."""
    doc = copy.deepcopy(spec.spec)
    doc["servers"] = [{"url": "/", "description": "This Lyceum"}]
    # Readers come for the catalog and their account first; the admin's tags go last.
    doc["tags"] = sorted(doc.get("tags", []), key=lambda tag: tag["name"].startswith("Admin"))
    for path_item in doc["paths"].values():
        for op in path_item.values():
            if op.get("operationId") in _STREAMS:
                for status, response in op["responses"].items():
                    if status.startswith("2"):
                        response["content"] = {media_type: {"schema": {"type": "string"}}
                                               for media_type in _STREAMS[op["operationId"]]}
            for status, response in op.get("responses", {}).items():
                content = response.get("content", {})
                if status.startswith(("4", "5")) and "application/json" in content:
                    content["application/problem+json"] = content.pop("application/json")
    return doc
