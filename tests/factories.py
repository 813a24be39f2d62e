"""Test data factories: plain functions, exposed as `make_*` fixtures in conftest."""
from __future__ import annotations

import itertools

import sqlalchemy as sa

from app.accounts.models import AdminPermission, User
from app.accounts.passwords import hash_password
from app.catalog.models import Category, Course
from app.dbtypes import utcnow
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


def make_course(creator: User | None = None, *, title: str | None = None, status: str = "draft",
                price_minor: int = 0, category_id: int | None = None, **fields) -> Course:
    """A bare course row (no sections or lessons) in `status`; published and unpublished
    courses get a `published_at`. Build complete courses through the catalog services."""
    n = next(_seq)
    creator = creator or make_user()
    if category_id is None:
        category_id = db.session.scalar(sa.select(Category.id).order_by(Category.position).limit(1))
    title = title or f"Course {n}"
    if status in ("published", "unpublished"):
        fields.setdefault("published_at", utcnow())
    course = Course(creator_id=creator.id, title=title, slug=f"course-{n}", status=status,
                    price_minor=price_minor, category_id=category_id, **fields)
    db.session.add(course)
    db.session.commit()
    return course
