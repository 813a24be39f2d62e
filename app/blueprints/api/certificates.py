"""My certificates of completion, each with the public page that verifies it (the page the
certificate prints its address of). Another learner's certificate is a 404 here: theirs is
verified by its code on that public page."""
from __future__ import annotations

from flask import g, url_for
from pydantic import Field

from app.blueprints.api import bp
from app.blueprints.api.keysets import cursor_after, position_after
from app.blueprints.api.openapi import ApiModel, CursorQuery, Page, operation
from app.blueprints.api.schemas import Time
from app.learning import certificates
from app.learning.models import Certificate

TAG = "Learning"


class CertificateItem(ApiModel):
    id: int
    code: str
    course_id: int
    learner_name: str
    course_title: str
    creator_name: str
    issued_at: Time
    verification_url: str = Field(description="The public page anyone can check it on (and print)")


class CertificateList(Page):
    items: list[CertificateItem]


@bp.get("/certificates")
@operation(tags=[TAG], scope="read", query=CursorQuery, model=CertificateList)
def certificate_list(query: CursorQuery):
    """My certificates

    One per completed course, the latest first."""
    rows = certificates.certificates_page(g.api_grant.user.id, after=position_after(query, "certificates"),
                                          limit=query.limit + 1)
    return CertificateList(items=[_certificate(row) for row in rows[:query.limit]],
                           next_cursor=cursor_after(rows, query.limit, "certificates", lambda row: row.issued_at))


@bp.get("/certificates/<int:certificate_id>")
@operation(tags=[TAG], scope="read", model=CertificateItem, not_found=True)
def certificate_detail(certificate_id: int):
    """One of my certificates

    With the public page that verifies it, as printed on the certificate."""
    return _certificate(certificates.access_certificate(g.api_grant.user, certificate_id))


def _certificate(certificate: Certificate) -> CertificateItem:
    return CertificateItem(
        id=certificate.id, code=certificate.code, course_id=certificate.enrollment.course_id,
        learner_name=certificate.learner_name, course_title=certificate.course_title,
        creator_name=certificate.creator_name, issued_at=certificate.issued_at,
        verification_url=url_for("certificates.certificate_detail", code=certificate.code, _external=True))
