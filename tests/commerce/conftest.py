"""Fixtures for the money tests."""
from __future__ import annotations

import pytest
import responses


@pytest.fixture
def fake_stripe(app, monkeypatch):
    """`PAYMENT_GATEWAY=stripe` for one test (restored after), with Stripe's API faked at the
    HTTP boundary by `responses`: every call the test expects must be registered, and made."""
    monkeypatch.setitem(app.config, "PAYMENT_GATEWAY", "stripe")
    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", "sk_test_x")
    monkeypatch.setitem(app.config, "STRIPE_API_BASE", None)
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps

