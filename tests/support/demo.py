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

# A finished demo, counted by `demo_counts`: the accounts, courses and today's purchases and
# conversations, and the 90 days of history before them (242 learners from app/demo_history.py,
# the same every time; `page_views` is the sum of the courses' page views in the rollups).
COMPLETE_DEMO = {
    "users": 248, "admin_permission": 5, "course": 5, "section": 10, "lesson": 20, "enrollment": 262,
    "lesson_progress": 596, "quiz_attempt": 161, "review": 60, "discussion_thread": 38,
    "discussion_post": 66, "certificate": 85, "purchase_order": 217, "ledger_transaction": 335,
    "ledger_entry": 879, "payment_event": 23, "refund": 16, "dispute": 1, "payout_account": 1,
    "payout": 1, "chat_message": 3, "conversation": 1, "direct_message": 2, "notification": 896, "oauth_client": 1,
    "course.draft": 1, "course.published": 3, "course.under_review": 1,
    "purchase_order.expired": 24, "purchase_order.paid": 177, "purchase_order.refunded": 16,
    "payment_event.applied": 23, "refund.succeeded": 16, "dispute.open": 1, "payout.paid": 1,
    "page_views": 5521,
}


def demo_counts(session) -> dict[str, int]:
    """Rows per table, and per status for the tables in WITH_STATUS (`session`: a SQLAlchemy
    session or connection on the demo's database)."""
    counts = {table: session.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
              for table in TABLES}
    for table in WITH_STATUS:
        for status, count in session.execute(sa.text(f"SELECT status, count(*) FROM {table} GROUP BY status")):
            counts[f"{table}.{status}"] = count
    counts["page_views"] = session.execute(sa.text(
        "SELECT coalesce(sum(page_views), 0) FROM analytics_course_day")).scalar_one()
    return counts
