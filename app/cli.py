"""Operator commands: `flask demo-data`, `flask create-admin EMAIL`."""
from __future__ import annotations

import os
import secrets

import click
from flask import Flask

from app.accounts.auth import sign_up
from app.accounts.models import PERMISSIONS
from app.accounts.queries import user_by_email
from app.accounts.roles import grant_permission
from app.commerce.ledger import check_invariants
from app.demo import DEMO_PASSWORD, DEMO_USERS, load_demo_data
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

    @app.cli.command("ledger-check")
    def ledger_check():
        """Verify every ledger invariant over the whole database; exit 1 on any violation."""
        problems = check_invariants()
        for problem in problems:
            click.echo(f"VIOLATION: {problem}", err=True)
        if problems:
            raise SystemExit(1)
        click.echo("Ledger OK: every transaction balances, accounts sum to zero, caches match.")

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
