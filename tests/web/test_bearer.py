"""app/blueprints/bearer.py: a request's token resolved, its last-used time kept even by a
read that rolls back (as a browser session's last-seen time is). The room socket's handshake
uses it too (tests/messaging/test_live_connections.py)."""
from __future__ import annotations

from app.accounts.models import ApiToken
from app.extensions import db
from tests.support.api import ApiClient, token_for


def test_a_read_keeps_the_tokens_last_used_time(client, learner):
    caller = ApiClient(client, token_for(learner, "read"))
    token = db.session.query(ApiToken).filter_by(user_id=learner.id).one()
    assert token.last_used_at is None
    assert caller.get("/api/v1/me").status_code == 200  # a GET: the request commits nothing else
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).last_used_at is not None

