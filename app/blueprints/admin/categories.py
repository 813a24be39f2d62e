"""Admin: the category list."""
from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_login import current_user

from app.blueprints.admin import bp
from app.blueprints.htmx import client_ip, render_page
from app.catalog import categories as category_service
from app.catalog.models import Category
from app.catalog.permissions import can_manage_categories
from app.catalog.queries import categories
from app.errors import Invalid, NotFound
from app.extensions import db
from app.policy import require


def _page(status: int = 200, **extra):
    ctx = {"categories": categories(), "counts": category_service.course_counts(), "errors": {},
           "typed": {}, **extra}
    return render_page("admin/categories.html", "category_list", status=status, **ctx)


def _category(category_id: int) -> Category:
    category = db.session.get(Category, category_id)
    if category is None:
        raise NotFound("No such category.")
    return category


@bp.get("/categories")
def category_list():
    require(can_manage_categories(current_user), "manage categories")
    return _page()


@bp.post("/categories")
def category_add():
    name = request.form.get("name", "")
    try:
        category_service.add_category(current_user, name=name, ip=client_ip())
        db.session.commit()
    except Invalid as exc:
        db.session.rollback()
        return _page(422, errors={"new": exc.message}, typed={"new": name})
    flash(f"Added the category “{name.strip()}”.", "success")
    return redirect(url_for("admin.category_list"))


@bp.post("/categories/<int:category_id>/rename")
def category_rename(category_id: int):
    category = _category(category_id)
    name = request.form.get("name", "")
    try:
        category_service.rename_category(current_user, category, name=name, ip=client_ip())
        db.session.commit()
    except Invalid as exc:
        db.session.rollback()
        return _page(422, errors={category_id: exc.message}, typed={category_id: name})
    flash("Category renamed.", "success")
    return redirect(url_for("admin.category_list"))


@bp.post("/categories/<int:category_id>/delete")
def category_delete(category_id: int):
    category_service.delete_category(current_user, _category(category_id), ip=client_ip())
    db.session.commit()
    flash("Category deleted.", "success")
    return redirect(url_for("admin.category_list"))
