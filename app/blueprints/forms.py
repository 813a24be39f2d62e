"""Helpers shared by every form view."""
from __future__ import annotations

from flask_wtf import FlaskForm

from app.errors import DomainError


def attach_error(form: FlaskForm, exc: DomainError) -> None:
    """Show a service's error on the field it names (or above the form)."""
    field = getattr(form, exc.field, None) if exc.field else None
    if field is not None:
        field.errors = [*field.errors, exc.message] if isinstance(field.errors, list) else [exc.message]
    else:
        form.form_errors.append(exc.message)
