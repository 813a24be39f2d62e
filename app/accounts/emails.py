"""E-mail addresses as people type them, cleaned to the one form we store and compare.

Pure (no database, no mail): sign-up and e-mail change (`auth.py`) use it, and so do other
domains that take an address (commerce's PayPal payout account) without importing the
account services that send mail.
"""
from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

from app.accounts.queries import normalise_email
from app.errors import Invalid


def clean_email(email: str) -> str:
    try:
        # No DNS look-up: sign-up must work offline and fast; delivery proves the rest.
        return normalise_email(validate_email(email.strip(), check_deliverability=False).normalized)
    except EmailNotValidError as exc:
        raise Invalid(f"Enter a valid e-mail address ({exc}).", field="email") from exc
