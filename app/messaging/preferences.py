"""Per-kind notification preferences: in-app notifications are always on; each kind may
also come in the e-mail digest (a row with `email_digest` only for the kinds opted in),
and the digest itself (`send_digest`, run daily by app/jobs/digest.py)."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

import sqlalchemy as sa

from app.accounts.models import User
from app.dbtypes import utcnow
from app.errors import Conflict, Invalid
from app.extensions import db
from app.messaging.mail import send_mail
from app.messaging.models import Notification, NotificationPreference
from app.messaging.notifications import KINDS, describe_anywhere, kind_label

DIGEST_WINDOW = timedelta(days=7)  # older notifications are not worth an e-mail any more
DIGEST_LIMIT = 100  # notifications listed in one e-mail; the rest go in the next one


def digest_kinds(user) -> set[str]:
    """The kinds `user` wants in the e-mail digest (retired kinds are ignored)."""
    kinds = db.session.scalars(sa.select(NotificationPreference.kind).where(
        NotificationPreference.user_id == user.id, NotificationPreference.email_digest.is_(True)))
    return {kind for kind in kinds if kind in KINDS}


def set_digest_kinds(actor, kinds: Iterable[str]) -> set[str]:
    """Make exactly `kinds` come by e-mail for `actor`; an unknown kind changes nothing."""
    wanted = {str(kind) for kind in kinds}
    unknown = sorted(wanted - KINDS.keys())
    if unknown:
        raise Invalid("Unknown notification kind: " + ", ".join(unknown)[:200] + ".", field="digest")
    rows = {row.kind: row for row in db.session.scalars(sa.select(NotificationPreference).where(
        NotificationPreference.user_id == actor.id))}
    for kind, row in rows.items():
        if kind not in wanted:
            db.session.delete(row)
        else:
            row.email_digest = True
    for kind in wanted - rows.keys():
        db.session.add(NotificationPreference(user_id=actor.id, kind=kind, email_digest=True))
    db.session.flush()
    return wanted


def _pending(now: datetime):
    """Notifications due in a digest: a kind their user opted into, not e-mailed yet, recent."""
    return (sa.select(Notification)
            .join(NotificationPreference, sa.and_(
                NotificationPreference.user_id == Notification.user_id,
                NotificationPreference.kind == Notification.kind,
                NotificationPreference.email_digest.is_(True)))
            .where(Notification.emailed_at.is_(None),
                   Notification.created_at >= now - DIGEST_WINDOW,
                   Notification.created_at <= now))


def digest_user_ids(*, now: datetime | None = None) -> list[int]:
    """Users with something to put in a digest."""
    sub = _pending(now or utcnow()).with_only_columns(Notification.user_id).distinct()
    return sorted(db.session.scalars(sub))


def send_digest(user_id: int, *, now: datetime | None = None) -> int:
    """E-mail `user_id` one digest of their pending notifications and mark them e-mailed;
    returns how many it listed. The rows are locked (others skip them) and marked in the
    same transaction that queues the mail, which goes out only once that commits: running
    twice, or at the same time, or again after a crash, never lists a notification twice."""
    now = now or utcnow()
    user = db.session.get(User, user_id)
    if user is None or not user.email:
        return 0
    notes = db.session.scalars(
        _pending(now).where(Notification.user_id == user_id)
        .order_by(Notification.id).limit(DIGEST_LIMIT)
        .with_for_update(of=Notification, skip_locked=True)).all()
    if not notes:
        return 0
    marked = db.session.execute(
        sa.update(Notification)
        .where(Notification.id.in_([note.id for note in notes]), Notification.emailed_at.is_(None))
        .values(emailed_at=now).execution_options(synchronize_session=False)).rowcount
    if marked != len(notes):  # another run got there first (no row locks on SQLite)
        raise Conflict("Another digest run is sending these notifications.")
    items = []
    for note in notes:
        text, url = describe_anywhere(note)
        items.append({"label": kind_label(note.kind), "text": text, "url": url,
                      "created_at": note.created_at})
    count = len(items)
    subject = f"Lyceum: {count} new notification{'s' if count != 1 else ''}"
    send_mail(user.email, subject, "digest", user=user, items=items,
              notifications_url=_external_url("notifications.notification_list"),
              preferences_url=_external_url("notifications.preferences"))
    return count


def _external_url(endpoint: str) -> str | None:
    from flask import url_for
    from werkzeug.routing import BuildError

    try:
        return url_for(endpoint, _external=True)
    except (RuntimeError, BuildError):  # no request and no SERVER_NAME (an RQ job)
        return None
