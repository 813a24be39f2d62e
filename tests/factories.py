"""Test data factories: plain functions, exposed as `make_*` fixtures in conftest."""
from __future__ import annotations

import itertools

from app.accounts.models import AdminPermission, User
from app.accounts.passwords import hash_password
from app.extensions import db

PASSWORD = "correct horse battery"
_seq = itertools.count(1)


def make_user(*, email: str | None = None, display_name: str | None = None,
              password: str = PASSWORD, permissions: tuple[str, ...] = (), **fields) -> User:
    n = next(_seq)
    user = User(email=(email or f"user{n}@example.test").lower(),
                display_name=display_name or f"User {n}",
                password_hash=hash_password(password) if password else None, **fields)
    for permission in permissions:
        user.permission_grants.append(AdminPermission(permission=permission))
    db.session.add(user)
    db.session.commit()
    return user
