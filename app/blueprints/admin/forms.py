from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional


class SuspendForm(FlaskForm):
    reason = TextAreaField("Reason (the user sees it)", validators=[DataRequired(), Length(max=2000)])
    until = DateField("Suspended until (optional; empty means until reinstated)",
                      validators=[Optional()])


class PermissionForm(FlaskForm):
    permission = HiddenField(validators=[DataRequired()])


class EmptyForm(FlaskForm):
    """A CSRF-protected button."""
