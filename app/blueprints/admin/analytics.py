"""Platform analytics for finance admins (`/admin/analytics`): money, people, the review queue
and moderation over a chosen period beside the one before, a per-creator breakdown, and every
table as CSV. Every figure is read from the daily rollups (app/analytics)."""
from __future__ import annotations

from flask import request
from flask_login import current_user

from app.analytics import periods
from app.analytics.scope import platform_scope
from app.blueprints import analytics_money
from app.blueprints.admin import bp
from app.blueprints.htmx import render_page
from app.dbtypes import utcnow


@bp.get("/analytics")
def analytics():
    scope = platform_scope(current_user)
    period, problems = periods.parse(request.args, utcnow().date())
    grain = periods.grain(request.args, period)
    ctx = {"scope": scope, "period": period, "previous": period.previous(), "grain": grain,
           "problems": problems, "presets": periods.PRESETS, "grains": periods.GRAINS}
    ctx["money"] = analytics_money.platform_money(scope, period, grain, viewer=current_user)
    return render_page("admin/analytics.html", "figures", **ctx)
