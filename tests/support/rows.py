"""Rows as the database has them now, for tests whose requests and jobs commit in sessions of their own."""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.messaging.models import Notification


def notifications(user, kind: str) -> list[Notification]:
    return list(db.session.scalars(sa.select(Notification).where(
        Notification.user_id == user.id, Notification.kind == kind).order_by(Notification.id)))

