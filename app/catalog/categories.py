"""The category list: seeded by a migration, edited by admins with `review_courses` (audited)."""
from __future__ import annotations

import sqlalchemy as sa

from app.accounts.models import User
from app.catalog.courses import slugify
from app.catalog.models import Category, Course
from app.catalog.permissions import can_manage_categories
from app.errors import Conflict, Invalid
from app.extensions import db
from app.moderation.audit import record_audit
from app.policy import require


def _clean_name(name: str, *, exclude_id: int | None = None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise Invalid("Give the category a name.", field="name")
    if len(name) > 60:
        raise Invalid("Keep the name under 60 characters.", field="name")
    clash = sa.select(Category.id).where(sa.func.lower(Category.name) == name.lower())
    if exclude_id is not None:
        clash = clash.where(Category.id != exclude_id)
    if db.session.scalar(clash) is not None:
        raise Invalid("A category with this name already exists.", field="name")
    return name


def _unique_slug(name: str, exclude_id: int | None = None) -> str:
    base = slugify(name)
    slug, n = base, 2
    while db.session.scalar(sa.select(Category.id).where(
            Category.slug == slug, Category.id != (exclude_id or 0))) is not None:
        slug, n = f"{base}-{n}", n + 1
    return slug


def add_category(actor: User, *, name: str, ip: str | None = None) -> Category:
    require(can_manage_categories(actor), "manage categories")
    name = _clean_name(name)
    position = (db.session.scalar(sa.select(sa.func.max(Category.position))) or 0) + 1
    category = Category(name=name, slug=_unique_slug(name), position=position)
    db.session.add(category)
    db.session.flush()
    record_audit(actor, "category.added", category, after={"name": name}, ip=ip)
    return category


def rename_category(actor: User, category: Category, *, name: str, ip: str | None = None) -> Category:
    require(can_manage_categories(actor), "manage categories")
    before = {"name": category.name, "slug": category.slug}
    category.name = _clean_name(name, exclude_id=category.id)
    category.slug = _unique_slug(category.name, exclude_id=category.id)
    record_audit(actor, "category.renamed", category, before=before,
                 after={"name": category.name, "slug": category.slug}, ip=ip)
    return category


def delete_category(actor: User, category: Category, *, ip: str | None = None) -> None:
    require(can_manage_categories(actor), "manage categories")
    used = db.session.scalar(sa.select(sa.func.count()).where(Course.category_id == category.id))
    if used:
        raise Conflict(f"{used} course(s) use this category; rename it instead, or move them first.")
    record_audit(actor, "category.deleted", category, before={"name": category.name}, ip=ip)
    db.session.delete(category)


def course_counts() -> dict[int, int]:
    rows = db.session.execute(sa.select(Course.category_id, sa.func.count()).group_by(Course.category_id))
    return {category_id: count for category_id, count in rows if category_id is not None}
