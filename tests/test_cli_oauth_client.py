"""`flask oauth-client create` (app/cli.py): registers an app and prints its client id, and a
confidential app's secret once."""
from __future__ import annotations

import re

from app.accounts.oauth_server import client_by_client_id


def run(app, *args):
    return app.test_cli_runner().invoke(args=["oauth-client", "create", *args])


def test_a_public_app_gets_a_client_id_and_no_secret(app, db):
    result = run(app, "--name", "Lyceum mobile", "--redirect-uri", "lyceum://callback", "--public",
                 "--scopes", "read learn sell", "--first-party")
    assert result.exit_code == 0, result.output
    client_id = re.search(r"client_id: (\S+)", result.output).group(1)
    client = client_by_client_id(client_id)
    assert client.name == "Lyceum mobile" and client.is_public and client.is_first_party
    assert client.scope == "read learn sell" and client.redirect_uri_list == ["lyceum://callback"]
    assert "client_secret" not in result.output


def test_a_confidential_app_gets_its_secret_once(app, db):
    result = run(app, "--name", "Course Sync", "--redirect-uri", "https://sync.example.test/cb",
                 "--redirect-uri", "https://sync.example.test/cb2", "--client-id", "course-sync")
    assert result.exit_code == 0, result.output
    secret = re.search(r"client_secret: (\S+)", result.output).group(1)
    client = client_by_client_id("course-sync")
    assert client.check_client_secret(secret) and len(client.redirect_uri_list) == 2


def test_bad_input_is_a_clear_error(app, db):
    result = run(app, "--name", "Evil", "--redirect-uri", "javascript:alert(1)")
    assert result.exit_code != 0 and "redirect URI" in result.output
    result = run(app, "--name", "App", "--redirect-uri", "https://a.example.test/cb", "--scopes", "everything")
    assert result.exit_code != 0 and "Unknown scope" in result.output
    result = run(app, "--name", "App", "--redirect-uri", "https://a.example.test/cb", "--owner", "nobody@example.test")
    assert result.exit_code != 0 and "No account" in result.output
