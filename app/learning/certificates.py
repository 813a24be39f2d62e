"""Certificates of completion: issued once per completed enrollment, verified publicly by an
unguessable code. The printable version is the same HTML page with a print stylesheet:
no PDF library to keep patched, the browser's "Save as PDF" gives a faithful file, and the
page stays accessible and within our CSP."""
from __future__ import annotations

import secrets
from datetime import datetime

import sqlalchemy as sa

from app.errors import NotFound
from app.extensions import db
from app.learning.models import Certificate, Enrollment
from app.learning.queries import newest_first


def issue_certificate(enrollment: Enrollment) -> Certificate:
    """Idempotent: a second call returns the certificate already issued."""
    existing = db.session.scalar(sa.select(Certificate).where(Certificate.enrollment_id == enrollment.id))
    if existing is not None:
        return existing
    certificate = Certificate(
        code=secrets.token_urlsafe(18), enrollment_id=enrollment.id,
        learner_name=enrollment.learner.display_name, course_title=enrollment.course.title,
        creator_name=enrollment.course.creator.display_name,
        issued_at=enrollment.completed_at)
    db.session.add(certificate)
    db.session.flush()
    return certificate


def certificate_by_code(code: str) -> Certificate:
    certificate = db.session.scalar(sa.select(Certificate).where(Certificate.code == code[:40]))
    if certificate is None:
        raise NotFound("There is no certificate with this code.")
    return certificate


def certificate_for(enrollment: Enrollment | None) -> Certificate | None:
    if enrollment is None:
        return None
    return db.session.scalar(sa.select(Certificate).where(Certificate.enrollment_id == enrollment.id))


def certificates_page(learner_id: int, *, after: tuple[datetime, int] | None = None,
                      limit: int = 20) -> list[Certificate]:
    """A learner's certificates, the latest issued first (kept after a refund: they were earned)."""
    stmt = (sa.select(Certificate).join(Enrollment, Enrollment.id == Certificate.enrollment_id)
            .where(Enrollment.learner_id == learner_id))
    return newest_first(stmt, Certificate.issued_at, Certificate.id, after, limit)


def access_certificate(actor, certificate_id: int) -> Certificate:
    """One of the actor's own certificates; anyone else's is a 404 (theirs are verified by code)."""
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None or certificate.enrollment.learner_id != actor.id:
        raise NotFound("No such certificate.")
    return certificate
