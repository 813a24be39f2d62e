"""The signed-in user's settings: profile, avatar, password, e-mail, deletion; and what a
suspension does to a session that is already open."""
from __future__ import annotations

import io

import pytest

from app.accounts.queries import get_user, user_by_email
from app.extensions import db
from app.moderation import suspensions
from tests.factories import PASSWORD
from tests.support.pages import link_in, text
from tests.support.uploads import png


def fresh(user):
    db.session.expire_all()
    return get_user(user.id)

NEW_PASSWORD = "a much better passphrase"


@pytest.fixture
def signed_in(client, login, learner):
    login(learner)
    return learner


def test_settings_need_an_account(client):
    resp = client.get("/auth/settings")
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/auth/login?next=%2Fauth%2Fsettings"


def test_settings_page_renders_with_layout(client, signed_in):
    resp = client.get("/auth/settings")
    assert resp.status_code == 200
    assert b"<html" in resp.data and b"<h1>Settings</h1>" in resp.data
    body = text(resp)
    for button in ("Save profile", "Upload avatar", "Change password", "Change e-mail",
                   "Request deletion"):
        assert button in body
    assert 'value="Lena Learner"' in body
    assert "learner@example.test" in body


def test_settings_page_for_htmx_is_the_settings_block_only(htmx, signed_in):
    resp = htmx.get("/auth/settings")
    assert resp.status_code == 200
    assert b"<html" not in resp.data and b"<h1>Settings</h1>" not in resp.data
    assert b"Save profile" in resp.data and b"Request deletion" in resp.data


# --- profile ---------------------------------------------------------------------------


def test_profile_update_saves_and_redirects(client, signed_in):
    resp = client.post("/auth/settings/profile",
                       data={"display_name": "  Lena   L. ", "headline": "Learns SQL", "bio": "Hi!"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/auth/settings"
    user = fresh(signed_in)
    assert (user.display_name, user.headline, user.bio) == ("Lena L.", "Learns SQL", "Hi!")
    page = text(client.get("/auth/settings"))
    assert "Profile saved." in page and 'value="Learns SQL"' in page


def test_profile_errors_keep_the_input(client, signed_in):
    resp = client.post("/auth/settings/profile",
                       data={"display_name": "New Name", "headline": "h" * 121, "bio": "My bio"})
    assert resp.status_code == 422
    assert b"<html" in resp.data
    body = text(resp)
    assert 'value="New Name"' in body and "My bio</textarea>" in body
    assert "Field cannot be longer than 120 characters." in body
    assert fresh(signed_in).display_name == "Lena Learner"


def test_profile_without_a_name_says_so_and_keeps_the_rest(client, signed_in):
    resp = client.post("/auth/settings/profile",
                       data={"display_name": "   ", "headline": "Kept headline", "bio": ""})
    assert resp.status_code == 422
    assert "This field is required." in text(resp)
    assert 'value="Kept headline"' in text(resp)


def test_profile_errors_over_htmx_are_the_profile_fragment(htmx, signed_in):
    resp = htmx.post("/auth/settings/profile", data={"display_name": "", "bio": "Kept"})
    assert resp.status_code == 422
    assert b"<html" not in resp.data and b"Upload avatar" not in resp.data
    assert "This field is required." in text(resp) and "Kept</textarea>" in text(resp)


def test_profile_update_over_htmx_redirects_with_hx_redirect(htmx, signed_in):
    resp = htmx.post("/auth/settings/profile", data={"display_name": "Lena"})
    assert resp.status_code == 204 and resp.headers["HX-Redirect"] == "/auth/settings"


def test_profile_text_is_escaped_on_the_page(client, signed_in):
    client.post("/auth/settings/profile",
                data={"display_name": "<script>alert(1)</script>", "headline": "<b>bold</b>"})
    body = client.get("/dashboard/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


# --- avatar ----------------------------------------------------------------------------


def upload(client, data: bytes, name: str = "me.png", **kw):
    return client.post("/auth/settings/avatar", content_type="multipart/form-data",
                       data={"avatar": (io.BytesIO(data), name)}, **kw)


def test_avatar_upload_stores_a_png_under_a_random_name(client, signed_in):
    resp = upload(client, png(4, 4), name="../../etc/passwd.png")
    assert resp.status_code == 302 and resp.headers["Location"] == "/auth/settings"
    key = fresh(signed_in).avatar_key
    assert key and key.endswith(".png") and "passwd" not in key
    page = text(client.get("/auth/settings"))
    assert f'src="/avatars/{key}"' in page
    served = client.get(f"/avatars/{key}")
    assert served.status_code == 200 and served.mimetype == "image/png"


def test_new_avatar_replaces_the_old_file(client, signed_in):
    upload(client, png(1, 1))
    first = fresh(signed_in).avatar_key
    upload(client, png(2, 2))
    second = fresh(signed_in).avatar_key
    assert first != second
    assert client.get(f"/avatars/{first}").status_code == 404
    assert client.get(f"/avatars/{second}").status_code == 200


def test_avatar_that_is_not_an_image_is_refused_with_a_message(client, signed_in):
    resp = upload(client, b"just some text, honestly\n" * 10, name="photo.png")
    assert resp.status_code == 422
    assert b"<html" in resp.data
    assert "The avatar must be one of: gif, jpg, png, webp." in text(resp)
    assert fresh(signed_in).avatar_key is None


def test_avatar_that_is_too_large_is_refused_with_a_message(client, signed_in):
    resp = upload(client, png(padding=2 * 1024 * 1024 + 1))
    assert resp.status_code in (413, 422)
    assert "The avatar is larger than 2 MB." in text(resp)
    assert fresh(signed_in).avatar_key is None


def test_empty_avatar_is_refused_with_a_message(client, signed_in):
    resp = upload(client, b"")
    assert resp.status_code == 422
    assert "Choose an image file." in text(resp) or "The avatar is empty." in text(resp)


def test_avatar_form_without_a_file_asks_for_one(client, signed_in):
    resp = client.post("/auth/settings/avatar", data={}, content_type="multipart/form-data")
    assert resp.status_code == 422
    assert "Choose an image file." in text(resp)


def test_avatar_errors_over_htmx_are_the_avatar_fragment(htmx, signed_in):
    resp = htmx.post("/auth/settings/avatar", content_type="multipart/form-data",
                     data={"avatar": (io.BytesIO(b"not an image"), "x.png")})
    assert resp.status_code == 422
    assert b"<html" not in resp.data and b"Save profile" not in resp.data
    assert "The avatar must be one of" in text(resp)


# --- password --------------------------------------------------------------------------


def test_change_password_with_a_wrong_current_password_is_a_field_error(client, signed_in):
    resp = client.post("/auth/settings/password",
                       data={"current_password": "wrong", "new_password": NEW_PASSWORD})
    assert resp.status_code == 422
    assert '<small id="current_password-error" class="field-error">Your current password is not right.' in text(resp)


def test_change_password_to_a_weak_one_is_shown_on_the_new_password_field(client, signed_in):
    resp = client.post("/auth/settings/password",
                       data={"current_password": PASSWORD, "new_password": "short"})
    assert resp.status_code == 422
    assert '<small id="new_password-error" class="field-error">Use at least 10 characters.' in text(resp)


def test_change_password_errors_over_htmx_are_the_password_fragment(htmx, signed_in):
    resp = htmx.post("/auth/settings/password", data={"current_password": "x", "new_password": ""})
    assert resp.status_code == 422
    assert b"<html" not in resp.data and b"Change password" in resp.data
    assert b"Save profile" not in resp.data


def test_change_password_keeps_this_session_and_ends_older_ones(
        app, client, other_client, login, signed_in, outbox):
    login(signed_in, on=other_client)
    assert other_client.get("/dashboard/").status_code == 200

    resp = client.post("/auth/settings/password",
                       data={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert resp.status_code == 302
    assert "Password changed." in text(client.get("/auth/settings"))

    assert client.get("/dashboard/").status_code == 200
    older = other_client.get("/dashboard/")
    assert older.status_code == 302 and older.headers["Location"].startswith("/auth/login")

    assert outbox.last()["Subject"] == "Your Lyceum password was changed"
    third = app.test_client()
    assert third.post("/auth/login", data={"email": signed_in.email,
                                           "password": NEW_PASSWORD}).status_code == 302


def test_change_password_ends_an_older_remember_cookie(app, client, learner):
    other = app.test_client()
    other.post("/auth/login", data={"email": learner.email, "password": PASSWORD, "remember": "y"})
    remembered = other.get_cookie("remember_token").value
    client.post("/auth/login", data={"email": learner.email, "password": PASSWORD})
    client.post("/auth/settings/password",
                data={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    stranger = app.test_client()
    stranger.set_cookie("remember_token", remembered)
    assert stranger.get("/dashboard/").status_code == 302


# --- e-mail ----------------------------------------------------------------------------


def test_email_change_mails_a_link_that_changes_the_address(client, signed_in, outbox):
    resp = client.post("/auth/settings/email",
                       data={"new_email": "Lena.New@Example.test", "password": PASSWORD})
    assert resp.status_code == 302 and resp.headers["Location"] == "/auth/settings"
    assert fresh(signed_in).email == "learner@example.test"  # nothing changes yet

    mail = outbox.last()
    assert mail["To"] == "lena.new@example.test"
    link = link_in(mail, "/auth/email/confirm/")
    resp = client.get(link)
    assert resp.status_code == 302 and resp.headers["Location"] == "/auth/login"
    assert "Your e-mail address is changed. Log in with the new address." in text(client.get("/auth/login"))
    assert client.get("/auth/settings").status_code == 302  # every session ended, this one too
    assert fresh(signed_in).email == "lena.new@example.test"
    assert user_by_email("learner@example.test") is None
    assert outbox.last()["To"] == "learner@example.test"  # the old address is told

    again = client.get(link, follow_redirects=True)
    assert "This link is invalid or has expired." in text(again)


def test_email_confirm_link_works_when_signed_out(client, signed_in, outbox):
    client.post("/auth/settings/email", data={"new_email": "elsewhere@example.test",
                                              "password": PASSWORD})
    link = link_in(outbox.last(), "/auth/email/confirm/")
    client.post("/auth/logout")
    resp = client.get(link)
    assert resp.status_code == 302 and resp.headers["Location"] == "/auth/login"
    assert fresh(signed_in).email == "elsewhere@example.test"


@pytest.mark.parametrize("form, field, message", [
    ({"new_email": "x@example.test", "password": "wrong"}, "password",
     "Your password is not right."),
    ({"new_email": "learner@example.test", "password": PASSWORD}, "new_email",
     "That is already your e-mail address."),
    ({"new_email": "taken@example.test", "password": PASSWORD}, "new_email",
     "An account with this e-mail already exists."),
    ({"new_email": "not-an-address", "password": PASSWORD}, "new_email",
     "Enter a valid e-mail address"),
])
def test_email_change_errors_are_shown_on_their_field_and_keep_the_input(
        client, make_user, signed_in, outbox, form, field, message):
    make_user(email="taken@example.test")
    resp = client.post("/auth/settings/email", data=form)
    assert resp.status_code == 422
    assert f'<small id="{field}-error" class="field-error">{message}' in text(resp)
    assert f'value="{form["new_email"]}"' in text(resp)
    assert len(outbox) == 0


def test_email_change_errors_over_htmx_are_the_email_fragment(htmx, signed_in):
    resp = htmx.post("/auth/settings/email", data={"new_email": "", "password": PASSWORD})
    assert resp.status_code == 422
    assert b"<html" not in resp.data and b"Change e-mail" in resp.data
    assert b"Save profile" not in resp.data


@pytest.mark.parametrize("token", ["garbage", "x" * 2000])
def test_bad_email_confirm_link_says_so(client, token):
    resp = client.get(f"/auth/email/confirm/{token}", follow_redirects=True)
    assert resp.status_code == 200
    assert "This link is invalid or has expired." in text(resp)


# --- deletion --------------------------------------------------------------------------


def test_deletion_request_records_it_and_logs_out(client, signed_in, emitted):
    resp = client.post("/auth/settings/delete", data={"confirm": "y"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    assert fresh(signed_in).deletion_requested_at is not None
    assert "accounts.deletion.requested" in [e.name for e in emitted]
    assert "We received your deletion request" in text(client.get("/"))
    assert client.get("/dashboard/").status_code == 302


def test_deletion_needs_the_box_ticked(client, signed_in):
    resp = client.post("/auth/settings/delete", data={})
    assert resp.status_code == 422
    assert "Tick the box to confirm." in text(resp)
    assert fresh(signed_in).deletion_requested_at is None
    assert client.get("/dashboard/").status_code == 200


def test_deletion_errors_over_htmx_are_the_delete_fragment(htmx, signed_in):
    resp = htmx.post("/auth/settings/delete", data={})
    assert resp.status_code == 422
    assert b"<html" not in resp.data and b"Tick the box to confirm." in resp.data
    assert b"Save profile" not in resp.data


@pytest.mark.parametrize("url", ["/auth/settings/profile", "/auth/settings/avatar",
                                 "/auth/settings/password", "/auth/settings/email",
                                 "/auth/settings/delete"])
def test_settings_forms_need_an_account(client, url):
    resp = client.post(url, data={})
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith("/auth/login")


# --- suspension ------------------------------------------------------------------------


def test_suspended_user_is_anonymous_at_the_next_request(client, signed_in, admin):
    assert client.get("/dashboard/").status_code == 200
    suspensions.suspend_user(admin, signed_in, reason="Spam")
    db.session.commit()
    resp = client.get("/dashboard/")
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith("/auth/login")
    assert "Log in</a>" in text(client.get("/"))


def test_suspension_by_an_admin_in_the_admin_area_ends_the_users_session(
        client, other_client, login, signed_in, admin):
    login(admin, on=other_client)
    resp = other_client.post(f"/admin/users/{signed_in.id}/suspend", data={"reason": "Abuse"})
    assert resp.status_code == 302
    assert client.get("/auth/settings").status_code == 302
    refused = client.post("/auth/login", data={"email": signed_in.email, "password": PASSWORD})
    assert "Your account is suspended: Abuse" in text(refused)


def test_reinstated_user_can_log_in_again(client, signed_in, admin):
    suspensions.suspend_user(admin, signed_in, reason="Spam")
    db.session.commit()
    suspensions.unsuspend_user(admin, signed_in)
    db.session.commit()
    assert client.get("/dashboard/").status_code == 302  # the old session stays ended
    resp = client.post("/auth/login", data={"email": signed_in.email, "password": PASSWORD})
    assert resp.status_code == 302
    assert client.get("/dashboard/").status_code == 200


def test_an_oversized_avatar_is_refused_from_its_length_before_it_is_read(app, client, login, learner):
    """The 413 comes from Content-Length alone: the body is never stored or parsed."""
    login(learner)
    limit = app.config["AVATAR_MAX_BYTES"]
    body = b"x" * (limit + 128 * 1024)
    resp = client.post("/auth/settings/avatar", data=body,
                       content_type="multipart/form-data; boundary=zzz")
    assert resp.status_code == 413
