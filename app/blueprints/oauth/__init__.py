"""The OAuth 2.0 authorization server (issue 16): /oauth/authorize (the consent page),
/oauth/token, /oauth/revoke, /.well-known/oauth-authorization-server, and /oauth/apps, where
a user sees and removes the apps with access to their account. Mounted at "/"."""
from flask import Blueprint

bp = Blueprint("oauth", __name__)

from app.blueprints.oauth import apps, views  # noqa: E402,F401
