"""The OAuth 2.0 authorization server's rules (issue 16): registering apps, the codes and
tokens they get, what a token lets them do, and taking an app's access away.

Apps sign people in with the authorization code flow (RFC 6749 §4.1); a public client (the
mobile app) has no secret and must prove the code with PKCE S256 (RFC 7636). The HTTP side
(Authlib's AuthorizationServer, the consent page) is app/blueprints/oauth; it calls these.

- Codes and tokens are random strings shown once; the tables keep their sha256 only.
  Access tokens (`lyc_oat_…`) live an hour, refresh tokens (`lyc_ort_…`) 30 days, and using a
  refresh token revokes its row (rotation). A code, or a refresh token, used a second time
  revokes every token descended from that code: someone else has a copy.
- An app may ask only for scopes it was registered with (`OAuthClient.scope`) that the user
  may grant (`scopes.grantable_scopes`: admin scopes need the permission).
- A suspended user's tokens stop at once (`authenticate_oauth_token` raises AccountSuspended);
  revoking a browser session touches no token; revoking a token or the app does.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa

from app.accounts.auth import ensure_not_suspended
from app.accounts.models import OAuthAuthorizationCode, OAuthClient, OAuthToken, User
from app.accounts.scopes import Grant, check_grantable, format_scopes, parse_scopes
from app.dbtypes import utcnow
from app.errors import Conflict, Invalid, NotFound
from app.extensions import db

ACCESS_TOKEN_PREFIX = "lyc_oat_"
REFRESH_TOKEN_PREFIX = "lyc_ort_"
CLIENT_SECRET_PREFIX = "lyc_ocs_"
TOKEN_BYTES = 32  # token_urlsafe(32): 256 bits
MAX_TOKEN_CHARS = 128  # anything longer is not one of ours: no hashing, no query
ACCESS_TOKEN_LIFETIME = timedelta(hours=1)
REFRESH_TOKEN_LIFETIME = timedelta(days=30)
CODE_LIFETIME = timedelta(minutes=10)  # RFC 6749 §4.1.2 recommends at most 10 minutes
LAST_USED_EVERY = timedelta(minutes=1)  # last_used_at is written at most this often
NAME_MAX = 80
REDIRECT_URI_MAX = 500
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")  # RFC 8252 §7.3: native apps may use http there
SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*$")
CLIENT_ID = re.compile(r"^[A-Za-z0-9._-]{3,48}$")
UNSAFE_SCHEMES = frozenset({"javascript", "data", "vbscript", "file", "about", "blob"})


def hash_secret(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


# --- registering apps ----------------------------------------------------------------------

@dataclass(frozen=True)
class RegisteredClient:
    client: OAuthClient
    secret: str | None  # the raw secret of a confidential client, shown once; None if public


def check_redirect_uri(uri: str) -> str:
    """A redirect URI an app may register: https, http on the loopback address (native apps,
    RFC 8252 §7.3), or an app's own scheme (`lyceum://callback`); never a fragment."""
    uri = (uri or "").strip()
    if not uri or len(uri) > REDIRECT_URI_MAX:
        raise Invalid("Give each redirect URI, at most 500 characters long.", field="redirect_uris")
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    if parts.fragment or "#" in uri:
        raise Invalid(f"A redirect URI cannot have a fragment (#): {uri}", field="redirect_uris")
    if scheme == "https" and parts.hostname:
        return uri
    if scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        return uri
    if scheme not in ("http", "https") and SCHEME.match(scheme) and scheme not in UNSAFE_SCHEMES \
            and (parts.netloc or parts.path):
        return uri
    raise Invalid(f"Use https (or http only on 127.0.0.1 or localhost, or the app's own scheme) "
                  f"for a redirect URI: {uri}", field="redirect_uris")


def register_client(*, name: str, redirect_uris: list[str], scopes: str | list[str], public: bool,
                    first_party: bool = False, owner: User | None = None, client_id: str | None = None,
                    now: datetime | None = None) -> RegisteredClient:
    """Register an app. A confidential one gets a secret, returned here once (only its hash
    is kept); a public one (`public=True`) has none and must use PKCE. The client id is
    random unless given (a first-party app built with a fixed one, e.g. `lyceum-mobile`)."""
    if client_id is not None:
        if not CLIENT_ID.match(client_id):
            raise Invalid("A client id is 3 to 48 letters, digits, dots, dashes or underscores.",
                          field="client_id")
        if client_by_client_id(client_id) is not None:
            raise Conflict(f"There is already an app with the client id {client_id!r}.", field="client_id")
    name = " ".join((name or "").split())
    if not name or len(name) > NAME_MAX:
        raise Invalid("Give the app a name of at most 80 characters.", field="name")
    uris = list(dict.fromkeys(check_redirect_uri(uri) for uri in redirect_uris))
    if not uris:
        raise Invalid("Give the app at least one redirect URI.", field="redirect_uris")
    allowed = parse_scopes(scopes)
    if not allowed:
        raise Invalid("Give the app at least one scope it may ask for.", field="scopes")
    secret = None if public else CLIENT_SECRET_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    client = OAuthClient(client_id=client_id or secrets.token_urlsafe(24), name=name, redirect_uris="\n".join(uris),
                         scope=format_scopes(allowed), client_secret_hash=secret and hash_secret(secret),
                         owner_id=owner.id if owner else None, is_first_party=bool(first_party),
                         created_at=now or utcnow())
    db.session.add(client)
    db.session.flush()
    return RegisteredClient(client, secret)


def client_by_client_id(client_id: str | None) -> OAuthClient | None:
    if not client_id or len(client_id) > 48:
        return None
    return db.session.scalar(sa.select(OAuthClient).where(OAuthClient.client_id == client_id))


def client_by_name(name: str) -> OAuthClient | None:
    return db.session.scalar(sa.select(OAuthClient).where(OAuthClient.name == name).order_by(OAuthClient.id))


# --- scopes --------------------------------------------------------------------------------

def check_requested_scopes(client: OAuthClient, user: User, scope: str | None) -> frozenset[str]:
    """The scopes of an authorization request, if the app may ask for them and the user may
    grant them; otherwise Invalid saying which one."""
    requested = parse_scopes(scope or "")
    if not requested:
        raise Invalid("The app asked for no scope.", field="scope")
    allowed = set(client.scope.split())
    for name in sorted(requested):
        if name not in allowed:
            raise Invalid(f"This app may not ask for the scope {name!r}.", field="scope")
    check_grantable(user, requested)
    return requested


# --- authorization codes -------------------------------------------------------------------

def create_authorization_code(client: OAuthClient, user: User, *, redirect_uri: str, scope: str,
                              code_challenge: str | None = None, code_challenge_method: str | None = None,
                              now: datetime | None = None) -> str:
    """A one-time code for `client` to exchange for tokens; only its hash is kept."""
    now = now or utcnow()
    ensure_not_suspended(user, now)
    scopes = check_requested_scopes(client, user, scope)
    if client.is_public and (not code_challenge or code_challenge_method != "S256"):
        raise Invalid("A public app must use PKCE with the S256 method.", field="code_challenge")
    code = secrets.token_urlsafe(TOKEN_BYTES)
    db.session.add(OAuthAuthorizationCode(
        code_hash=hash_secret(code), client_id=client.id, user_id=user.id, redirect_uri=redirect_uri,
        scope=format_scopes(scopes), code_challenge=code_challenge or None,
        code_challenge_method=code_challenge_method if code_challenge else None,
        created_at=now, expires_at=now + CODE_LIFETIME))
    db.session.flush()
    return code


def claim_authorization_code(raw: str, client: OAuthClient, *,
                             now: datetime | None = None) -> OAuthAuthorizationCode | None:
    """The code `client` presents, marked used at once (a code works once, even for two
    requests at the same moment); None if unknown, another app's, expired or already used.
    A second use revokes every token the first one led to (RFC 6749 §4.1.2)."""
    now = now or utcnow()
    if not raw or len(raw) > MAX_TOKEN_CHARS:
        return None
    row = db.session.scalar(sa.select(OAuthAuthorizationCode)
                            .where(OAuthAuthorizationCode.code_hash == hash_secret(raw)))
    if row is None or row.client_id != client.id:
        return None
    if row.used_at is not None:
        revoke_descendants(row.id, now=now)
        return None
    if row.expires_at <= now:
        return None
    claimed = db.session.execute(
        sa.update(OAuthAuthorizationCode)
        .where(OAuthAuthorizationCode.id == row.id, OAuthAuthorizationCode.used_at.is_(None))
        .values(used_at=now).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:  # another request took it in between: that is a second use
        revoke_descendants(row.id, now=now)
        return None
    row.used_at = now
    return row


def revoke_descendants(code_id: int, *, now: datetime | None = None) -> int:
    """Revoke every live token issued from the code `code_id` (and the tokens rotated from
    them): a copy of the code or of one of its refresh tokens is in someone else's hands."""
    result = db.session.execute(
        sa.update(OAuthToken).where(OAuthToken.code_id == code_id, OAuthToken.revoked_at.is_(None))
        .values(revoked_at=now or utcnow()).execution_options(synchronize_session="fetch"))
    return result.rowcount


# --- tokens --------------------------------------------------------------------------------

def generate_bearer_token(*, scope: str, include_refresh_token: bool = True) -> dict:
    """The token response's body (RFC 6749 §5.1): new random tokens, shown once."""
    token = {"token_type": "Bearer",
             "access_token": ACCESS_TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES),
             "expires_in": int(ACCESS_TOKEN_LIFETIME.total_seconds()),
             "scope": scope}
    if include_refresh_token:
        token["refresh_token"] = REFRESH_TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    return token


def save_token(token: dict, *, client: OAuthClient, user: User, code_id: int | None = None,
               now: datetime | None = None) -> OAuthToken:
    """Keep the hashes of a token response's access (and refresh) token."""
    now = now or utcnow()
    scopes = parse_scopes(token.get("scope") or "")
    expires_in = int(token.get("expires_in") or ACCESS_TOKEN_LIFETIME.total_seconds())
    refresh = token.get("refresh_token")
    row = OAuthToken(access_token_hash=hash_secret(token["access_token"]),
                     refresh_token_hash=refresh and hash_secret(refresh),
                     client_id=client.id, user_id=user.id, code_id=code_id, scope=format_scopes(scopes),
                     issued_at=now, expires_in=expires_in, expires_at=now + timedelta(seconds=expires_in),
                     refresh_expires_at=now + REFRESH_TOKEN_LIFETIME if refresh else None)
    db.session.add(row)
    db.session.flush()
    return row


def _token_by(column, raw: str | None) -> OAuthToken | None:
    if not raw or len(raw) > MAX_TOKEN_CHARS:
        return None
    return db.session.scalar(sa.select(OAuthToken).where(column == hash_secret(raw)))


def find_refresh_token(raw: str, client: OAuthClient, *, now: datetime | None = None) -> OAuthToken | None:
    """The live row of refresh token `raw` held by `client`; None if unknown, another app's,
    expired or revoked. A revoked one presented again (it was rotated: someone kept a copy)
    revokes the tokens rotated from it too."""
    now = now or utcnow()
    row = _token_by(OAuthToken.refresh_token_hash, raw)
    if row is None or row.client_id != client.id:
        return None
    if row.revoked_at is not None:
        if row.code_id is not None:
            revoke_descendants(row.code_id, now=now)
        return None
    if row.refresh_expires_at is None or row.refresh_expires_at <= now:
        return None
    return row


def rotate_refresh_token(old: OAuthToken, new: OAuthToken, *, now: datetime | None = None) -> bool:
    """Revoke `old` now that `new` replaces it. False, with `new` revoked as well, if another
    request rotated `old` first: the same refresh token was used twice."""
    now = now or utcnow()
    claimed = db.session.execute(
        sa.update(OAuthToken).where(OAuthToken.id == old.id, OAuthToken.revoked_at.is_(None))
        .values(revoked_at=now).execution_options(synchronize_session=False))
    if claimed.rowcount == 1:
        old.revoked_at = now
        return True
    new.revoked_at = now
    if old.code_id is not None:
        revoke_descendants(old.code_id, now=now)
    return False


def find_token(raw: str, hint: str | None = None) -> OAuthToken | None:
    """The row of an access or refresh token, whatever its state (revocation, RFC 7009)."""
    if hint == "refresh_token":
        return _token_by(OAuthToken.refresh_token_hash, raw) or _token_by(OAuthToken.access_token_hash, raw)
    return _token_by(OAuthToken.access_token_hash, raw) or _token_by(OAuthToken.refresh_token_hash, raw)


def revoke_token(token: OAuthToken, *, now: datetime | None = None) -> None:
    """Stop a token row at once: its access token and its refresh token."""
    if token.revoked_at is None:
        token.revoked_at = now or utcnow()
        db.session.flush()


def authenticate_oauth_token(raw: str | None, *, now: datetime | None = None) -> Grant | None:
    """What an OAuth access token sent as a bearer token may do: None for an unknown,
    expired or revoked one; AccountSuspended if its user is suspended. Notes when it was
    last used (at most once a minute; the caller commits)."""
    if not raw or not raw.startswith(ACCESS_TOKEN_PREFIX):
        return None
    now = now or utcnow()
    row = _token_by(OAuthToken.access_token_hash, raw)
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    ensure_not_suspended(row.user, now)
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_EVERY:
        row.last_used_at = now
    return Grant(user=row.user, scopes=frozenset(row.scope.split()), kind="oauth", token_id=row.id,
                 client_id=row.client.client_id)


# --- the apps a user has let in ------------------------------------------------------------

@dataclass(frozen=True)
class AuthorizedApp:
    client_id: str
    name: str
    is_first_party: bool
    scopes: tuple[str, ...]  # in SCOPES order
    authorized_at: datetime  # when its oldest live token was issued
    last_used_at: datetime | None


def _live(now: datetime):
    """Rows still good for something: not revoked, and the access token or the refresh token
    not expired yet."""
    return sa.and_(OAuthToken.revoked_at.is_(None),
                   sa.or_(OAuthToken.expires_at > now, OAuthToken.refresh_expires_at > now))


def authorized_apps(user: User, *, now: datetime | None = None) -> list[AuthorizedApp]:
    """The apps holding a live token for `user`, by name."""
    now = now or utcnow()
    rows = db.session.scalars(sa.select(OAuthToken).where(OAuthToken.user_id == user.id, _live(now))
                              .order_by(OAuthToken.issued_at)).all()
    by_client: dict[int, list[OAuthToken]] = defaultdict(list)
    for row in rows:
        by_client[row.client_id].append(row)
    apps = []
    for tokens in by_client.values():
        client = tokens[0].client
        used = [t.last_used_at for t in tokens if t.last_used_at]
        apps.append(AuthorizedApp(
            client_id=client.client_id, name=client.name, is_first_party=client.is_first_party,
            scopes=tuple(format_scopes({s for t in tokens for s in t.scope.split()}).split()),
            authorized_at=tokens[0].issued_at, last_used_at=max(used) if used else None))
    return sorted(apps, key=lambda app: (app.name.lower(), app.client_id))


def revoke_authorization(user: User, client_id: str, *, now: datetime | None = None) -> int:
    """The user removes an app: every token it holds for them stops at once, and the codes
    it has not exchanged yet with them. NotFound if the app holds no live token of theirs.
    Returns how many token rows were revoked."""
    now = now or utcnow()
    client = client_by_client_id(client_id)
    if client is None:
        raise NotFound("That app has no access to your account.")
    revoked = db.session.execute(
        sa.update(OAuthToken).where(OAuthToken.user_id == user.id, OAuthToken.client_id == client.id, _live(now))
        .values(revoked_at=now).execution_options(synchronize_session="fetch")).rowcount
    if not revoked:
        raise NotFound("That app has no access to your account.")
    db.session.execute(
        sa.update(OAuthAuthorizationCode)
        .where(OAuthAuthorizationCode.user_id == user.id, OAuthAuthorizationCode.client_id == client.id,
               OAuthAuthorizationCode.used_at.is_(None))
        .values(used_at=now).execution_options(synchronize_session="fetch"))
    return revoked
