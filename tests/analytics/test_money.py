"""Issue 17, parts 1 and 2 (app/analytics/money.py): each sale, refund and lost chargeback is
booked into its course's day from the ledger transaction's legs, once; the creator's revenue
and the platform's money are read per currency, beside the previous period."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.analytics import money
from app.analytics.models import CourseDay
from app.analytics.periods import Period
from app.analytics.rollups import bump
from app.analytics.scope import Scope
from app.commerce import escrow, ledger
from app.commerce.refunds import request_refund
from app.extensions import db
from tests.support.analytics import money_refund, money_rows, money_sale
from tests.support.commerce import buy, charge_refunded, checkout_completed, deliver, paid_course

pytestmark = pytest.mark.usefixtures("page_request")



def week(today) -> Period:
    return Period(today - timedelta(days=6), today)


def figure(section, label):
    [found] = [f for f in section.figures if f.label == label]
    return found


def sections(result) -> dict:
    return {section.currency: section for section in result.currencies}


def row(course, day):
    db.session.expire_all()
    return db.session.get(CourseDay, (course.id, day))


# --- booking ------------------------------------------------------------------------------------

def test_a_sale_is_booked_on_its_day_from_the_ledger(learner, creator, today):
    course = paid_course(creator)
    order = money_sale(learner, course, today - timedelta(days=3))
    day = row(course, today - timedelta(days=3))
    assert (day.creator_id, day.currency) == (creator.id, "USD")
    assert (day.sales, day.gross, day.commission, day.creator_net) == (1, 2999, order.commission_minor, 2549)
    assert (day.refunds, day.refunded_commission, day.refund_count) == (0, 0, 0)
    assert row(course, today) is None


def test_a_refund_is_booked_on_the_day_it_happened(learner, creator, today):
    course = paid_course(creator)
    order = money_sale(learner, course, today - timedelta(days=3))
    money_refund(order, 1000, today - timedelta(days=1))
    refunded = row(course, today - timedelta(days=1))
    assert (refunded.sales, refunded.gross, refunded.refund_count, refunded.refunds) == (0, 0, 1, 1000)
    assert refunded.refunded_commission == 150 and refunded.creator_net == -850
    assert row(course, today - timedelta(days=3)).refunds == 0


def test_escrow_release_is_not_revenue(learner, creator, today):
    course = paid_course(creator)
    order = money_sale(learner, course, today - timedelta(days=2))
    before = money_rows()
    escrow.release(order, reason="course completed", now=order.paid_at + timedelta(days=1))
    db.session.commit()
    assert ledger.creator_balances(creator.id)["available"] == 2549
    assert money_rows() == before


def test_a_replayed_payment_or_refund_event_is_counted_once(learner, creator, today):
    course = paid_course(creator)
    order = buy(learner, course)
    event = checkout_completed(order, payment_intent=order.payment_intent_id)
    deliver(event)  # a new delivery of the same outcome (another event id): the sale exists
    refund = charge_refunded(order, amount=500)
    deliver(refund)
    deliver(refund)  # the very same event again
    day = row(course, today)
    assert (day.sales, day.gross, day.refund_count, day.refunds) == (1, 2999, 1, 500)
    assert day.creator_net == 2549 - (500 - 75)
    assert ledger.check_invariants() == []


def test_a_refund_through_the_learners_request_is_counted(learner, creator, today):
    order = buy(learner, paid_course(creator))
    request_refund(learner, order, reason="Not for me")
    db.session.commit()
    day = row(order.course, today)
    assert (day.sales, day.refund_count, day.refunds, day.creator_net) == (1, 1, 2999, 0)
    assert day.commission - day.refunded_commission == 0


def test_a_rebuild_gives_back_what_the_subscriber_counted_and_keeps_other_columns(learner, creator, today):
    course = paid_course(creator)
    order = money_sale(learner, course, today - timedelta(days=2))
    money_refund(order, 700, today - timedelta(days=1))
    bump(CourseDay, {"course_id": course.id, "day": today - timedelta(days=2), "creator_id": creator.id},
               page_views=40)
    db.session.commit()
    counted = money_rows()
    money.rebuild(today - timedelta(days=10), today)
    db.session.commit()
    assert money_rows() == counted
    assert row(course, today - timedelta(days=2)).page_views == 40


def test_a_rebuild_of_some_days_leaves_the_others(learner, creator, today):
    course = paid_course(creator)
    money_sale(learner, course, today - timedelta(days=5))
    db.session.execute(sa.update(CourseDay).values(gross=1))
    db.session.commit()
    money.rebuild(today - timedelta(days=2), today)
    assert row(course, today - timedelta(days=5)).gross == 1
    money.rebuild(today - timedelta(days=5), today - timedelta(days=5))
    assert row(course, today - timedelta(days=5)).gross == 2999


# --- the creator's revenue ----------------------------------------------------------------------

def test_the_creators_revenue_with_the_previous_period(make_user, creator, today):
    course = paid_course(creator)
    money_sale(make_user(), course, today - timedelta(days=9))  # the previous week
    money_sale(make_user(), course, today - timedelta(days=2))
    cheap = paid_course(creator, price_minor=1001)
    money_refund(money_sale(make_user(), cheap, today - timedelta(days=1)), 1001, today)
    [usd] = money.creator_revenue(Scope(creator_id=creator.id), week(today), "day").currencies
    assert figure(usd, "Gross sales").value == 2999 + 1001 and figure(usd, "Gross sales").previous == 2999
    assert figure(usd, "Gross sales").text == "$40.00" and figure(usd, "Gross sales").previous_text == "$29.99"
    assert figure(usd, "Sales").value == 2 and figure(usd, "Sales").previous == 1
    assert figure(usd, "Refunds").value == 1001 and figure(usd, "Refunds").better == "down"
    assert figure(usd, "Average price paid").value == 2000  # (2999 + 1001) / 2
    assert figure(usd, "Net earnings").value == 2549 and figure(usd, "Net earnings").previous == 2549
    assert figure(usd, "Platform commission").value == 450


def test_the_revenue_chart_and_table_per_bucket(make_user, creator, today):
    course = paid_course(creator)
    money_sale(make_user(), course, today - timedelta(days=8))  # previous period, its 6th day
    money_sale(make_user(), course, today - timedelta(days=1))
    [usd] = money.creator_revenue(Scope(creator_id=creator.id), week(today), "day").currencies
    chart = usd.chart
    assert chart.unit == "money" and chart.currency == "USD" and len(chart.labels) == 7
    series = {s.name: (s.values, s.style) for s in chart.series}
    assert series["Gross sales"] == ([0, 0, 0, 0, 0, 2999, 0], "bar")
    assert series["Net earnings, period before"] == ([0, 0, 0, 0, 0, 2549, 0], "line")
    assert [r[0] for r in usd.table.rows] == chart.labels
    assert usd.table.rows[5][1:3] == [1, (2999, "USD")] and usd.table.rows[0][-1] is None
    assert usd.table.csv_rows()[6][2] == "29.99 USD"


def test_the_previous_period_is_aligned_bucket_by_bucket(make_user, creator, today):
    course = paid_course(creator)
    money_sale(make_user(), course, today)
    this_month = Period(today.replace(day=1), today, "this_month")
    [usd] = money.creator_revenue(Scope(creator_id=creator.id), this_month, "day").currencies
    [before] = [s.values for s in usd.chart.series if s.name.endswith("period before")]
    assert len(before) == len(usd.chart.labels)
    shorter = this_month.previous().days < this_month.days
    assert (before[-1] is None) == shorter


def test_currencies_are_never_added(make_user, creator, today):
    money_sale(make_user(), paid_course(creator, price_minor=2999), today)
    money_sale(make_user(), paid_course(creator, price_minor=4000, currency="EUR"), today)
    result = sections(money.creator_revenue(Scope(creator_id=creator.id), week(today), "week"))
    assert figure(result["USD"], "Gross sales").value == 2999
    assert figure(result["EUR"], "Gross sales").text == "€40.00"
    assert result["EUR"].chart.currency == "EUR" and result["EUR"].table.id == "revenue-eur"


def test_another_creators_sales_never_appear(make_user, creator, today):
    rival = make_user()
    money_sale(make_user(), paid_course(rival), today)
    assert money.creator_revenue(Scope(creator_id=creator.id), week(today), "day").currencies == []
    money_sale(make_user(), paid_course(creator, price_minor=1500), today)
    [usd] = money.creator_revenue(Scope(creator_id=creator.id), week(today), "day").currencies
    assert figure(usd, "Gross sales").value == 1500


def test_a_course_scope_shows_only_that_course(make_user, creator, today):
    one, other = paid_course(creator, title="One"), paid_course(creator, title="Other", price_minor=5000)
    money_sale(make_user(), one, today)
    money_sale(make_user(), other, today)
    scope = Scope(creator_id=creator.id, course_id=one.id, course_title="One")
    [usd] = money.creator_revenue(scope, week(today), "day").currencies
    assert figure(usd, "Gross sales").value == 2999 and figure(usd, "Sales").value == 1
    assert "“One”" in usd.chart.description


def test_no_money_no_sections(creator, today):
    assert money.creator_revenue(Scope(creator_id=creator.id), week(today), "day").currencies == []


# --- the platform's money -----------------------------------------------------------------------

def test_platform_money_per_currency(make_user, creator, today):
    rival = make_user(display_name="Rita Rival")
    order = money_sale(make_user(), paid_course(creator), today - timedelta(days=1))
    money_sale(make_user(), paid_course(rival, price_minor=5000), today)
    money_refund(order, 2999, today)
    money_sale(make_user(), paid_course(rival, price_minor=4000, currency="EUR"), today)
    result = sections(money.platform_money(Scope(), week(today), "day"))
    usd = result["USD"]
    assert figure(usd, "Gross merchandise value").value == 2999 + 5000
    assert figure(usd, "Platform revenue").value == 750  # 450 + 750 - 450 given back
    assert figure(usd, "Refunds").value == 2999 and figure(usd, "Refunds and lost disputes").value == 1
    assert figure(usd, "Refund rate").value == 50 and figure(usd, "Refund rate").text == "50%"
    assert figure(result["EUR"], "Refund rate").text == "0%"
    assert figure(usd, "Refund rate").previous is None  # no sales before: nothing to compare


def test_refund_rate_without_sales_is_a_dash(make_user, creator, today):
    order = money_sale(make_user(), paid_course(creator), today - timedelta(days=20))
    money_refund(order, 500, today)
    [usd] = money.platform_money(Scope(), week(today), "day").currencies
    assert figure(usd, "Refund rate").text == "—"


def test_the_admins_money_tables(make_user, creator, today):
    rival = make_user(display_name="Rita Rival")
    money_sale(make_user(), paid_course(creator, title="Watercolour"), today)
    money_sale(make_user(), paid_course(creator, title="Ink", price_minor=1000), today)
    money_sale(make_user(), paid_course(rival, title="Oil", price_minor=5000), today)
    money_sale(make_user(), paid_course(rival, title="Huile", price_minor=4000, currency="EUR"), today)
    tables = {table.id: table for table in money.platform_money_tables(week(today))}
    assert list(tables) == list(money.TABLE_IDS)
    top = tables["money-top-creators"].rows
    assert [(r[0][0], r[2]) for r in top] == [("Rita Rival", (4000, "EUR")), ("Rita Rival", (5000, "USD")),
                                             ("Carl Creator", (3999, "USD"))]
    assert top[0][0][1] == f"/admin/users/{rival.id}"
    assert [r[0][0] for r in tables["money-top-courses"].rows] == ["Huile", "Oil", "Watercolour", "Ink"]
    breakdown = {(r[0][0], r[3][1]): r for r in tables["money-creators"].rows}
    assert breakdown[("Carl Creator", "USD")][1:] == [2, 2, (3999, "USD"), (600, "USD"), (0, "USD"),
                                                      (3999 - 600, "USD")]
    assert tables["money-creators"].csv_rows()[1][0] == "Rita Rival"


def test_creator_names_are_plain_text_for_an_admin_who_cannot_open_user_pages(make_user, creator, today):
    money_sale(make_user(), paid_course(creator), today)
    viewer = make_user(permissions=("manage_finance",))
    [top, _, breakdown] = money.platform_money_tables(week(today), viewer=viewer)
    assert top.rows[0][0] == "Carl Creator" and top.columns[0].kind == "text"
