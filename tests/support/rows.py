"""Rows as the database has them now, for tests whose requests and jobs commit in sessions of their own."""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.messaging.models import Notification


def notifications(user, kind: str) -> list[Notification]:
    return list(db.session.scalars(sa.select(Notification).where(
        Notification.user_id == user.id, Notification.kind == kind).order_by(Notification.id)))


def fresh(model, object_id):
    """The row as the database has it now (requests commit in sessions of their own)."""
    db.session.expire_all()
    return db.session.get(model, object_id)


def count(model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


reload = fresh  # the studio tests' name for it
