"""Reusable user selects."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from app.accounts.models import User
from app.dbtypes import after_row
from app.extensions import db


def normalise_email(email: str) -> str:
    return email.strip().lower()


def user_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))


def get_user(user_id: int) -> User | None:
    return db.session.get(User, user_id)


def _users_matching(q: str) -> sa.Select:
    """Users whose e-mail or name contains `q` (any case), the newest first."""
    stmt = sa.select(User).order_by(User.created_at.desc(), User.id.desc())
    q = q.strip()
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(sa.or_(User.email.ilike(pattern, escape="\\"),
                                 User.display_name.ilike(pattern, escape="\\")))
    return stmt


def search_users(q: str = "", *, page: int = 1, per_page: int = 25):
    return db.paginate(_users_matching(q), page=max(page, 1), per_page=per_page, error_out=False)


def search_users_after(q: str = "", *, after: tuple[datetime, int] | None = None, limit: int = 25) -> list[User]:
    """The same search a page at a time by position: the users after `after` (a user's
    `(created_at, id)`) in the search's order."""
    stmt = _users_matching(q).limit(limit)
    stmt = stmt.where(after_row(User.created_at, User.id, after))
    return list(db.session.scalars(stmt))
