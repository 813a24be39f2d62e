"""The client's address behind reverse proxies (ARCHITECTURE §13).

`PROXY_TRUSTED_HOPS` says how many proxies stand in front of the app. Each appends the
address it received the request from to `X-Forwarded-For`, so the entry that many places
from the right was written by our outermost proxy and is the client; anything further
left came from the client itself and is ignored (werkzeug's `ProxyFix`). With 0 (no
proxy) the headers are not believed at all: the peer is the client. Rate limits, the
log-in throttle's callers and audit rows all read `request.remote_addr`, set here.

The setting is read per request (a dict look-up), so one app object serves either way
and a test can switch it. Gunicorn is told to trust no forwarded header itself
(gunicorn.conf.py): the scheme, like the address, is decided here alone.
"""
from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix


class TrustedProxies:
    def __init__(self, app: Flask):
        self.config = app.config
        self.inner = app.wsgi_app
        self.fixes: dict[int, ProxyFix] = {}

    def __call__(self, environ, start_response):
        hops = self.config.get("PROXY_TRUSTED_HOPS") or 0
        if hops <= 0:
            return self.inner(environ, start_response)
        fix = self.fixes.get(hops)
        if fix is None:
            fix = self.fixes[hops] = ProxyFix(self.inner, x_for=hops, x_proto=hops)
        return fix(environ, start_response)


def trust_proxies(app: Flask) -> None:
    app.wsgi_app = TrustedProxies(app)
