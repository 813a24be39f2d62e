"""Authlib's AuthorizationServer wired to the rules in app/accounts/oauth_server.py.

Authlib reads the HTTP request and writes the spec's responses (redirects with `code` or
`error`, the token endpoint's JSON); every decision about clients, codes and tokens is a call
into the domain service. Grants: the authorization code (with PKCE, S256 only, required of
public clients) and the refresh token (rotated on each use); the revocation endpoint (RFC 7009).
"""
from __future__ import annotations

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import InvalidGrantError, InvalidRequestError, InvalidScopeError
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant, RefreshTokenGrant
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge

from app.accounts import oauth_server
from app.accounts.models import OAuthClient, OAuthToken, User
from app.accounts.scopes import ALL_SCOPES
from app.dbtypes import utcnow
from app.errors import Invalid

CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]


class S256CodeChallenge(CodeChallenge):
    """PKCE with S256 only (`plain` shows the verifier to whoever sees the request), and
    required of every public client at the authorization endpoint already."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant, redirect_uri):
        super().validate_code_challenge(grant, redirect_uri)
        data = grant.request.payload.data
        challenge, method = data.get("code_challenge"), data.get("code_challenge_method")
        if challenge and method != "S256":
            raise InvalidRequestError("Send code_challenge_method=S256 with the code_challenge.")
        if grant.request.client.is_public and not challenge:
            raise InvalidRequestError("A public client must use PKCE: send code_challenge and "
                                      "code_challenge_method=S256.")


class CodeGrant(AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS

    def save_authorization_code(self, code, request):
        pass  # generate_authorization_code already kept its hash

    def generate_authorization_code(self):
        """Create (and keep the hash of) the code for the request the user just allowed."""
        request = self.request
        data = request.payload.data
        try:
            return oauth_server.create_authorization_code(
                # As the request gave it: the token request must then repeat it (RFC 6749 §4.1.3).
                request.client, request.user, redirect_uri=request.payload.redirect_uri or "", scope=request.scope,
                code_challenge=data.get("code_challenge"), code_challenge_method=data.get("code_challenge_method"))
        except Invalid as exc:
            raise InvalidRequestError(ascii_text(exc.message)) from exc

    def query_authorization_code(self, code, client):
        return oauth_server.claim_authorization_code(code, client, now=utcnow())

    def delete_authorization_code(self, authorization_code):
        pass  # claimed (marked used) when it was looked up; kept to catch a second use

    def authenticate_user(self, authorization_code):
        return _active_user(authorization_code.user)


class RefreshGrant(RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True  # rotation: each use gives a new one and revokes the old

    def authenticate_refresh_token(self, refresh_token):
        return oauth_server.find_refresh_token(refresh_token, self.request.client, now=utcnow())

    def authenticate_user(self, refresh_token):
        return _active_user(refresh_token.user)

    def revoke_old_credential(self, refresh_token):
        if not oauth_server.rotate_refresh_token(refresh_token, self.request.saved_token, now=utcnow()):
            raise InvalidGrantError("This refresh token was already used.")


class Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = CLIENT_AUTH_METHODS

    def query_token(self, token_string, token_type_hint):
        return oauth_server.find_token(token_string, token_type_hint)

    def revoke_token(self, token, request):
        oauth_server.revoke_token(token, now=utcnow())


class LyceumAuthorizationServer(AuthorizationServer):
    def send_signal(self, name, *args, **kwargs):
        pass  # nobody listens to Authlib's blinker signals here


def _active_user(user: User) -> User:
    if user.is_suspended():
        raise InvalidGrantError("The account is suspended.")
    return user


def ascii_text(text: str) -> str:
    """An error description the spec allows (printable ASCII without quote or backslash)."""
    text = text.replace("'", "").replace('"', "").replace("\\", "")
    return "".join(ch if " " <= ch <= "~" else "?" for ch in text)


def _query_client(client_id: str) -> OAuthClient | None:
    return oauth_server.client_by_client_id(client_id)


def _save_token(token: dict, request) -> OAuthToken:
    """Keep the hashes of the tokens just issued; a refresh keeps the code they descend from."""
    code = request.authorization_code
    code_id = code.id if code is not None else getattr(request.refresh_token, "code_id", None)
    row = oauth_server.save_token(token, client=request.client, user=request.user, code_id=code_id,
                                  now=utcnow())
    request.saved_token = row
    return row


def _generate_token(grant_type, client, user=None, scope=None, expires_in=None, include_refresh_token=True):
    allowed = client.get_allowed_scope(scope)
    if allowed is None:
        raise InvalidScopeError()
    return oauth_server.generate_bearer_token(scope=allowed, include_refresh_token=include_refresh_token)


authorization = LyceumAuthorizationServer(query_client=_query_client, save_token=_save_token)
authorization.scopes_supported = list(ALL_SCOPES)
authorization.register_token_generator("default", _generate_token)
authorization.register_grant(CodeGrant, [S256CodeChallenge(required=True)])
authorization.register_grant(RefreshGrant)
authorization.register_endpoint(Revocation)
