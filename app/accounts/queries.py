"""Reusable user selects."""
from __future__ import annotations

import sqlalchemy as sa

from app.accounts.models import User
from app.extensions import db


def normalise_email(email: str) -> str:
    return email.strip().lower()


def user_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))


def get_user(user_id: int) -> User | None:
    return db.session.get(User, user_id)


def search_users(q: str = "", *, page: int = 1, per_page: int = 25):
    stmt = sa.select(User).order_by(User.created_at.desc(), User.id.desc())
    q = q.strip()
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(sa.or_(User.email.ilike(pattern, escape="\\"),
                                 User.display_name.ilike(pattern, escape="\\")))
    return db.paginate(stmt, page=max(page, 1), per_page=per_page, error_out=False)
