"""The public certificate page: issued on completion, verifiable by anyone with the code."""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.learning.models import Certificate
from tests.support.pages import text
from tests.support.player import complete, learning_course


def certificate_of(enrollment) -> Certificate:
    db.session.expire_all()
    return db.session.scalar(sa.select(Certificate).where(Certificate.enrollment_id == enrollment.id))


def test_a_completed_course_has_a_public_certificate(client, learner, creator, reviewer):
    course = learning_course(creator, reviewer)
    finished = complete(learner, course)
    certificate = certificate_of(finished)
    assert certificate is not None and len(certificate.code) >= 20
    resp = client.get(f"/certificates/{certificate.code}")  # nobody signed in
    assert resp.status_code == 200
    body = text(resp)
    assert "<html" in body
    assert "Certificate of completion" in body
    assert '<p class="cert-name">Lena Learner</p>' in body
    assert '<p class="cert-course">Learning by Doing</p>' in body
    assert "taught by Carl Creator" in body
    issued = finished.completed_at
    assert f'<time datetime="{issued.date().isoformat()}">{issued.strftime("%d %b %Y")}</time>' in body
    assert certificate.code in body
    assert "Save as PDF" in body


def test_the_certificate_shows_its_own_address(client, learner, creator, reviewer):
    course = learning_course(creator, reviewer)
    code = certificate_of(complete(learner, course)).code
    body = text(client.get(f"/certificates/{code}?x=<b>injected</b>"))
    assert f"verify at http://localhost/certificates/{code}<" in body
    assert "injected" not in body


def test_the_learner_finds_the_certificate_in_the_player(client, login, learner, creator, reviewer):
    course = learning_course(creator, reviewer)
    code = certificate_of(complete(learner, course)).code
    login(learner)
    body = text(client.get(f"/learn/{course.id}", follow_redirects=True))
    assert f'href="/certificates/{code}">See your certificate</a>' in body


def test_an_unfinished_course_has_no_certificate(learner, creator, reviewer):
    from tests.support.player import enroll

    course = learning_course(creator, reviewer)
    assert certificate_of(enroll(learner, course)) is None


def test_an_unknown_code_is_a_404_page_with_the_layout(client, htmx):
    resp = client.get("/certificates/not-a-real-code")
    assert resp.status_code == 404
    body = text(resp)
    assert "<html" in body and 'class="site-header"' in body
    assert "There is no certificate with this code." in body
    long = client.get("/certificates/" + "x" * 5000)
    assert long.status_code == 404
    fragment = htmx.get("/certificates/not-a-real-code")
    assert fragment.status_code == 404 and "<html" not in fragment.get_data(as_text=True)
