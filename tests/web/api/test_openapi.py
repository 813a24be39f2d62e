"""The OpenAPI 3.1 document: public, valid, and true to the routes."""
from __future__ import annotations

import re

from openapi_spec_validator import validate
from openapi_spec_validator.validation.validators import OpenAPIV31SpecValidator

from tests.support.api import EVERY_PLAIN_SCOPE, ApiClient, assert_problem, token_for


def test_the_document_is_public_and_valid_openapi_3_1(client):
    resp = client.get("/api/v1/openapi.json")
    assert resp.status_code == 200
    doc = resp.get_json()
    assert doc["openapi"] == "3.1.0"
    validate(doc, cls=OpenAPIV31SpecValidator)


def test_every_api_route_is_in_the_document_and_nothing_else(app, client):
    doc = client.get("/api/v1/openapi.json").get_json()
    documented = {(path, method.upper()) for path, item in doc["paths"].items() for method in item}
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api.") and rule.endpoint not in UNDOCUMENTED:
            path = rule.rule
            for name in rule.arguments:
                path = path.replace(f"<int:{name}>", f"{{{name}}}").replace(f"<{name}>", f"{{{name}}}")
            routes |= {(path, method) for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert documented == routes


UNDOCUMENTED = {"api.openapi_json", "api.docs"}  # the document itself and its reader


def test_errors_are_declared_as_problem_details(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    me = doc["paths"]["/api/v1/me"]["get"]
    assert set(me["responses"]["401"]["content"]) == {"application/problem+json"}
    assert me["security"] == [{"bearer": []}, {"oauth2": []}]
    search = doc["paths"]["/api/v1/courses"]["get"]
    assert "security" not in search  # public
    assert {p["name"] for p in search["parameters"]} >= {"q", "price", "min_price", "max_price", "min_rating",
                                                         "category", "creator", "level", "language", "sort",
                                                         "cursor", "limit"}


def test_a_nul_character_is_a_400_problem_every_operation_declares(anonymous, client):
    """Found by the property run (test_openapi_properties.py): the site refuses a NUL in the
    query before any view (security.py), which the document did not declare."""
    from_the_search = assert_problem(anonymous.get("/api/v1/courses?q=a%00b"), 400)
    assert "not allowed" in from_the_search["detail"]
    doc = client.get("/api/v1/openapi.json").get_json()
    for item in doc["paths"].values():
        for op in item.values():
            assert set(op["responses"]["400"]["content"]) == {"application/problem+json"}


def secured_operations(doc):
    """(method, path with ids filled in, the scope it needs or None for any token)."""
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if "security" not in op:
                continue
            scopes = next((entry["oauth2"] for entry in op["security"] if "oauth2" in entry), [])
            filled = re.sub(r"\{[a-z_]+\}", "1", path)
            if "{slug}" in path or "target_type" in path:
                filled = path.replace("{target_type}", "post").replace("{slug}", "x")
                filled = re.sub(r"\{[a-z_]+\}", "1", filled)
            yield method.upper(), filled, scopes[0] if scopes else None


def test_every_secured_operation_is_401_without_a_token_and_403_without_its_scope(client, make_user):
    doc = client.get("/api/v1/openapi.json").get_json()
    operations = list(secured_operations(doc))
    assert len(operations) > 60
    lacking = {}  # scope -> a client whose token holds every plain scope but that one
    for method, path, scope in operations:
        resp = client.open(path, method=method)
        assert resp.status_code == 401 and resp.mimetype == "application/problem+json", (method, path)
        if scope is None:
            continue
        if scope not in lacking:
            holder = make_user(permissions=("superuser",))  # every admin scope is grantable to them
            lacking[scope] = ApiClient(client, token_for(holder, *(s for s in EVERY_PLAIN_SCOPE if s != scope)))
        resp = lacking[scope].open(method, path)
        assert resp.status_code == 403 and scope in resp.get_json(force=True)["detail"], (method, path, scope)
