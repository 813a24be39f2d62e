"""Users' reports of what others wrote (app/moderation/reports.py)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask_login import AnonymousUserMixin

from app.errors import Invalid, NotAllowed
from app.moderation.models import REPORT_TARGETS, Report
from app.moderation.reports import open_reports, report
from app.moderation.suspensions import suspend_user


def report_count(db) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Report))


def test_a_report_is_stored_open(db, learner):
    entry = report(learner, "review", 7, reason="Fake review")
    db.session.commit()
    assert (entry.reporter_id, entry.target_type, entry.target_id) == (learner.id, "review", 7)
    assert entry.status == "open" and entry.reason == "Fake review"
    assert [r.id for r in open_reports()] == [entry.id]


def test_the_reason_is_tidied(db, learner):
    assert report(learner, "review", 7, reason="  spam \n\n spam  ").reason == "spam spam"


@pytest.mark.parametrize("reason", ["", "   \n", None, "x" * 2001])
def test_a_report_needs_a_sensible_reason(db, learner, reason):
    with pytest.raises(Invalid) as exc:
        report(learner, "review", 7, reason=reason)
    assert exc.value.field == "reason"
    assert report_count(db) == 0


@pytest.mark.parametrize("target_type", ["user", "course", "", "Review"])
def test_only_known_targets_can_be_reported(db, learner, target_type):
    with pytest.raises(Invalid):
        report(learner, target_type, 7, reason="Bad")
    assert report_count(db) == 0


@pytest.mark.parametrize("target_type", REPORT_TARGETS)
def test_every_known_target_can_be_reported(db, learner, target_type):
    assert report(learner, target_type, 1, reason="Bad").target_type == target_type


def test_reporting_twice_stores_one_report(db, learner):
    first = report(learner, "discussion_post", 3, reason="Rude")
    second = report(learner, "discussion_post", 3, reason="Very rude")
    db.session.commit()
    assert second.id == first.id and second.reason == "Rude"
    assert report_count(db) == 1


def test_each_reporter_and_target_counts_separately(db, learner, creator):
    report(learner, "discussion_post", 3, reason="Rude")
    report(creator, "discussion_post", 3, reason="Rude")
    report(learner, "discussion_post", 4, reason="Rude")
    report(learner, "review", 3, reason="Rude")
    db.session.commit()
    assert report_count(db) == 4


@pytest.mark.parametrize("who", ["anonymous", "nobody", "suspended"])
def test_only_signed_in_active_users_report(db, make_user, admin, who):
    if who == "suspended":
        actor = make_user(password=None)
        suspend_user(admin, actor, reason="abuse")
    else:
        actor = AnonymousUserMixin() if who == "anonymous" else None
    with pytest.raises(NotAllowed):
        report(actor, "review", 7, reason="Bad")
    assert report_count(db) == 0


def test_the_queue_lists_open_reports_oldest_first(db, learner, creator):
    t0 = datetime(2025, 3, 1, tzinfo=UTC)
    late = report(learner, "review", 1, reason="Late")
    early = report(creator, "review", 2, reason="Early")
    closed = report(creator, "review", 3, reason="Handled")
    late.created_at, early.created_at = t0 + timedelta(hours=1), t0
    closed.status = "resolved"
    db.session.commit()
    assert [r.id for r in open_reports()] == [early.id, late.id]
