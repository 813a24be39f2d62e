"""Certificates of completion: issued once per completed enrollment, verified publicly by an
unguessable code. The printable version is the same HTML page with a print stylesheet:
no PDF library to keep patched, the browser's "Save as PDF" gives a faithful file, and the
page stays accessible and within our CSP."""
from __future__ import annotations

import secrets

import sqlalchemy as sa

from app.errors import NotFound
from app.extensions import db
from app.learning.models import Certificate, Enrollment


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
