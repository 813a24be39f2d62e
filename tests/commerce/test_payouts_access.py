"""A creator's own payouts (app/commerce/payouts.py): one by id, and the list a page at a time."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.commerce.models import Payout
from app.commerce.payouts import access_own_payout, payouts_of
from app.dbtypes import utcnow
from app.errors import NotFound
from app.extensions import db


def payout(creator, *, minutes_ago: int) -> Payout:
    row = Payout(creator_id=creator.id, amount_minor=2000, currency="USD", provider="paypal",
                 destination="carl@example.test", status="paid",
                 created_at=utcnow() - timedelta(minutes=minutes_ago))
    db.session.add(row)
    db.session.commit()
    return row


def test_a_payout_is_its_creators_only(creator, make_user):
    mine = payout(creator, minutes_ago=1)
    assert access_own_payout(creator, mine.id) == mine
    for someone in (make_user(), None):
        with pytest.raises(NotFound):
            access_own_payout(someone, mine.id)


def test_payouts_come_newest_first_a_page_at_a_time(creator, make_user):
    old, new = payout(creator, minutes_ago=5), payout(creator, minutes_ago=1)
    same_time = payout(creator, minutes_ago=5)
    same_time.created_at = old.created_at
    db.session.commit()
    assert payouts_of(creator.id) == [new, same_time, old]
    assert payouts_of(creator.id, limit=2) == [new, same_time]
    assert payouts_of(creator.id, after=(same_time.created_at, same_time.id)) == [old]
    assert payouts_of(make_user().id) == []
