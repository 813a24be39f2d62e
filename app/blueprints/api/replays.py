"""`Idempotency-Key` on the POSTs that create or move money: a repeat gets the first answer.

The key, per token, is kept 24 hours in Redis with the response it produced (status, body,
the headers a client reads). While the first request runs, a repeat is a 409; a repeat with
a different body is a 422 (the key was reused for something else). Only a success is kept:
a request that failed moved nothing, so it may be sent again with the same key. The
services under these routes are idempotent themselves where it matters (one order per
checkout session, one ledger transaction per provider event), so a crash between the commit
and the keeping of the answer cannot count money twice either.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from flask import Response, current_app, request
from pydantic import BaseModel, Field

from app.accounts.scopes import Grant
from app.blueprints.api.problems import problem
from app.extensions import get_redis, redis_key

KEPT_SECONDS = 24 * 3600
RUNNING_SECONDS = 120  # a first request still running after this is presumed dead
REPLAYED_HEADERS = ("Content-Type", "Location")


class IdempotencyKey(BaseModel):
    idempotency_key: str = Field(alias="Idempotency-Key", min_length=8, max_length=255,
                                 description="A fresh random value (a UUID) per operation; repeat it to retry safely")


def replay_or_run(grant: Grant, run: Callable[[], Response]) -> Response:
    key = request.headers.get("Idempotency-Key")
    if not key or not 8 <= len(key) <= 255:
        return run()  # the header's validation answers with a 422 naming it
    store = get_redis()
    name = redis_key("api", "idempotency", grant.rate_key, hashlib.sha256(key.encode()).hexdigest())
    fingerprint = hashlib.sha256(b"%s %s\n%s" % (request.method.encode(), request.full_path.encode(),
                                                 request.get_data())).hexdigest()
    if not store.set(name, json.dumps({"fingerprint": fingerprint}), nx=True, ex=RUNNING_SECONDS):
        return _replay(store.get(name), fingerprint)
    try:
        resp = run()
    except BaseException:
        store.delete(name)
        raise
    if 200 <= resp.status_code < 300:
        kept = {"fingerprint": fingerprint, "status": resp.status_code, "body": resp.get_data(as_text=True),
                "headers": {h: resp.headers[h] for h in REPLAYED_HEADERS if h in resp.headers}}
        store.set(name, json.dumps(kept), ex=KEPT_SECONDS)
    else:
        store.delete(name)
    return resp


def _replay(raw: bytes | None, fingerprint: str) -> Response:
    kept = json.loads(raw) if raw else None
    if kept is None:  # the first request just finished with an error and freed the key
        raise problem(409, "A request with this Idempotency-Key just failed; send it again.")
    if kept["fingerprint"] != fingerprint:
        raise problem(422, "This Idempotency-Key was already used for a different request. "
                           "Use a new key for a new operation.")
    if "status" not in kept:
        raise problem(409, "A request with this Idempotency-Key is still being processed. "
                           "Retry in a moment.", headers={"Retry-After": "1"})
    resp = current_app.response_class(kept["body"], kept["status"], headers=kept["headers"])
    resp.headers["Idempotent-Replayed"] = "true"
    return resp
