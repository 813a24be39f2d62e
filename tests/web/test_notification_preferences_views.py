"""Notification settings (/notifications/preferences) and the live toast region that every
signed-in page connects to the notification stream."""
from __future__ import annotations

import re

import pytest

from app.extensions import db
from app.messaging.bus import bus
from app.messaging.notifications import KINDS, notify
from app.messaging.preferences import digest_kinds, set_digest_kinds
from tests.support.pages import HX, form_token, text

PAGE = "/notifications/preferences"


@pytest.fixture
def signed_in(client, login, learner):
    return login(learner)


def checkboxes(resp) -> dict[str, dict]:
    """The digest checkboxes by value: their id, whether ticked, and their label's text."""
    body = resp.get_data(as_text=True)
    found = {}
    for tag in re.findall(r'<input type="checkbox"[^>]*>', body):
        attrs = dict(re.findall(r'(\w[\w-]*)="([^"]*)"', tag))
        label = re.search(rf'<label for="{re.escape(attrs["id"])}">(.*?)</label>', body, re.S)
        found[attrs["value"]] = {"id": attrs["id"], "checked": " checked" in tag,
                                 "label": re.sub(r"<[^>]+>", "", label.group(1)) if label else None}
    return found


def fresh_kinds(user) -> set[str]:
    db.session.expire_all()
    return digest_kinds(user)


def test_preferences_need_an_account(client, htmx):
    resp = client.get(PAGE)
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/auth/login?next=%2Fnotifications%2Fpreferences"
    assert client.post(PAGE, data={"digest": ["welcome"]}).status_code == 302
    assert htmx.post(PAGE, data={"digest": ["welcome"]}).status_code == 401


def test_preferences_page_lists_every_kind_with_a_labelled_checkbox(client, signed_in):
    resp = client.get(PAGE)
    assert resp.status_code == 200 and "<html" in resp.get_data(as_text=True)
    assert "<h1>Notification settings</h1>" in resp.get_data(as_text=True)
    boxes = checkboxes(resp)
    assert set(boxes) == set(KINDS)
    assert len({box["id"] for box in boxes.values()}) == len(boxes)
    for kind, box in boxes.items():
        assert box["label"] == f"E-mail: {KINDS[kind].label}"
        assert not box["checked"]
    assert text(resp).count("<td>Always</td>") == len(KINDS)


def test_preferences_fragment_for_htmx(client, signed_in):
    resp = client.get(PAGE, headers=HX)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "<html" not in body and "<h1>" not in body
    assert set(checkboxes(resp)) == set(KINDS)


def test_saving_without_javascript_redirects_and_shows_the_choice(client, signed_in, learner):
    resp = client.post(PAGE, data={"digest": ["welcome", "commerce.sale"]})
    assert resp.status_code == 302 and resp.headers["Location"] == PAGE
    assert fresh_kinds(learner) == {"welcome", "commerce.sale"}
    page = client.get(PAGE)
    assert "Notification settings saved." in text(page)
    ticked = {kind for kind, box in checkboxes(page).items() if box["checked"]}
    assert ticked == {"welcome", "commerce.sale"}


def test_unticking_everything_clears_the_digest(client, signed_in, learner):
    set_digest_kinds(learner, ["welcome"])
    db.session.commit()
    assert client.post(PAGE, data={}).status_code == 302
    assert fresh_kinds(learner) == set()


def test_saving_with_htmx_swaps_the_form(client, signed_in, learner):
    resp = client.post(PAGE, data={"digest": ["dm.received"]}, headers=HX)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "<html" not in body
    assert "Notification settings saved." in body
    assert checkboxes(resp)["dm.received"]["checked"]
    assert fresh_kinds(learner) == {"dm.received"}


@pytest.mark.parametrize("headers", [{}, HX], ids=["form", "htmx"])
def test_an_unknown_kind_is_refused_with_a_clear_message(client, signed_in, learner, headers):
    set_digest_kinds(learner, ["welcome"])
    db.session.commit()
    resp = client.post(PAGE, data={"digest": ["commerce.sale", "<b>made.up</b>"]}, headers=headers)
    assert resp.status_code == 422
    assert "Unknown notification kind: <b>made.up</b>." in text(resp)
    assert "<b>made.up</b>" not in resp.get_data(as_text=True)  # escaped
    assert checkboxes(resp)["commerce.sale"]["checked"]  # the choice is kept for another try
    assert fresh_kinds(learner) == {"welcome"}


def test_saving_changes_only_my_own_preferences(client, signed_in, learner, creator):
    set_digest_kinds(creator, ["commerce.sale"])
    db.session.commit()
    client.post(PAGE, data={"digest": ["welcome"], "user_id": str(creator.id)})
    assert fresh_kinds(creator) == {"commerce.sale"}
    assert fresh_kinds(learner) == {"welcome"}


def test_saving_needs_the_csrf_token(client, signed_in, learner, csrf_on):
    assert client.post(PAGE, data={"digest": ["welcome"]}).status_code == 400
    token = form_token(client.get(PAGE))
    assert client.post(PAGE, data={"digest": ["welcome"], "csrf_token": token}).status_code == 302
    assert fresh_kinds(learner) == {"welcome"}


def test_notifications_page_and_settings_link_to_preferences(client, signed_in):
    for url in ("/notifications/", "/auth/settings"):
        assert f'href="{PAGE}"' in client.get(url).get_data(as_text=True), url


# --- the live toast region in the layout -------------------------------------------------------

def region(resp) -> str | None:
    match = re.search(r'<section id="toasts"[^>]*>', resp.get_data(as_text=True))
    return match.group(0) if match else None


def test_signed_in_pages_connect_to_the_stream_after_the_newest_notification(client, signed_in, learner):
    notify(learner, "welcome", name="Lena")
    newest = notify(learner, "welcome", name="Lena")
    db.session.commit()
    resp = client.get("/dashboard/")
    tag = region(resp)
    assert tag is not None
    assert f'sse-connect="/notifications/stream?after={newest.id}"' in tag
    assert 'hx-ext="sse"' in tag and 'sse-swap="notification"' in tag and 'hx-swap="afterbegin"' in tag
    assert 'aria-live="polite"' in tag and 'aria-label="New notifications"' in tag
    assert "/static/vendor/sse.min.js" in resp.get_data(as_text=True)


def test_a_user_without_notifications_starts_after_zero(client, signed_in):
    assert 'sse-connect="/notifications/stream?after=0"' in region(client.get("/dashboard/"))


def test_visitors_pages_have_no_stream_and_no_sse_script(client):
    resp = client.get("/")
    assert resp.status_code == 200
    assert region(resp) is None
    assert "sse.min.js" not in resp.get_data(as_text=True)


def test_the_stream_is_not_opened_by_rendering_a_page(app, client, signed_in):

    before = bus().subscriber_count()
    client.get("/dashboard/")
    assert bus().subscriber_count() == before
