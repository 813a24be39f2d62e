"""An old checkout paid after a newer one: the second payment is refunded, not sold twice."""
from app.commerce import ledger
from app.commerce.models import Order, Refund
from app.commerce.orders import start_checkout
from app.commerce.payment_gateway import get_gateway
from app.learning.models import Enrollment


def test_a_late_duplicate_payment_is_refunded_in_full(db, app, learner, make_course):
    course = make_course(status="published", price_minor=2999)
    with app.test_request_context():
        first, _ = start_checkout(learner, course)
    db.session.commit()
    # A second, separate order (as with a session opened before a price change).
    second = Order(buyer_id=learner.id, course_id=course.id, creator_id=course.creator_id,
                   price_minor=2999, currency="USD", commission_bps=1500, commission_minor=450,
                   creator_share_minor=2549, escrow_mode="completion_or_days", escrow_days=30,
                   gateway="local", checkout_session_id="cs_local_second")
    db.session.add(second)
    db.session.commit()
    get_gateway().pay(first)
    db.session.commit()
    get_gateway().pay(second)
    db.session.commit()
    db.session.refresh(second)
    assert second.status == "refunded" and second.refunded_minor == 2999
    enrollments = db.session.query(Enrollment).filter_by(learner_id=learner.id).all()
    assert len(enrollments) == 1 and enrollments[0].is_active  # the first purchase still counts
    assert db.session.query(Refund).filter_by(order_id=second.id, status="succeeded").count() == 1
    assert ledger.creator_balances(course.creator_id)["escrow"] == 2549
    assert ledger.check_invariants() == []
