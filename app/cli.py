"""Operator commands: `flask demo-data`, `flask create-admin EMAIL`, `flask oauth-client create`,
`flask analytics-rebuild`."""
from __future__ import annotations

import os
import secrets
from datetime import date, timedelta

import click
from flask import Flask

from app.accounts.auth import sign_up
from app.accounts.models import PERMISSIONS
from app.accounts.oauth_server import register_client
from app.accounts.queries import user_by_email
from app.accounts.roles import grant_permission
from app.analytics.live import everything_changed
from app.analytics.rebuild import rebuild
from app.commerce.ledger import check_invariants
from app.dbtypes import utcnow
from app.demo import DEMO_PASSWORD, DEMO_USERS, MOBILE_CLIENT_ID, load_demo_data
from app.errors import DomainError
from app.extensions import db
from app.jobs.schedule import PERIODIC


def register_cli(app: Flask) -> None:
    @app.cli.command("demo-data")
    def demo_data():
        """Load the demo accounts, courses, learning and sales (idempotent) and print them.
        It runs the jobs it causes itself: no worker needed, and a running one does no harm."""
        # Links in demo e-mails and checkout sessions point at the local server.
        with app.test_request_context(base_url=f"http://127.0.0.1:{os.environ.get('PORT', '5000')}"):
            created = load_demo_data()
        click.echo(f"Demo data ready ({len(created)} new accounts).")
        click.echo(f"Demo accounts (password: {DEMO_PASSWORD}):")
        for email, name, perms in DEMO_USERS:
            role = "admin, every permission" if perms else ("creator" if "creator" in email else "learner")
            click.echo(f"  {email:<22} {name} ({role})")
        click.echo(f"OAuth client of the mobile app: client_id {MOBILE_CLIENT_ID} (public: PKCE S256, "
                   "redirect URI lyceum://callback)")

    @app.cli.command("ledger-check")
    def ledger_check():
        """Verify every ledger invariant over the whole database; exit 1 on any violation."""
        problems = check_invariants()
        for problem in problems:
            click.echo(f"VIOLATION: {problem}", err=True)
        if problems:
            raise SystemExit(1)
        click.echo("Ledger OK: every transaction balances, accounts sum to zero, caches match.")

    @app.cli.command("analytics-rebuild")
    @click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), help="First day (default: 90 days ago).")
    @click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), help="Last day (default: yesterday).")
    def analytics_rebuild(start, end):
        """Recompute the analytics rollups of closed days from orders, the ledger and progress."""
        yesterday = utcnow().date() - timedelta(days=1)
        last: date = end.date() if end else yesterday
        first: date = start.date() if start else last - timedelta(days=89)
        if first > last:
            raise click.BadParameter("--from is after --to")
        rebuild(first, last)
        db.session.commit()
        everything_changed()  # no cached figure of those days may stay
        click.echo(f"Analytics rebuilt for {first} to {last}.")

    @app.cli.command("run-periodic")
    def run_periodic():
        """Run every periodic job once, now (what the cron scheduler does on its own)."""
        for func, _queue, _interval in PERIODIC:
            func()
            click.echo(f"ran {func.__module__}.{func.__name__}")

    @app.cli.command("create-admin")
    @click.argument("email")
    @click.option("--name", default="Administrator", help="Display name for a new account.")
    def create_admin(email: str, name: str):
        """Give EMAIL every admin permission, creating the account if needed."""
        user = user_by_email(email)
        password = None
        if user is None:
            password = secrets.token_urlsafe(12)
            user = sign_up(email=email, display_name=name, password=password)
        for permission in PERMISSIONS:
            grant_permission(None, user, permission, system=True)
        db.session.commit()
        click.echo(f"{user.email} now holds every admin permission.")
        if password:
            click.echo(f"New account created; temporary password: {password}")

    @app.cli.group("oauth-client")
    def oauth_client():
        """Apps that sign users in with OAuth 2.0 (/oauth/authorize)."""

    @oauth_client.command("create")
    @click.option("--name", required=True, help="The app's name, shown on the consent page.")
    @click.option("--redirect-uri", "redirect_uris", multiple=True, required=True,
                  help="Where the app gets its code back (repeat for several); matched exactly.")
    @click.option("--public/--confidential", default=False,
                  help="A public app (mobile, single-page) has no secret and must use PKCE S256.")
    @click.option("--scopes", default="read", show_default=True,
                  help="The scopes the app may ask for, space-separated (read learn teach sell admin:…).")
    @click.option("--first-party", is_flag=True, help="An app made by Lyceum (the consent page says so).")
    @click.option("--owner", "owner_email", help="E-mail of the user who runs a third-party app.")
    @click.option("--client-id", help="A fixed client id (default: a random one).")
    def oauth_client_create(name, redirect_uris, public, scopes, first_party, owner_email, client_id):
        """Register an app; prints its client id (and a confidential app's secret, once)."""
        owner = user_by_email(owner_email) if owner_email else None
        if owner_email and owner is None:
            raise click.ClickException(f"No account with the e-mail {owner_email}.")
        try:
            registered = register_client(name=name, redirect_uris=list(redirect_uris), scopes=scopes,
                                         public=public, first_party=first_party, owner=owner,
                                         client_id=client_id)
        except DomainError as exc:
            raise click.ClickException(exc.message) from exc
        db.session.commit()
        client = registered.client
        kind = "public, PKCE S256 required" if client.is_public else "confidential"
        click.echo(f"Registered {client.name!r} ({kind}; scopes: {client.scope}).")
        click.echo(f"client_id: {client.client_id}")
        if registered.secret:
            click.echo(f"client_secret: {registered.secret}")
            click.echo("Keep the secret now: it is stored only as a hash and cannot be shown again.")
