"""User selects (app/accounts/queries.py): the admin user search, by page and by position."""
from __future__ import annotations

from datetime import timedelta

from app.accounts.queries import search_users, search_users_after
from app.dbtypes import utcnow


def test_the_search_matches_name_or_email_in_any_case_and_escapes_wildcards(make_user):
    ann = make_user(email="ann@example.test", display_name="Ann Archer")
    bob = make_user(email="bob_100%@example.test", display_name="Bob")
    assert [u.id for u in search_users("ARCHER").items] == [ann.id]
    assert [u.id for u in search_users("_100%").items] == [bob.id]
    assert search_users("b_b").items == []  # "_" is a character, not a wildcard
    assert [u.id for u in search_users_after("ann@")] == [ann.id]


def test_by_position_walks_the_pages_order_newest_first_ties_by_id(make_user):
    at = utcnow() - timedelta(days=1)
    same = [make_user(display_name=f"Walker {n}", created_at=at) for n in range(3)]
    newest = make_user(display_name="Walker new", created_at=at + timedelta(hours=1))
    expected = [u.id for u in search_users("Walker", per_page=10).items]
    assert expected == [newest.id, *(u.id for u in reversed(same))]
    seen, after = [], None
    while page := search_users_after("Walker", after=after, limit=2):
        seen += [u.id for u in page]
        after = (page[-1].created_at, page[-1].id)
    assert seen == expected
