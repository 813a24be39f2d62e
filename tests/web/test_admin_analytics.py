"""/admin/analytics (app/blueprints/admin/analytics.py): the platform's figures for finance
admins, every table as CSV, one creator's figures read-only, and every way in that is refused."""
from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest

from app.analytics.models import DurationDay, PlatformDay
from app.analytics.rollups import bump
from app.blueprints.admin.analytics import spreadsheet_safe
from app.commerce.models import Payout
from app.dbtypes import utcnow
from app.extensions import db
from tests.support.pages import HX, assert_fragment, assert_page, words

TODAY = utcnow().date()


@pytest.fixture
def finance(make_user):
    return make_user(email="finance@example.test", display_name="Fin Admin", permissions=("manage_finance",))


@pytest.fixture
def figures(creator, make_course):
    """A busy week: this period's figures, last period's, and things waiting now."""
    bump(PlatformDay, {"day": TODAY}, new_learners=12, new_creators=2, submissions=5, approvals=3,
         rejections=1, reports_opened=4, reports_resolved=2, disputes_opened=1, disputes_lost=1)
    bump(PlatformDay, {"day": TODAY - timedelta(days=40)}, new_learners=6)
    bump(DurationDay, {"metric": "review_decision", "scope_id": 0, "day": TODAY, "hours": 30}, count=1)
    make_course(creator, status="under_review", submitted_at=utcnow())
    db.session.add_all([
        Payout(creator_id=creator.id, amount_minor=5000, currency="USD", provider="paypal", destination="c@x.test",
               status="paid", created_at=utcnow(), settled_at=utcnow()),
        Payout(creator_id=creator.id, amount_minor=9000, currency="USD", provider="paypal", destination="c@x.test",
               status="awaiting_approval", created_at=utcnow()),
        Payout(creator_id=creator.id, amount_minor=2500, currency="USD", provider="paypal", destination="c@x.test",
               status="processing", created_at=utcnow()),
    ])
    db.session.commit()


def csv_links(resp) -> list[str]:
    return re.findall(r'href="(/admin/analytics/[^"]+\.csv[^"]*)"', resp.get_data(as_text=True))


def read_csv(resp) -> list[list[str]]:
    return list(csv.reader(io.StringIO(resp.get_data(as_text=True))))


# --- the page -----------------------------------------------------------------------------

def test_the_page_shows_every_section_with_the_previous_period(client, login, finance, figures):
    login(finance)
    resp = client.get("/admin/analytics")
    assert_page(resp)
    page = words(resp)
    for heading in ("People", "Review queue", "Moderation", "Disputes", "Payouts"):
        assert f" {heading} " in page
    assert "New learners 12 ▲ Up 100% on 6" in page  # 40 days ago: in the 30 days before
    assert "New creators 2 New: none in the previous period" in page
    assert "Median time to a decision 30 hours No decisions in the previous period" in page
    assert "Waiting for review now 1" in page
    assert "Reports open now 0" in page
    assert "Dispute rate —" in page  # no sales in the period
    assert "Sent in the period $50.00 1 payout in USD" in page
    assert "Waiting now 2" in page
    assert "Needing an admin's approval USD 1 $90.00" in page
    assert "Being sent (in flight) USD 1 $25.00" in page


def test_the_fragment_is_the_figures_alone(htmx, login, finance, figures):
    login(finance)
    resp = htmx.get("/admin/analytics?range=7d")
    assert_fragment(resp, "Review queue")
    assert 'action="/admin/analytics"' not in resp.get_data(as_text=True)


def test_a_period_it_cannot_use_is_a_message_not_an_error(client, login, finance):
    login(finance)
    for query in ("range=forever", "from=yesterday&to=today", "from=2026-02-30"):
        resp = client.get(f"/admin/analytics?{query}")
        assert_page(resp)
        assert 'role="alert"' in resp.get_data(as_text=True)


def test_the_previous_period_is_compared(client, login, finance, figures):
    login(finance)
    resp = client.get(f"/admin/analytics?from={(TODAY - timedelta(days=59)).isoformat()}&to={(TODAY - timedelta(days=30)).isoformat()}")
    assert "New learners 6" in words(resp)


# --- CSV ------------------------------------------------------------------------------------

def test_every_table_on_the_page_downloads_as_csv(client, login, finance, figures):
    login(finance)
    links = csv_links(client.get("/admin/analytics?range=7d"))
    ids = {re.match(r"/admin/analytics/([a-z0-9-]+)\.csv", link).group(1) for link in links}
    assert {"new-people", "review-queue", "moderation", "disputes", "payouts-sent", "payouts-waiting"} <= ids
    for link in links:
        resp = client.get(link.replace("&amp;", "&"))
        assert resp.status_code == 200 and resp.mimetype == "text/csv"
        disposition = resp.headers["Content-Disposition"]
        assert re.fullmatch(r'attachment; filename="lyceum-[a-z0-9-]+-\d{4}-\d\d-\d\d-to-\d{4}-\d\d-\d\d\.csv"',
                            disposition), disposition
        assert read_csv(resp)[0]  # a header row


def test_the_csv_has_the_figures_of_the_period_asked_for(client, login, finance, figures):
    login(finance)
    rows = read_csv(client.get("/admin/analytics/new-people.csv?range=7d&by=day"))
    assert rows[0] == ["Day", "New learners", "New creators"]
    assert len(rows) == 1 + 7 and rows[-1] == [TODAY.isoformat(), "12", "2"]
    waiting = read_csv(client.get("/admin/analytics/payouts-waiting.csv"))
    assert waiting[1:] == [["Needing an admin's approval", "USD", "1", "90.00 USD"],
                           ["Being sent (in flight)", "USD", "1", "25.00 USD"]]
    old = client.get(f"/admin/analytics/new-people.csv?from={(TODAY - timedelta(days=40)).isoformat()}"
                     f"&to={(TODAY - timedelta(days=40)).isoformat()}")
    assert read_csv(old)[1][1:] == ["6", "0"]
    assert f"-{(TODAY - timedelta(days=40)).isoformat()}-to-" in old.headers["Content-Disposition"]


@pytest.mark.parametrize("table_id", ["nothing", "people", "..%2Fsecrets", "new-people.csv"])
def test_an_unknown_table_is_a_404(client, login, finance, table_id):
    login(finance)
    assert client.get(f"/admin/analytics/{table_id}.csv").status_code == 404


def test_spreadsheet_formulas_in_cells_are_defused():
    assert spreadsheet_safe("=HYPERLINK(\"http://evil\")") == "'=HYPERLINK(\"http://evil\")"
    assert spreadsheet_safe("+1 buy now") == "'+1 buy now"
    assert spreadsheet_safe("@SUM(A1)") == "'@SUM(A1)"
    assert spreadsheet_safe("-12.50 USD") == "-12.50 USD"  # a refund, a number
    assert spreadsheet_safe("Practical SQL") == "Practical SQL"


# --- one creator, read-only -------------------------------------------------------------------

def test_a_finance_admin_sees_one_creators_figures(client, htmx, login, finance, creator):
    login(finance)
    resp = client.get(f"/admin/analytics/creators/{creator.id}?range=90d")
    assert_page(resp)
    assert "Analytics: Carl Creator" in words(resp)
    assert f'action="/admin/analytics/creators/{creator.id}"' in resp.get_data(as_text=True)
    assert_fragment(htmx.get(f"/admin/analytics/creators/{creator.id}"), "")


def test_an_unknown_creator_is_a_404(client, login, finance):
    login(finance)
    assert client.get("/admin/analytics/creators/999999").status_code == 404


# --- who may not --------------------------------------------------------------------------------

PATHS = ["/admin/analytics", "/admin/analytics?range=7d", "/admin/analytics/new-people.csv",
         "/admin/analytics/review-queue.csv", "/admin/analytics/moderation.csv", "/admin/analytics/disputes.csv",
         "/admin/analytics/payouts-sent.csv", "/admin/analytics/payouts-waiting.csv",
         "/admin/analytics/nothing.csv", "/admin/analytics/creators/{creator}"]


@pytest.mark.parametrize("path", PATHS)
def test_a_visitor_is_sent_to_log_in(client, creator, path):
    resp = client.get(path.format(creator=creator.id))
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/auth/login?next=%2Fadmin%2Fanalytics")
    resp = client.get(path.format(creator=creator.id), headers=HX)
    assert resp.status_code == 401 and b"<html" not in resp.data


@pytest.mark.parametrize("who", ["learner", "creator", "reviewer", "moderator", "user_admin"])
@pytest.mark.parametrize("path", PATHS)
def test_anyone_but_a_finance_admin_is_refused(request, client, login, creator, who, path):
    login(request.getfixturevalue(who))
    url = path.format(creator=creator.id)
    assert client.get(url).status_code == 403
    assert client.get(url, headers=HX).status_code == 403


def test_a_creator_cannot_reach_another_creators_figures(client, login, creator, make_user, make_course):
    rival = make_user(display_name="Rival")
    course = make_course(rival, status="published")
    login(creator)
    assert client.get(f"/admin/analytics/creators/{rival.id}").status_code == 403
    assert client.get(f"/studio/courses/{course.id}/analytics").status_code == 404


def test_the_admin_home_links_here_for_finance_admins_only(client, login, finance, reviewer, other_client):
    login(finance)
    assert b'href="/admin/analytics"' in client.get("/admin/").data
    login(reviewer, on=other_client)
    assert b'href="/admin/analytics"' not in other_client.get("/admin/").data
