"""The creator's analytics: all their courses (`/studio/analytics`) or one course
(`/studio/courses/<id>/analytics`), for a chosen period beside the period before it.

Every figure is read from the daily rollups (app/analytics); the page works without JavaScript
(the period form is a GET) and, while it is open, refreshes its figures when the creator's
stream says they changed.
"""
from __future__ import annotations

from flask import request
from flask_login import current_user

from app.analytics import periods, sections
from app.analytics.scope import Scope, course_scope, creator_scope
from app.blueprints.analytics_cache import figures_page
from app.blueprints.studio import bp
from app.dbtypes import utcnow


def analytics_page(scope: Scope):
    period, problems = periods.parse(request.args, utcnow().date())
    grain = periods.grain(request.args, period)
    ctx = {"scope": scope, "period": period, "previous": period.previous(), "grain": grain,
           "problems": problems, "presets": periods.PRESETS, "grains": periods.GRAINS}
    return figures_page("studio/analytics.html", ctx, lambda: sections.creator_sections(scope, period, grain))


@bp.get("/analytics")
def analytics():
    return analytics_page(creator_scope(current_user, current_user.id))


@bp.get("/courses/<int:course_id>/analytics")
def course_analytics(course_id: int):
    return analytics_page(course_scope(current_user, course_id))
