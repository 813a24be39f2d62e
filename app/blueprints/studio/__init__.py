"""The creator studio: a creator's courses, the course editor (fields, cover, curriculum),
the lesson and quiz editors, earnings and analytics.

Every change is a small POST. With htmx it answers with the changed block of the same
template (a field, the curriculum, the checklist); without JavaScript it redirects back to
the editor (or re-renders it with the error and what was typed), so the studio works
either way. One blueprint, one view module per screen; access.py runs before them all.
"""
from flask import Blueprint

bp = Blueprint("studio", __name__)

from app.blueprints.studio import (
    access,  # noqa: E402,F401
    analytics,  # noqa: E402,F401
    course_editor,  # noqa: E402,F401
    courses,  # noqa: E402,F401
    curriculum,  # noqa: E402,F401
    earnings,  # noqa: E402,F401
    lesson_editor,  # noqa: E402,F401
    quiz_editor,  # noqa: E402,F401
)
