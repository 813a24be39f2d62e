"""Platform analytics for finance admins (`/admin/analytics`): money, people, the review queue
and moderation over a chosen period beside the one before, a per-creator breakdown, and every
table as CSV. Every figure is read from the daily rollups (app/analytics)."""
from __future__ import annotations

import csv
import io
import re

from flask import Response, request
from flask_login import current_user

from app.accounts.queries import get_user
from app.analytics import periods, sections
from app.analytics.scope import creator_scope, platform_scope
from app.blueprints.admin import bp
from app.blueprints.analytics_cache import figures_page
from app.blueprints.htmx import render_page, wants_fragment
from app.dbtypes import utcnow
from app.errors import NotFound


def _period():
    period, problems = periods.parse(request.args, utcnow().date())
    return period, problems, periods.grain(request.args, period)


@bp.get("/analytics")
def analytics():
    scope = platform_scope(current_user)
    period, problems, grain = _period()
    ctx = {"scope": scope, "period": period, "previous": period.previous(), "grain": grain,
           "problems": problems, "presets": periods.PRESETS, "grains": periods.GRAINS}
    # The money tables link creators to their user page only for admins who manage users.
    return figures_page("admin/analytics.html", ctx,
                        lambda: sections.platform_sections(scope, period, grain, viewer=current_user),
                        vary=f"users:{current_user.has_permission('manage_users')}")


_FORMULA = re.compile(r"^[=+\-@\t\r]")
_NUMBER = re.compile(r"^-?\d[\d.]*( [A-Z]{3})?$")


def spreadsheet_safe(text: str) -> str:
    """A cell a spreadsheet will not run as a formula (course titles are anyone's text)."""
    return "'" + text if _FORMULA.match(text) and not _NUMBER.match(text) else text


@bp.get("/analytics/<table_id>.csv")
def analytics_csv(table_id: str):
    platform_scope(current_user)
    period, _problems, grain = _period()
    table = next((t for t in sections.platform_page_tables(period, grain) if t.id == table_id), None)
    if table is None:
        raise NotFound("There is no such table.")
    out = io.StringIO()
    writer = csv.writer(out)
    for row in table.csv_rows():
        writer.writerow([spreadsheet_safe(cell) for cell in row])
    name = re.sub(r"[^a-z0-9-]+", "-", table.id.lower()).strip("-") or "table"
    filename = f"lyceum-{name}-{period.start.isoformat()}-to-{period.end.isoformat()}.csv"
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/analytics/creators/<int:creator_id>")
def creator_analytics(creator_id: int):
    """One creator's figures, read-only, for a finance admin (the studio page's sections)."""
    platform_scope(current_user)  # an admin page: finance admins only, even for one's own figures
    creator = get_user(creator_id)
    if creator is None:
        raise NotFound("There is no such creator.")
    scope = creator_scope(current_user, creator.id)
    period, problems, grain = _period()
    ctx = {"scope": scope, "period": period, "previous": period.previous(), "grain": grain,
           "problems": problems, "presets": periods.PRESETS, "grains": periods.GRAINS,
           "creator": creator, **sections.creator_sections(scope, period, grain)}
    # The fragment is the studio page's own figures block (the sections need nothing else).
    template = "studio/analytics.html" if wants_fragment() else "admin/analytics/creator.html"
    return render_page(template, "figures", **ctx)
