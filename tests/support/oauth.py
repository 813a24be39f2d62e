"""OAuth 2.0 helpers: register an app, PKCE pairs, and the code flow driven through a test
client as an app and a browser would (authorize, consent, exchange the code)."""
from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

from app.accounts import oauth_server
from app.accounts.models import OAuthClient
from app.extensions import db

REDIRECT_URI = "https://app.example.test/callback"
MOBILE_REDIRECT_URI = "lyceum://callback"


def register(*, name: str = "Study Buddy", redirect_uris=(REDIRECT_URI,), scopes: str = "read learn",
             public: bool = True, first_party: bool = False) -> oauth_server.RegisteredClient:
    """A registered app, committed (a public one unless `public=False`)."""
    registered = oauth_server.register_client(name=name, redirect_uris=list(redirect_uris), scopes=scopes,
                                              public=public, first_party=first_party)
    db.session.commit()
    return registered


def pkce_pair() -> tuple[str, str]:
    """A fresh PKCE code_verifier and its S256 code_challenge (RFC 7636 §4.2)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorize_url(client: OAuthClient, *, scope: str | None = "read learn", challenge: str | None = None,
                  redirect_uri: str | None = REDIRECT_URI, state: str | None = "state-123",
                  method: str | None = "S256", **extra) -> str:
    params = {"response_type": "code", "client_id": client.client_id, "redirect_uri": redirect_uri,
              "scope": scope, "state": state, "code_challenge": challenge,
              "code_challenge_method": method if challenge else None, **extra}
    return "/oauth/authorize?" + urlencode({k: v for k, v in params.items() if v is not None})


def query_of(location: str) -> dict[str, str]:
    """The query parameters of a redirect's Location, one value each."""
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


def allow(http, client: OAuthClient, **params) -> tuple[str, str]:
    """The signed-in browser `http` allows `client`: returns (code, verifier)."""
    verifier, challenge = pkce_pair()
    resp = http.post(authorize_url(client, challenge=challenge, **params), data={"decision": "allow"})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    query = query_of(resp.headers["Location"])
    assert "code" in query, query
    return query["code"], verifier


def exchange(http, client: OAuthClient, code: str, verifier: str | None, *,
             redirect_uri: str | None = REDIRECT_URI, secret: str | None = None):
    """The app exchanges `code` at the token endpoint (client_secret_post for a confidential app)."""
    data = {"grant_type": "authorization_code", "code": code, "client_id": client.client_id,
            "redirect_uri": redirect_uri, "code_verifier": verifier, "client_secret": secret}
    return http.post("/oauth/token", data={k: v for k, v in data.items() if v is not None})


def refresh(http, client: OAuthClient, refresh_token: str, *, scope: str | None = None):
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client.client_id,
            "scope": scope}
    return http.post("/oauth/token", data={k: v for k, v in data.items() if v is not None})


def obtain_tokens(http, client: OAuthClient, **params) -> dict:
    """The whole code flow for the browser `http` (signed in): the token response's body."""
    code, verifier = allow(http, client, **params)
    resp = exchange(http, client, code, verifier)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()


def issue_tokens(client: OAuthClient, user, *, scope: str = "read learn", now=None) -> dict:
    """Tokens for `user` straight from the services, as the code flow ends (committed): the
    token response's body."""
    verifier, challenge = pkce_pair()
    code = oauth_server.create_authorization_code(client, user, redirect_uri=REDIRECT_URI, scope=scope,
                                                  code_challenge=challenge, code_challenge_method="S256",
                                                  now=now)
    claimed = oauth_server.claim_authorization_code(code, client, now=now)
    token = oauth_server.generate_bearer_token(scope=scope)
    oauth_server.save_token(token, client=client, user=user, code_id=claimed.id, now=now)
    db.session.commit()
    return token
