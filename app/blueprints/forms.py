"""Helpers shared by every form view."""
from __future__ import annotations

from flask_wtf import FlaskForm

from app.errors import DomainError


def attach_error(form: FlaskForm, exc: DomainError, **aliases: str) -> None:
    """Show a service's error on the field it names (or above the form).

    `aliases` maps the service's field name to this form's, where they differ
    (`attach_error(form, exc, password="new_password")`)."""
    name = aliases.get(exc.field, exc.field) if exc.field else None
    field = form[name] if name and name in form else None  # form fields only, not attributes
    if field is not None:
        field.errors = [*field.errors, exc.message]
    else:
        form.form_errors.append(exc.message)
