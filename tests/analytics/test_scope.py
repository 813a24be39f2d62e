"""Who may see which figures: the pages' own access rules, by page and by htmx request."""
from __future__ import annotations

import pytest

from tests import factories

PAGES = ["/studio/analytics", "/admin/analytics"]


@pytest.mark.parametrize("url", PAGES + ["/studio/courses/1/analytics"])
def test_visitors_are_sent_to_log_in(client, url):
    response = client.get(url)
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_a_creator_sees_their_own_figures_and_a_course_of_theirs(client, login, creator):
    course = factories.make_course(creator, title="Sourdough at home")
    login(creator)
    assert client.get("/studio/analytics").status_code == 200
    page = client.get(f"/studio/courses/{course.id}/analytics")
    assert page.status_code == 200 and "Analytics: Sourdough at home" in page.get_data(as_text=True)


def test_another_creators_course_is_not_found(client, htmx, login, creator, make_user):
    course = factories.make_course(creator)
    login(make_user())
    assert client.get(f"/studio/courses/{course.id}/analytics").status_code == 404
    assert htmx.get(f"/studio/courses/{course.id}/analytics").status_code == 404
    assert client.get("/studio/courses/999999/analytics").status_code == 404


def test_a_finance_admin_may_read_a_creators_course_figures(client, login, creator, make_user):
    course = factories.make_course(creator)
    login(make_user(permissions=("manage_finance",)))
    assert client.get(f"/studio/courses/{course.id}/analytics").status_code == 200


@pytest.mark.parametrize("permissions", [(), ("review_courses",), ("moderate",), ("manage_users",)])
def test_the_platform_figures_need_the_finance_permission(client, htmx, login, make_user, permissions):
    login(make_user(permissions=permissions))
    assert client.get("/admin/analytics").status_code == 403
    assert htmx.get("/admin/analytics").status_code == 403


def test_a_finance_admin_opens_the_platform_figures(client, login, make_user):
    login(make_user(permissions=("manage_finance",)))
    page = client.get("/admin/analytics?range=last_month")
    assert page.status_code == 200 and "Platform analytics" in page.get_data(as_text=True)


def test_an_htmx_request_gets_only_the_figures(htmx, login, creator):
    login(creator)
    body = htmx.get("/studio/analytics?range=7d").get_data(as_text=True)
    assert "<html" not in body and "Choose dates" not in body


def test_bad_period_arguments_are_explained_not_an_error(client, login, creator):
    login(creator)
    page = client.get("/studio/analytics?from=31/01/2026&range=%00")
    assert page.status_code in (200, 400)
    if page.status_code == 200:
        assert "Dates must look like 2026-01-31." in page.get_data(as_text=True)
