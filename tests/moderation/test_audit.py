"""The audit log (app/moderation/audit.py)."""
from __future__ import annotations

from app.moderation.audit import audit_actions, audit_entries, record_audit


def test_entries_are_newest_first_and_filterable(db, admin, user_admin, learner):
    record_audit(admin, "user.suspended", learner, reason="Spam")
    record_audit(user_admin, "user.unsuspended", learner)
    record_audit(admin, "user.permission_granted", user_admin)
    db.session.commit()
    assert [e.action for e in audit_entries().items] == \
        ["user.permission_granted", "user.unsuspended", "user.suspended"]
    assert [e.action for e in audit_entries(action="user.suspended").items] == ["user.suspended"]
    assert [e.action for e in audit_entries(actor_id=user_admin.id).items] == ["user.unsuspended"]


def test_actions_are_listed_once_in_order(db, admin, learner):
    for action in ("user.suspended", "user.unsuspended", "user.suspended"):
        record_audit(admin, action, learner)
    db.session.commit()
    assert audit_actions() == ["user.suspended", "user.unsuspended"]


def test_target_is_named_by_its_email_title_or_name(db, admin, learner):
    class Course:
        id, title = 7, "Rust for Pythonistas"

    entry = record_audit(admin, "course.unpublished", Course())
    person = record_audit(admin, "user.suspended", learner)
    assert (entry.target_type, entry.target_id, entry.target_label) == ("course", 7, "Rust for Pythonistas")
    assert person.target_label == learner.email


def test_pages_past_the_end_are_empty(db, admin, learner):
    record_audit(admin, "user.suspended", learner)
    db.session.commit()
    assert audit_entries(page=5).items == []
    assert len(audit_entries(page=0).items) == 1
