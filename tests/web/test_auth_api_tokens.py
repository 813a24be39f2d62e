"""The personal access tokens page (/auth/settings/tokens, app/blueprints/auth/api_tokens.py):
make a token and see it once, the list, revoking, and the refusals."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app.accounts import api_tokens
from app.accounts.models import ApiToken
from app.extensions import db
from tests.support.pages import HX, assert_fragment, assert_page, form_token, text, words

URL = "/auth/settings/tokens"
SECRET = re.compile(r"lyc_pat_[A-Za-z0-9_-]{43}")


def create(client, headers=None, **fields):
    data = {"name": "grading script", "scopes": ["read", "learn"], "expires_in_days": "90", **fields}
    return client.post(URL, data=data, headers=headers or {})


def secret_in(resp) -> str:
    found = SECRET.findall(text(resp))
    assert len(set(found)) == 1, found
    return found[0]


def works(secret) -> bool:
    """Whether the API would take `secret` now (as a new request sees the database)."""
    db.session.expire_all()
    return api_tokens.authenticate_token(secret) is not None


def tokens_of(user) -> list[ApiToken]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(ApiToken).where(ApiToken.user_id == user.id)))


@pytest.fixture
def signed_in(login, learner):
    return login(learner)


def test_the_page_needs_an_account(client):
    resp = client.get(URL)
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/auth/login?next=")
    assert create(client).status_code == 302
    assert client.post(f"{URL}/1/revoke").status_code == 302


def test_the_settings_page_links_to_it(client, signed_in):
    assert f'href="{URL}"' in text(client.get("/auth/settings"))


def test_the_page_offers_the_grantable_scopes_with_labels(client, signed_in):
    resp = client.get(URL)
    assert_page(resp)
    body = text(resp)
    assert "<h1>API tokens</h1>" in body and "You have no tokens yet." in body
    assert "<legend>Scopes: what the token may do</legend>" in body
    for scope in ("read", "learn", "teach", "sell"):
        [box] = re.findall(rf'<input[^>]*value="{scope}"[^>]*>', body)
        box_id = re.search(r'id="([^"]+)"', box).group(1)
        assert f'<label for="{box_id}">' in body and f'aria-describedby="{box_id}-help"' in box
    assert "admin:" not in body
    assert '<label for="name">Name</label>' in body
    assert '<label for="expires_in_days">Expires after</label>' in body
    assert '<option selected value="30">30 days</option>' in body


def test_an_admin_is_offered_the_admin_scopes_they_hold(client, login, reviewer):
    login(reviewer)
    body = text(client.get(URL))
    assert 'value="admin:review_courses"' in body and 'value="admin:moderate"' not in body


def test_the_page_for_htmx_is_the_tokens_block_only(htmx, signed_in):
    resp = htmx.get(URL)
    assert_fragment(resp, "Create token")
    assert "<h1>" not in text(resp)


# --- making one --------------------------------------------------------------------------------

def test_a_new_token_is_shown_once(client, signed_in):
    resp = create(client)
    assert resp.status_code == 201 and b"<html" in resp.data
    assert resp.headers["Cache-Control"] == "no-store"
    secret = secret_in(resp)
    assert "Copy it now: you won't see it again." in text(resp)
    [row] = tokens_of(signed_in)
    assert (row.name, row.scopes, row.prefix) == ("grading script", "read learn", secret[:12])
    assert secret not in (client.get_cookie("session").value or "")  # no flash carries it
    again = client.get(URL)
    assert secret not in text(again) and f"{secret[:12]}…" in text(again)
    assert "grading script" in words(again) and "Never" in words(again)
    assert api_tokens.authenticate_token(secret).user.id == signed_in.id
    db.session.commit()
    assert "Never" not in words(client.get(URL))  # last used: now


def test_a_new_token_over_htmx_comes_in_the_fragment(client, signed_in):
    resp = create(client, headers=HX)
    assert_fragment(resp, "Copy it now", status=201)
    assert secret_in(resp)
    assert "grading script" in words(resp)  # the list in the same swap


def test_the_form_is_blank_again_after_a_token_is_made(client, signed_in):
    body = text(create(client, name="first"))
    assert re.search(r'<input[^>]*id="name"[^>]*value=""', body)


@pytest.mark.parametrize("fields, message, field_id", [
    ({"name": " "}, "Give the token a name, so you can tell it apart later.", "name"),
    ({"name": "n" * 81}, "Keep the name to 80 characters or fewer.", "name"),
    ({"scopes": []}, "Choose at least one scope.", "scopes"),
    ({"scopes": ["read", "write"]}, "Unknown scope 'write'", "scopes"),
    ({"scopes": ["admin:superuser"]}, "You cannot give a token the scope 'admin:superuser'", "scopes"),
    ({"expires_in_days": "0"}, "Choose how long the token lasts: 7, 30, 90 or 365 days.", "expires_in_days"),
    ({"expires_in_days": "forever"}, "Choose how long the token lasts", "expires_in_days"),
])
def test_bad_input_is_a_422_with_the_reason_on_its_field(client, signed_in, fields, message, field_id):
    resp = create(client, **fields)
    assert_page(resp, 422)
    body = text(resp)
    assert re.search(rf'<small id="{field_id}-error" class="field-error">[^<]*{re.escape(message)}', body), body
    assert not SECRET.search(body) and tokens_of(signed_in) == []


def test_bad_input_keeps_what_was_typed_and_ticked(client, signed_in):
    body = text(create(client, name="keep me", scopes=["teach", "nope"]))
    assert 'value="keep me"' in body
    assert re.search(r'<input[^>]* checked [^>]*value="teach"', body)
    assert not re.search(r'<input[^>]* checked [^>]*value="read"', body)  # the default is not forced back


def test_bad_input_over_htmx_is_the_fragment(client, signed_in):
    resp = create(client, headers=HX, name="")
    assert_fragment(resp, "Give the token a name", status=422)


def test_the_fifty_first_token_is_refused_above_the_form(client, signed_in):
    for n in range(api_tokens.MAX_LIVE_TOKENS):
        api_tokens.create_token(signed_in, name=f"t{n}", scopes=["read"])
    db.session.commit()
    resp = create(client)
    assert resp.status_code == 422
    assert re.search(r'<div class="form-errors" role="alert">\s*<p>You already have 50 active tokens', text(resp))


# --- revoking ----------------------------------------------------------------------------------

def test_revoking_a_token_stops_it_and_says_so(client, signed_in):
    secret = secret_in(create(client))
    [row] = tokens_of(signed_in)
    resp = client.post(f"{URL}/{row.id}/revoke")
    assert resp.status_code == 302 and resp.headers["Location"] == f"{URL}#token-list-h"
    assert not works(secret)
    page = words(client.get(URL))
    assert "The token “grading script” is revoked: it no longer works." in page
    assert "Revoked" in page and "Revoke grading script" not in page


def test_revoking_over_htmx_answers_the_fragment(client, signed_in):
    create(client)
    [row] = tokens_of(signed_in)
    resp = client.post(f"{URL}/{row.id}/revoke", headers=HX)
    assert_fragment(resp, "is revoked: it no longer works.")
    assert tokens_of(signed_in)[0].revoked_at is not None


def test_revoking_twice_is_fine(client, signed_in):
    create(client)
    [row] = tokens_of(signed_in)
    assert client.post(f"{URL}/{row.id}/revoke").status_code == 302
    assert client.post(f"{URL}/{row.id}/revoke").status_code == 302


@pytest.mark.parametrize("token_id", ["theirs", 999_999, 2**40])
def test_another_users_token_is_not_found(client, signed_in, creator, token_id):
    token, secret = api_tokens.create_token(creator, name="creator's", scopes=["read"])
    db.session.commit()
    resp = client.post(f"{URL}/{token.id if token_id == 'theirs' else token_id}/revoke")
    assert resp.status_code == 404
    assert works(secret)
    assert "creator's" not in text(client.get(URL))


def test_logging_out_leaves_the_token_working(client, signed_in):
    secret = secret_in(create(client))
    client.post("/auth/logout")
    assert works(secret)


# --- CSRF --------------------------------------------------------------------------------------

def test_posts_without_the_csrf_token_are_refused(client, signed_in, csrf_on):
    assert create(client).status_code == 400
    assert create(client, headers=HX).status_code == 400
    assert tokens_of(signed_in) == []
    token, secret = api_tokens.create_token(signed_in, name="kept", scopes=["read"])
    db.session.commit()
    assert client.post(f"{URL}/{token.id}/revoke").status_code == 400
    assert works(secret)


def test_the_forms_carry_the_csrf_token(client, signed_in, csrf_on):
    api_tokens.create_token(signed_in, name="kept", scopes=["read"])
    db.session.commit()
    page = client.get(URL)
    forms = re.findall(r'<form method="post".*?</form>', text(page), re.DOTALL)
    assert len(forms) == 2 and all('name="csrf_token"' in form for form in forms)
    resp = create(client, csrf_token=form_token(page))
    assert resp.status_code == 201
