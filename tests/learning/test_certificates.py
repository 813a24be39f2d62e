"""Certificates of completion (app/learning/certificates.py and the completion subscriber)."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app.errors import NotFound
from app.learning import certificates
from app.learning.enrollment import enroll
from app.learning.events import CourseCompleted
from app.learning.models import Certificate
from app.learning.subscribers import certify_and_congratulate
from tests.support.learning import course_with_kinds, finish_course
from tests.support.rows import notifications


def certificate_count(db) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Certificate))


def test_no_certificate_before_completion(db, learner, course, enrolled):
    assert certificates.certificate_for(enrolled) is None
    assert certificates.certificate_for(None) is None
    assert certificate_count(db) == 0


def test_completion_issues_a_certificate_with_the_names_and_date(db, learner, creator, course,
                                                                  enrolled):
    finish_course(learner, course)
    db.session.expire_all()
    certificate = certificates.certificate_for(enrolled)
    assert certificate.learner_name == "Lena Learner"
    assert certificate.course_title == course.title
    assert certificate.creator_name == "Carl Creator"
    assert certificate.issued_at == enrolled.completed_at


def test_the_certificate_code_is_long_random_and_url_safe(db, make_user, course):
    codes = set()
    for _ in range(3):
        who = make_user(password=None)
        enroll(who, course)
        db.session.commit()
        finish_course(who, course)
        codes.add(certificates.certificate_for(enroll(who, course)).code)
    assert len(codes) == 3
    for code in codes:
        assert len(code) >= 22 and re.fullmatch(r"[A-Za-z0-9_-]+", code)
        assert not code.isdigit()


def test_a_certificate_is_found_by_its_code(db, learner, course, enrolled):
    finish_course(learner, course)
    certificate = certificates.certificate_for(enrolled)
    assert certificates.certificate_by_code(certificate.code).id == certificate.id


@pytest.mark.parametrize("code", ["", "nope", "x" * 500])
def test_an_unknown_code_is_not_found(db, learner, course, enrolled, code):
    finish_course(learner, course)
    with pytest.raises(NotFound):
        certificates.certificate_by_code(code)


def test_issuing_again_returns_the_same_certificate(db, learner, course, enrolled):
    finish_course(learner, course)
    first = certificates.certificate_for(enrolled)
    assert certificates.issue_certificate(enrolled).id == first.id
    assert certificate_count(db) == 1


def test_a_repeated_completion_event_issues_no_second_certificate(db, learner, course, enrolled,
                                                                  emitted):
    finish_course(learner, course)
    [completed] = [event for event in emitted if isinstance(event, CourseCompleted)]
    certify_and_congratulate(completed)  # delivered twice, as a retried job might
    db.session.commit()
    assert certificate_count(db) == 1


def test_the_learner_is_congratulated_with_a_link_to_the_certificate(db, learner, course, enrolled):
    finish_course(learner, course)
    [note] = notifications(learner, "learning.course_completed")
    assert note.data["certificate"] == certificates.certificate_for(enrolled).code


def test_a_learner_lists_and_loads_only_their_own_certificates(db, learner, make_user, creator, admin, course,
                                                               enrolled):
    finish_course(learner, course)
    second = course_with_kinds(creator, admin, title="Second course")
    enroll(learner, second)
    finish_course(learner, second)
    mine = certificates.certificates_page(learner.id, limit=1)
    rest = certificates.certificates_page(learner.id, after=(mine[-1].issued_at, mine[-1].id))
    assert [c.course_title for c in mine + rest] == ["Second course", course.title]
    assert certificates.access_certificate(learner, mine[0].id).id == mine[0].id
    other = make_user(password=None)
    assert certificates.certificates_page(other.id) == []
    with pytest.raises(NotFound):
        certificates.access_certificate(other, mine[0].id)
