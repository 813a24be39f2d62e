"""Issue 17, part 6: the money on the analytics pages agrees with the ledger.

Sales, refunds (in full and in part), a learner's dispute ruled with a partial refund and a lost
chargeback go through the real commerce services on chosen days; then (a) a creator's net on
their analytics for a period equals what the ledger credited to their accounts from sales,
refunds and chargebacks of that period, and (b) the admin's platform revenue equals the
movement of the platform's commission account; both again after a rebuild of the rollup.
"""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.analytics import money
from app.analytics.models import CourseDay
from app.analytics.periods import Period
from app.analytics.scope import Scope
from app.commerce import escrow, ledger
from app.commerce.disputes import open_dispute, rule_on_dispute
from app.commerce.payouts import connect_paypal, reject_payout, request_payout
from app.commerce.settings import set_setting
from app.extensions import db
from tests.support.analytics import (
    money_at,
    money_chargeback_lost,
    money_commission_movement,
    money_creator_movement,
    money_refund,
    money_rows,
    money_sale,
)
from tests.support.commerce import paid_course

pytestmark = pytest.mark.usefixtures("page_request")



def figure(section, label):
    [found] = [f for f in section.figures if f.label == label]
    return found.value


def by_currency(result) -> dict:
    return {section.currency: section for section in result.currencies}


@pytest.fixture
def history(make_user, creator, admin, today):
    """Two creators' sales over three weeks: creator (a USD and a EUR course) and a rival."""
    rival = make_user(display_name="Rita Rival")
    usd = paid_course(creator, title="Watercolour", price_minor=2999)
    eur = paid_course(creator, title="Aquarelle", price_minor=4000, currency="EUR")
    other = paid_course(rival, title="Oil", price_minor=5000)
    buyers = [make_user() for _ in range(8)]
    day = lambda n: today - timedelta(days=n)  # noqa: E731

    early = money_sale(buyers[0], usd, day(9))  # the previous period
    money_refund(early, 1000, day(3))  # ... refunded in part in this one
    full = money_sale(buyers[1], usd, day(5))
    escrow.release(full, reason="escrow period ended", now=full.paid_at + timedelta(days=1))
    db.session.commit()  # an internal move: not revenue
    money_refund(full, full.price_minor, day(2))  # refunded in full, from available
    charged = money_sale(buyers[2], usd, day(4))
    money_refund(charged, 500, day(3))
    money_chargeback_lost(charged, day(3), day(1))  # the bank takes back the rest
    ruled = money_sale(buyers[3], usd, day(2))
    dispute = open_dispute(buyers[3], ruled, reason="quality", message="Too short.")
    db.session.commit()
    rule_on_dispute(admin, dispute, ruling="partial_refund", refund_minor=1200, decision="Partly fair.")
    db.session.commit()
    money_sale(buyers[4], usd, day(0))
    money_sale(buyers[5], eur, day(2))
    money_sale(buyers[6], other, day(3))
    # payouts are the creator's own money moving out: asked for, refused (back), asked again
    payable = money_sale(buyers[7], usd, day(6))
    escrow.release(payable, reason="escrow period ended", now=payable.paid_at + timedelta(hours=1))
    set_setting(admin, "payouts", {"minimum_minor": 2000, "approval_threshold_minor": 2000})
    connect_paypal(creator, email="carl@example.test")
    db.session.commit()
    refused = request_payout(creator, 2100, now=money_at(day(4)))
    db.session.commit()
    reject_payout(admin, refused, reason="Check your account first.")
    request_payout(creator, 2100, now=money_at(day(1)))  # waits for approval: in flight
    db.session.commit()
    assert ledger.creator_balances(creator.id)["payout_in_flight"] == 2100
    return {"usd": usd, "eur": eur, "other": other, "rival": rival}


PERIODS = [7, 14, 1, 3]  # the last N days


def check_agreement(creator, rival, today):
    for days in PERIODS:
        period = Period(today - timedelta(days=days - 1), today)
        for whose in (creator, rival):
            revenue = by_currency(money.creator_revenue(Scope(creator_id=whose.id), period, "day"))
            for currency in ("USD", "EUR"):
                expected = money_creator_movement(whose.id, period.start, period.end, currency)
                shown = figure(revenue[currency], "Net earnings") if currency in revenue else 0
                assert shown == expected, (whose.display_name, days, currency)
        platform = by_currency(money.platform_money(Scope(), period, "day"))
        for currency in ("USD", "EUR"):
            expected = money_commission_movement(period.start, period.end, currency)
            shown = figure(platform[currency], "Platform revenue") if currency in platform else 0
            assert shown == expected, (days, currency)


def test_net_revenue_and_platform_revenue_equal_the_ledger(history, creator, today):
    check_agreement(creator, history["rival"], today)
    # not trivially: the week had sales, refunds of several kinds and both currencies
    week = Period(today - timedelta(days=6), today)
    usd = by_currency(money.creator_revenue(Scope(creator_id=creator.id), week, "day"))["USD"]
    assert figure(usd, "Sales") == 5 and figure(usd, "Refunds") == 1000 + 2999 + 500 + 2499 + 1200
    assert figure(usd, "Net earnings") == money_creator_movement(creator.id, week.start, week.end, "USD") != 0


def test_after_a_rebuild_the_figures_still_equal_the_ledger(history, creator, today):
    counted = money_rows()
    money.rebuild(today - timedelta(days=30), today)
    db.session.commit()
    assert money_rows() == counted
    check_agreement(creator, history["rival"], today)


def test_a_rebuild_repairs_a_wrong_figure(history, creator, today):
    counted = money_rows()
    from_rows = {key: row for key, row in counted.items() if row["sales"]}
    key = next(iter(from_rows))
    db.session.execute(CourseDay.__table__.update().values(gross=1, creator_net=0, sales=0))
    db.session.commit()
    money.rebuild(today - timedelta(days=30), today)
    db.session.commit()
    assert money_rows()[key] == counted[key]
    check_agreement(creator, history["rival"], today)
