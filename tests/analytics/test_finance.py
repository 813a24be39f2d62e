"""app/analytics/finance.py: the admin finance page's figures per period, read from the money
rollup (CourseDay), one row per period and currency."""
from __future__ import annotations

from datetime import timedelta

from app.analytics.finance import sales_by_period
from app.dbtypes import utcnow
from tests.support.analytics import money_at, money_refund, money_sale
from tests.support.commerce import paid_course


def test_figures_per_day_and_currency_newest_first(make_user, creator):
    today = utcnow().date()
    usd = paid_course(creator)
    order = money_sale(make_user(), usd, today - timedelta(days=2))
    money_refund(order, 1000, today)
    money_sale(make_user(), paid_course(creator, price_minor=4000, currency="EUR"), today)
    money_sale(make_user(), usd, today)
    rows = [(r.label, r.currency, r.sales, r.gross, r.platform_revenue, r.refunds, r.net)
            for r in sales_by_period("day", now=money_at(today))]
    assert rows == [
        (today.isoformat(), "EUR", 1, 4000, 600, 0, 4000),
        (today.isoformat(), "USD", 1, 2999, 450 - 150, 1000, 2999 - 1000),
        ((today - timedelta(days=2)).isoformat(), "USD", 1, 2999, 450, 0, 2999),
    ]


def test_older_days_than_the_periods_are_left_out(make_user, creator):
    today = utcnow().date()
    money_sale(make_user(), paid_course(creator), today - timedelta(days=40))
    assert sales_by_period("day", now=money_at(today)) == []
    [month] = sales_by_period("month", now=money_at(today))
    assert month.sales == 1 and month.label == (today - timedelta(days=40)).strftime("%Y-%m")
