"""`flask demo-data` (run by `make run`): the demo accounts, courses, purchases and
conversations, made through the services; running it again changes nothing."""
from __future__ import annotations

import sqlalchemy as sa

from app.accounts.queries import user_by_email
from app.demo import DEMO_PASSWORD, load_demo_data
from app.extensions import db
from app.messaging.models import ChatMessage, Conversation, DirectMessage


def _counts() -> dict[str, int]:
    return {model.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in (ChatMessage, Conversation, DirectMessage)}


def test_demo_data_gives_every_page_something_to_show_and_is_idempotent(app, db):
    result = app.test_cli_runner().invoke(args=["demo-data"])
    assert result.exit_code == 0, result.output
    for email in ("admin@example.com", "creator@example.com", "learner@example.com"):
        assert email in result.output
    learner, creator = user_by_email("learner@example.com"), user_by_email("creator@example.com")
    from app.accounts.passwords import verify_password
    assert verify_password(learner.password_hash, DEMO_PASSWORD)
    counts = _counts()
    assert counts == {"chat_message": 3, "conversation": 1, "direct_message": 2}
    mention = db.session.scalar(sa.select(ChatMessage).where(ChatMessage.author_id == learner.id))
    assert "@ChrisCreator" in mention.body
    with app.test_request_context():
        assert load_demo_data() == [] and _counts() == counts  # a second `make run`
    assert creator.balance >= 0
