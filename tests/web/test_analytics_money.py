"""The money sections of the analytics pages (app/analytics/money.py, put together by app/analytics/sections.py): the creator's
revenue on /studio/analytics and per course, the platform's money on /admin/analytics; full
page and HTMX fragment, and every way in that must be refused."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app.dbtypes import utcnow
from tests.support.analytics import money_refund, money_sale
from tests.support.commerce import paid_course
from tests.support.pages import HX, text


@pytest.fixture
def today():
    return utcnow().date()


@pytest.fixture
def sales(make_user, creator, today):
    watercolour = paid_course(creator, title="Watercolour")
    ink = paid_course(creator, title="Ink", price_minor=1000)
    order = money_sale(make_user(), watercolour, today - timedelta(days=1))
    money_sale(make_user(), ink, today)
    money_refund(order, 999, today)
    return {"watercolour": watercolour, "ink": ink}


@pytest.fixture
def finance_admin(make_user):
    return make_user(display_name="Fiona Finance", permissions=("manage_finance",))


def test_the_creator_sees_their_revenue(client, login, creator, sales):
    login(creator)
    resp = client.get("/studio/analytics?range=7d")
    body = text(resp)
    assert resp.status_code == 200 and "<html" in body
    assert "Revenue" in body and "Net earnings" in body and "$39.99" in body  # gross: 29.99 + 10.00
    assert 'id="revenue-chart-usd"' in body and "Revenue by day (USD)" in body
    assert "$9.99" in body  # refunds


def test_the_revenue_fragment_for_htmx(client, login, creator, sales):
    login(creator)
    resp = client.get("/studio/analytics?range=30d&by=week", headers=HX)
    body = text(resp)
    assert resp.status_code == 200 and "<html" not in body and "Revenue by week (USD)" in body


def test_one_courses_revenue(client, login, creator, sales):
    login(creator)
    body = text(client.get(f"/studio/courses/{sales['ink'].id}/analytics?range=7d"))
    assert "$10.00" in body and "$39.99" not in body and "$29.99" not in body


def test_no_sales_says_so(client, login, make_user):
    login(make_user())
    assert "No sales or refunds in this period" in text(client.get("/studio/analytics"))


def test_another_creator_sees_none_of_it(client, login, make_user, sales):
    login(make_user())
    assert client.get(f"/studio/courses/{sales['ink'].id}/analytics").status_code == 404
    assert client.get(f"/studio/courses/{sales['ink'].id}/analytics", headers=HX).status_code == 404
    body = text(client.get("/studio/analytics?range=7d"))
    assert "$39.99" not in body and "No sales or refunds" in body


def test_a_visitor_is_sent_to_log_in(client, sales):
    assert client.get("/studio/analytics").status_code == 302
    assert client.get("/admin/analytics").status_code == 302


def test_the_finance_admin_sees_the_platforms_money(client, login, finance_admin, sales):
    login(finance_admin)
    resp = client.get("/admin/analytics?range=7d")
    body = text(resp)
    assert resp.status_code == 200 and "<html" in body
    assert "Gross merchandise value" in body and "Platform revenue" in body and "Refund rate" in body
    assert "Top creators" in body and "Top courses" in body and "Money by creator" in body
    assert "Carl Creator" in body and f'href="/studio/courses/{sales["watercolour"].id}/analytics"' in body
    fragment = client.get("/admin/analytics?range=7d", headers=HX)
    assert fragment.status_code == 200 and "<html" not in text(fragment) and "Top creators" in text(fragment)


def test_a_finance_admin_can_open_a_top_courses_analytics(client, login, finance_admin, sales):
    login(finance_admin)
    body = text(client.get(f"/studio/courses/{sales['watercolour'].id}/analytics?range=7d"))
    assert "$29.99" in body


def test_creator_names_are_escaped(client, login, finance_admin, make_user, today):
    money_sale(make_user(), paid_course(make_user(display_name="<b>Bold</b>")), today)
    login(finance_admin)
    body = client.get("/admin/analytics?range=7d").get_data(as_text=True)
    assert "<b>Bold</b>" not in body and "&lt;b&gt;Bold&lt;/b&gt;" in body


@pytest.mark.parametrize("headers", [{}, HX])
def test_the_platforms_money_is_for_finance_admins_only(client, login, creator, make_user, sales, headers):
    for user in (creator, make_user(permissions=("manage_users",))):
        login(user)
        resp = client.get("/admin/analytics", headers=headers)
        assert resp.status_code == 403 and "Gross merchandise value" not in text(resp)


def test_every_id_on_the_pages_is_unique(client, login, creator, finance_admin, make_user, sales, today):
    money_sale(make_user(), paid_course(creator, price_minor=4000, currency="EUR"), today)
    for user, url in ((creator, "/studio/analytics?range=7d"), (finance_admin, "/admin/analytics?range=7d")):
        login(user)
        ids = re.findall(r'\sid="([^"]+)"', client.get(url).get_data(as_text=True))
        assert "revenue-h" in ids or "money-h" in ids
        assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
