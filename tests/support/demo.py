"""What `flask demo-data` leaves in the database, counted table by table (and by status where
a row's status says whether the demo finished: orders paid or refunded, the payout paid)."""
from __future__ import annotations

import sqlalchemy as sa

TABLES = ("users", "admin_permission", "course", "section", "lesson", "enrollment", "lesson_progress",
          "quiz_attempt", "review", "discussion_thread", "discussion_post", "certificate",
          "purchase_order", "ledger_transaction", "ledger_entry", "payment_event", "refund",
          "dispute", "payout_account", "payout", "chat_message", "conversation", "direct_message",
          "notification", "oauth_client")
WITH_STATUS = ("course", "purchase_order", "payment_event", "refund", "dispute", "payout")

# A finished demo, counted by `demo_counts`.
COMPLETE_DEMO = {
    "users": 6, "admin_permission": 5, "course": 5, "section": 10, "lesson": 20, "enrollment": 8,
    "lesson_progress": 5, "quiz_attempt": 1, "review": 1, "discussion_thread": 1,
    "discussion_post": 2, "certificate": 1, "purchase_order": 7, "ledger_transaction": 12,
    "ledger_entry": 32, "payment_event": 8, "refund": 1, "dispute": 1, "payout_account": 1,
    "payout": 1, "chat_message": 3, "conversation": 1, "direct_message": 2, "notification": 35, "oauth_client": 1,
    "course.draft": 1, "course.published": 3, "course.under_review": 1,
    "purchase_order.paid": 6, "purchase_order.refunded": 1, "payment_event.applied": 8,
    "refund.succeeded": 1, "dispute.open": 1, "payout.paid": 1,
}


def demo_counts(session) -> dict[str, int]:
    """Rows per table, and per status for the tables in WITH_STATUS (`session`: a SQLAlchemy
    session or connection on the demo's database)."""
    counts = {table: session.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
              for table in TABLES}
    for table in WITH_STATUS:
        for status, count in session.execute(sa.text(f"SELECT status, count(*) FROM {table} GROUP BY status")):
            counts[f"{table}.{status}"] = count
    return counts
