"""Property-based: schemathesis generates requests for every operation of the OpenAPI document
(valid data, then data the document forbids) and checks each answer against the document: no
5xx, a declared status, a declared content type, a body that fits the declared schema. Once
anonymously and once with a token holding every plain scope; path parameters both generated
and set to objects that exist, so the success answers are checked too.

Bounded for CI (MAX_EXAMPLES per operation and mode, derandomized: the same examples every run)."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.api import token_for
from tests.support.search import publish

MAX_EXAMPLES = 25
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
BOUNDED = settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
                   suppress_health_check=list(HealthCheck))


@pytest.fixture
def schema(app):
    """The document as the app serves it; requests go to the app in-process (WSGI)."""
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


@pytest.fixture
def existing(creator, admin):
    """Path parameters that name real objects: a published course and its creator. (An
    operation whose path names something else gets generated values only; add it here.)"""
    course = publish(creator, admin, title="Practical property testing", price="19.99")
    return {"slug": course.slug, "creator_id": creator.id}


def operations(schema):
    found = [result.ok() for result in schema.get_all_operations()]
    assert len(found) >= 5  # the catalog and /me at least: the document was read
    return found


def exercise(operation, mode: GenerationMode, headers: dict, path_parameters: dict | None = None) -> bool:
    """Run the operation's examples; False when the mode has none to give (nothing in the
    operation can be made invalid: a string path parameter with no pattern, say)."""
    @BOUNDED
    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
    def run(case):
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS, headers=headers)

    try:
        run()
    except Unsatisfiable:
        if mode is GenerationMode.POSITIVE:
            raise
        return False
    return True


@pytest.mark.parametrize("who", ["anonymous", "token"])
def test_every_operation_answers_as_the_document_says(schema, existing, learner, who):
    headers = {"Authorization": f"Bearer {token_for(learner)}"} if who == "token" else {}
    broken = set()
    for operation in operations(schema):
        known = {parameter.name: existing[parameter.name] for parameter in operation.path_parameters
                 if parameter.name in existing}
        exercise(operation, GenerationMode.POSITIVE, headers)
        if any(True for _ in operation.iter_parameters()) or operation.body:  # something to break
            if exercise(operation, GenerationMode.NEGATIVE, headers):
                broken.add(operation.label)
        if known:
            exercise(operation, GenerationMode.POSITIVE, headers, known)
    assert "GET /api/v1/courses" in broken  # invalid data was sent, not only valid
