from app.catalog.models import Category


def test_a_curator_sees_and_adds_categories(client, login, make_user, db):
    login(make_user(permissions=("review_courses",)))
    page = client.get("/admin/categories")
    assert page.status_code == 200 and b"<html" in page.data and b"Development" in page.data
    resp = client.post("/admin/categories", data={"name": "Woodwork"})
    assert resp.status_code == 302
    assert db.session.query(Category).filter_by(name="Woodwork").count() == 1


def test_an_htmx_request_gets_only_the_list(htmx, login, make_user):
    login(make_user(permissions=("review_courses",)))
    resp = htmx.get("/admin/categories")
    assert resp.status_code == 200 and b"<html" not in resp.data and b"Development" in resp.data


def test_a_bad_name_shows_the_error_and_keeps_what_was_typed(client, login, make_user):
    login(make_user(permissions=("review_courses",)))
    resp = client.post("/admin/categories", data={"name": "x" * 61})
    assert resp.status_code == 422
    assert b"under 60 characters" in resp.data and b"x" * 61 in resp.data


def test_categories_are_forbidden_without_the_permission(client, htmx, login, make_user):
    login(make_user(permissions=("moderate",)))
    assert client.get("/admin/categories").status_code == 403
    assert client.post("/admin/categories", data={"name": "Hack"}).status_code == 403
    assert htmx.post("/admin/categories", data={"name": "Hack"}).status_code == 403
