"""Provider webhooks: verify, store, enqueue, answer 2xx fast. Nothing else happens here."""
from __future__ import annotations

from flask import jsonify, request

from app.blueprints.webhooks import bp
from app.commerce import webhooks
from app.extensions import csrf, db


@bp.post("/stripe")
@csrf.exempt
def stripe_event():
    event, created = webhooks.receive_stripe(request.get_data(), request.headers.get("Stripe-Signature"))
    db.session.commit()
    return jsonify(received=True, duplicate=not created), 200


@bp.post("/paypal")
@csrf.exempt
def paypal_event():
    event, created = webhooks.receive_paypal(request.get_data(), request.headers)
    db.session.commit()
    return jsonify(received=True, duplicate=not created), 200
