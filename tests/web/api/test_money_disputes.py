"""The disputes API: the learner's and the creator's view of disputes on their orders, as the
dispute page shows them to the parties."""
from __future__ import annotations

import pytest

from app.commerce import disputes
from app.extensions import db
from tests.support.api import assert_problem
from tests.support.commerce import buy, paid_course


@pytest.fixture
def dispute(learner, creator):
    """The learner bought a course and disputes it; the creator answered."""
    order = buy(learner, paid_course(creator, title="Painting with Light"))
    opened = disputes.open_dispute(learner, order, reason="quality", message="The videos are blurry.")
    disputes.post_message(creator, opened, body="They are 1080p.")
    db.session.commit()
    return opened


def test_the_learner_and_the_creator_list_the_dispute_from_their_side(api, learner, creator, make_user, dispute):
    mine = api(learner, "read").get("/api/v1/disputes").get_json()
    assert mine["next_cursor"] is None
    [item] = mine["items"]
    assert item["id"] == dispute.id and item["role"] == "learner" and item["status"] == "open"
    assert item["reason"] == "quality" and item["reason_label"] == "The quality is unacceptable"
    assert item["course"]["title"] == "Painting with Light" and item["source"] == "learner"
    assert item["ruling"] is None and item["refund"] is None and item["closed_at"] is None
    [theirs] = api(creator, "read").get("/api/v1/disputes").get_json()["items"]
    assert theirs == {**item, "role": "creator"}
    assert api(make_user(), "read").get("/api/v1/disputes").get_json()["items"] == []


def test_disputes_come_a_page_at_a_time(api, learner, creator, dispute):
    later = buy(learner, paid_course(creator))
    second = disputes.open_dispute(learner, later, reason="other", message="Hm.")
    db.session.commit()
    caller = api(learner, "read")
    page = caller.get("/api/v1/disputes?limit=1").get_json()
    assert [item["id"] for item in page["items"]] == [second.id]
    rest = caller.get(f"/api/v1/disputes?limit=1&cursor={page['next_cursor']}").get_json()
    assert [item["id"] for item in rest["items"]] == [dispute.id] and rest["next_cursor"] is None


def test_dispute_list_refuses_bad_paging_and_needs_read(anonymous, api, learner):
    assert_problem(api(learner, "read").get("/api/v1/disputes?limit=101"), 422)
    assert_problem(api(learner, "read").get("/api/v1/disputes?cursor=nope"), 422)
    assert_problem(anonymous.get("/api/v1/disputes"), 401)
    assert_problem(api(learner, "learn").get("/api/v1/disputes"), 403)


def test_a_dispute_shows_its_timeline_to_both_parties(api, learner, creator, dispute):
    body = api(learner, "read").get(f"/api/v1/disputes/{dispute.id}").get_json()
    assert body["price"] == {"amount_minor": 2999, "currency": "USD"} and body["decision"] == ""
    assert [(m["role"], m["author"]["display_name"], m["body"]) for m in body["messages"]] == [
        ("learner", learner.display_name, "The videos are blurry."),
        ("creator", creator.display_name, "They are 1080p.")]
    assert set(body["messages"][0]["author"]) == {"id", "display_name", "headline"}  # no e-mail
    assert api(creator, "read").get(f"/api/v1/disputes/{dispute.id}").get_json()["role"] == "creator"


def test_a_ruled_dispute_shows_the_ruling(api, learner, make_user, dispute):
    finance = make_user(permissions=("manage_finance",))
    disputes.rule_on_dispute(finance, dispute, ruling="partial_refund", decision="Half back.", refund_minor=1500)
    db.session.commit()
    body = api(learner, "read").get(f"/api/v1/disputes/{dispute.id}").get_json()
    assert body["status"] == "ruled" and body["ruling"] == "partial_refund"
    assert body["refund"] == {"amount_minor": 1500, "currency": "USD"} and body["decision"] == "Half back."
    assert body["messages"][-1]["role"] == "admin" and body["closed_at"].endswith("Z")


def test_a_dispute_is_only_the_parties(anonymous, api, learner, make_user, dispute):
    assert_problem(api(make_user(), "read").get(f"/api/v1/disputes/{dispute.id}"), 404)
    # A finance admin reads it on the admin pages; this is the parties' view.
    assert_problem(api(make_user(permissions=("manage_finance",)), "read").get(f"/api/v1/disputes/{dispute.id}"), 404)
    assert_problem(api(learner, "read").get("/api/v1/disputes/999999"), 404)
    assert_problem(api(learner, "learn").get(f"/api/v1/disputes/{dispute.id}"), 403)
    assert_problem(anonymous.get(f"/api/v1/disputes/{dispute.id}"), 401)
