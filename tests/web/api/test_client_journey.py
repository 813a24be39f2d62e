"""The issue's "done when": a client that knows only /api/v1/openapi.json signs in with a
token, finds a course, buys it (local gateway), learns it to completion, reviews it and
messages its creator; then, as the creator, sees the sale and withdraws the earnings.

Every URL comes from the document, by operationId: nothing here knows a path of the API."""
from __future__ import annotations

import uuid

from tests.support.api import ApiClient, token_for
from tests.support.search import publish


class DocumentClient:
    """Calls operations by their operationId, with the method and path the document gives."""

    def __init__(self, api: ApiClient, document: dict):
        self.api = api
        self.operations = {op["operationId"]: (method.upper(), path)
                           for path, item in document["paths"].items() for method, op in item.items()}

    def call(self, operation_id: str, *, expect: int = 200, json=None, query: dict | None = None,
             idempotent: bool = False, **path_values):
        method, path = self.operations[operation_id]
        for name, value in path_values.items():
            path = path.replace(f"{{{name}}}", str(value))
        assert "{" not in path, f"{operation_id}: no value for {path}"
        headers = {"Idempotency-Key": str(uuid.uuid4())} if idempotent else {}
        resp = self.api.open(method, path, json=json, query_string=query, headers=headers)
        assert resp.status_code == expect, (operation_id, resp.status_code, resp.get_data(as_text=True))
        return resp.get_json(silent=True)


def test_a_client_from_the_document_buys_learns_reviews_messages_and_the_creator_withdraws(
        app, client, login, creator, admin, learner):
    publish(creator, admin, title="Practical kiln firing", price="49.00")
    document = client.get("/api/v1/openapi.json").get_json()
    me = DocumentClient(ApiClient(client, token_for(learner, "read", "learn")), document)

    # Sign in with a token.
    assert me.call("me_me")["id"] == learner.id

    # Find the course, and read its syllabus.
    found = me.call("catalog_search", query={"q": "kiln firing"})["items"]
    assert [item["title"] for item in found] == ["Practical kiln firing"]
    detail = me.call("catalog_course", slug=found[0]["slug"])
    lessons = [lesson["id"] for section in detail["syllabus"] for lesson in section["lessons"]]
    assert detail["price"] == {"amount_minor": 4900, "currency": "USD"} and lessons

    # Buy it: the checkout gives the payment page; the buyer pays there, in a browser (the
    # local gateway's page, like the site's, wants the buyer signed in; Stripe's would not).
    started = me.call("money_checkout_start", expect=201, json={"course_id": detail["id"]}, idempotent=True)
    browser = app.test_client()
    login(learner, on=browser)
    assert browser.get(started["payment_url"]).status_code == 200
    assert browser.post(started["payment_url"], data={"action": "pay"}).status_code == 302
    order = me.call("money_order_detail", order_id=started["order_id"])
    assert order["status"] == "paid"

    # Learn it to completion.
    for lesson_id in lessons:
        assert me.call("learning_lesson_content", course_id=detail["id"], lesson_id=lesson_id)["enrolled"]
        me.call("learning_lesson_complete", course_id=detail["id"], lesson_id=lesson_id)
    progress = me.call("learning_course_progress", course_id=detail["id"])
    assert progress["percent"] == 100 and progress["completed_at"]

    # Review it, and message its creator.
    me.call("reviews_review_write", json={"rating": 5, "body": "Clear and practical."}, course_id=detail["id"])
    conversation = me.call("messaging_conversation_start", json={"to": detail["creator"]["id"]})
    me.call("messaging_conversation_send", expect=201, json={"body": "Thank you for the course!"},
            conversation_id=conversation["id"])

    # The creator sees the sale, the review and the message, and withdraws what is available.
    seller = DocumentClient(ApiClient(client, token_for(creator, "read", "sell")), document)
    sales = seller.call("earnings_sale_list")["items"]
    assert [(sale["order_id"], sale["state"]) for sale in sales] == [(started["order_id"], "available")]
    share = sales[0]["creator_share"]
    figures = seller.call("earnings_earnings_figures")
    assert figures["available"] == share and share["amount_minor"] > 0
    reviews = seller.call("reviews_review_list", course_id=detail["id"])["items"]
    assert [(review["rating"], review["body"]) for review in reviews] == [(5, "Clear and practical.")]
    inbox = seller.call("messaging_conversation_list")["items"]
    assert inbox[0]["last_message"]["body"] == "Thank you for the course!"

    seller.call("earnings_payout_connect_paypal", json={"email": "carl@example.test"})
    payout = seller.call("earnings_payout_request", expect=201, json=share, idempotent=True)
    assert payout["amount"] == share
    after = seller.call("earnings_earnings_figures")
    assert after["available"]["amount_minor"] == 0
    assert after["in_flight"]["amount_minor"] + after["paid_out"]["amount_minor"] == share["amount_minor"]
