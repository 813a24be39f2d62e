"""Creating a course and editing its details (the studio's services)."""
from __future__ import annotations

import re
import secrets
import unicodedata
from datetime import datetime
from typing import BinaryIO

import sqlalchemy as sa
from flask import current_app

from app.accounts.models import User
from app.accounts.profile import accept_creator_terms
from app.catalog.editing import ensure_editable
from app.catalog.errors import IllegalTransition
from app.catalog.media import store_asset
from app.catalog.models import LANGUAGES, LEVELS, Category, Course
from app.catalog.permissions import can_create_course, can_edit_course
from app.catalog.queries import slug_taken
from app.dbtypes import row_id, utcnow
from app.errors import Invalid, NotFound
from app.extensions import db
from app.money import parse_amount
from app.policy import require

TITLE_MAX, SUBTITLE_MAX, DESCRIPTION_MAX = 120, 200, 20_000
EDITABLE_FIELDS = ("title", "subtitle", "description", "category_id", "level", "language")


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:100] or "course"


def unique_slug(title: str) -> str:
    base = slugify(title)
    slug = base
    while slug_taken(slug):
        slug = f"{base}-{secrets.token_hex(3)}"
    return slug


def clean_title(title: str) -> str:
    title = " ".join((title or "").split())
    if not title:
        raise Invalid("Give the course a title.", field="title")
    if len(title) > TITLE_MAX:
        raise Invalid(f"Keep the title under {TITLE_MAX} characters (it has {len(title)}).",
                      field="title")
    return title


def clean_category(category_id) -> int:
    if category_id in (None, ""):
        raise Invalid("Choose a category.", field="category_id")
    category_id = row_id(category_id)
    if category_id is None or db.session.get(Category, category_id) is None:
        raise Invalid("Choose a category from the list.", field="category_id")
    return category_id


def create_course(actor: User, *, title: str, category_id, accept_terms: bool = False,
                  now: datetime | None = None) -> Course:
    """A new draft owned by `actor`. The first course needs the creator terms accepted."""
    require(can_create_course(actor), "create a course")
    if actor.creator_terms_accepted_at is None and not accept_terms:
        raise Invalid("Accept the creator terms to publish courses on Lyceum.", field="accept_terms")
    title = clean_title(title)
    category_id = clean_category(category_id)
    accept_creator_terms(actor, now=now)
    course = Course(creator_id=actor.id, title=title, slug=unique_slug(title),
                    category_id=category_id, currency=current_app.config["DEFAULT_CURRENCY"],
                    created_at=now or utcnow(), updated_at=now or utcnow())
    db.session.add(course)
    db.session.flush()
    return course


def update_course_field(actor: User, course: Course, field: str, value: str) -> Course:
    """Change one detail. Published courses stay live while they are edited."""
    require(can_edit_course(actor, course), "edit this course")
    ensure_editable(course)
    if field not in EDITABLE_FIELDS:
        raise Invalid(f"{field!r} cannot be edited here.")
    value = value if value is not None else ""
    if field == "title":
        course.title = clean_title(value)
    elif field == "subtitle":
        value = " ".join(value.split())
        if len(value) > SUBTITLE_MAX:
            raise Invalid(f"Keep the subtitle under {SUBTITLE_MAX} characters.", field="subtitle")
        course.subtitle = value
    elif field == "description":
        if len(value) > DESCRIPTION_MAX:
            raise Invalid(f"Keep the description under {DESCRIPTION_MAX:,} characters.",
                          field="description")
        course.description = value.strip()
    elif field == "category_id":
        course.category_id = clean_category(value)
    elif field == "level":
        if value not in LEVELS:
            raise Invalid("Choose a level from the list.", field="level")
        course.level = value
    elif field == "language":
        if value not in LANGUAGES:
            raise Invalid("Choose a language from the list.", field="language")
        course.language = value
    course.updated_at = utcnow()
    return course


def clean_price(price: str | int) -> int:
    """A course price in cents: free (0) or between the configured minimum and maximum."""
    minor = parse_amount(price, field="price")
    cfg = current_app.config
    if 0 < minor < cfg["COURSE_MIN_PRICE_MINOR"]:
        raise Invalid(f"Paid courses cost at least {cfg['COURSE_MIN_PRICE_MINOR'] / 100:.2f}; "
                      "enter 0 to make it free.", field="price")
    if minor > cfg["COURSE_MAX_PRICE_MINOR"]:
        raise Invalid(f"The highest price is {cfg['COURSE_MAX_PRICE_MINOR'] / 100:,.2f}.",
                      field="price")
    return minor


def set_price(actor: User, course: Course, price: str | int) -> Course:
    """Free (0) or between the configured minimum and maximum, in whole cents."""
    require(can_edit_course(actor, course), "edit this course")
    ensure_editable(course)
    course.price_minor = clean_price(price)
    course.updated_at = utcnow()
    return course


def set_cover(actor: User, course: Course, stream: BinaryIO, filename: str = "") -> Course:
    require(can_edit_course(actor, course), "edit this course")
    ensure_editable(course)
    course.cover = store_asset(actor, stream, kind="image", filename=filename)
    course.updated_at = utcnow()
    return course


def delete_course(actor: User, course: Course) -> None:
    """Only a course that was never published can be deleted; others are unpublished."""
    require(can_edit_course(actor, course), "delete this course")
    if course.published_at is not None or course.status not in ("draft",):
        raise IllegalTransition("Only a draft that was never published can be deleted; "
                                "unpublish it instead.")
    db.session.delete(course)


def lock_outline(course_id: int) -> Course:
    """The course, its row locked until the transaction ends (SELECT ... FOR UPDATE on
    PostgreSQL; SQLite's one writer at a time already serialises), and everything read before
    the lock forgotten: the sections and lessons are read again as the last change left them."""
    db.session.flush()
    db.session.expire_all()
    course = db.session.scalar(sa.select(Course).where(Course.id == course_id).with_for_update())
    if course is None:
        raise NotFound("No such course.")
    return course
