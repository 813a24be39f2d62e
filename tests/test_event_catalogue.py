"""The table of domain events (ARCHITECTURE §11): what each domain declares in its
`app/<domain>/events.py`, who subscribes to it, and that each is emitted somewhere.

Adding an event or a subscriber changes `EXPECTED` below, so it shows in review. Subscribers
are listed sorted: each runs in its own session and commits alone, so their order is no
part of the contract.
"""
from __future__ import annotations

import ast
import importlib
import re
from collections import defaultdict
from pathlib import Path
from types import ModuleType

import pytest

import app as app_package
from app import events
from app.events import ANY, Event, catalogue
from app.learning.events import CourseCompleted

APP = Path(app_package.__file__).resolve().parent

EXPECTED: dict[str, list[str]] = {
    "accounts.deletion.requested": [],
    "accounts.sessions.revoked": ["app.messaging.subscribers.close_revoked_sessions"],
    "accounts.token.revoked": ["app.messaging.subscribers.close_revoked_token"],
    "accounts.user.signed_up": ["app.analytics.platform.count_new_learner",
                                "app.messaging.subscribers.welcome_new_user"],
    "accounts.user.suspended": ["app.messaging.chat.end_suspended_sessions",
                                "app.messaging.subscribers.close_suspended_tokens"],
    "accounts.user.unsuspended": [],
    "catalog.course.lesson_added": ["app.learning.subscribers.tell_learners_about_new_lessons"],
    "catalog.course.published": ["app.analytics.platform.count_new_creator"],
    "catalog.course.reviewed": ["app.analytics.platform.count_review_decision"],
    "catalog.course.submitted": ["app.analytics.platform.count_submission"],
    "catalog.course.unpublished": [],
    "commerce.checkout.started": ["app.analytics.traffic.count_checkout_started"],
    "commerce.dispute.closed": ["app.analytics.platform.count_dispute_lost"],
    "commerce.dispute.opened": ["app.analytics.platform.count_dispute_opened"],
    "commerce.ledger.posted": ["app.analytics.money.book_transaction", "app.analytics.traffic.count_sale_by_source"],
    "commerce.payout.settled": ["app.analytics.platform.count_payout_sent"],
    "learning.course.completed": ["app.analytics.learners.count_completion",
                                  "app.commerce.subscribers.release_escrow_on_completion",
                                  "app.learning.subscribers.certify_and_congratulate"],
    "learning.enrollment.created": ["app.analytics.learners.count_enrollment"],
    "learning.enrollment.revoked": ["app.messaging.chat.cut_off_revoked_learner"],
    "learning.lesson.completed": ["app.analytics.learners.count_lesson_completed"],
    "learning.lesson.reached": ["app.analytics.learners.count_lesson_reached"],
    "learning.question.answered": ["app.analytics.engagement.count_first_answer"],
    "learning.question.asked": ["app.analytics.engagement.count_question"],
    "learning.quiz.attempted": ["app.analytics.engagement.count_quiz_attempt"],
    "learning.review.deleted": ["app.analytics.engagement.uncount_review"],
    "learning.review.rerated": ["app.analytics.engagement.move_review_rating"],
    "learning.review.written": ["app.analytics.engagement.count_review"],
    "learning.video.watched": ["app.analytics.learners.count_video_watched"],
    "messaging.notification.created": ["app.messaging.subscribers.publish_notification"],
    "moderation.report.closed": ["app.analytics.platform.count_report_resolved"],
    "moderation.report.opened": ["app.analytics.platform.count_report_opened"],
}


def declaring_modules() -> list[ModuleType]:
    """Every `app/<domain>/events.py`, imported (which declares its events)."""
    return [importlib.import_module(f"app.{path.parent.name}.events") for path in sorted(APP.glob("*/events.py"))]


def declared() -> set[type[Event]]:
    return {value for module in declaring_modules() for value in vars(module).values()
            if isinstance(value, type) and issubclass(value, Event) and value.__module__ == module.__name__}


def _resolve(module: ModuleType, node: ast.expr):
    """What a name or dotted name in `module`'s code refers to (None if it is not a global)."""
    if isinstance(node, ast.Name):
        return vars(module).get(node.id)
    if isinstance(node, ast.Attribute):
        owner = _resolve(module, node.value)
        return getattr(owner, node.attr, None) if owner is not None else None
    return None


def emits_in_app() -> tuple[dict[type, list[str]], list[str]]:
    """Each event class constructed in an `emit(…)` call in app/, with where; and the emit
    calls whose event is not constructed in the call (this test could not read them)."""
    found: dict[type, list[str]] = defaultdict(list)
    unreadable = []
    for path in sorted(APP.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        if "emit(" not in source:
            continue
        module = importlib.import_module(".".join(path.relative_to(APP.parent).with_suffix("").parts))
        for node in ast.walk(ast.parse(source, filename=str(path))):
            if not (isinstance(node, ast.Call) and _resolve(module, node.func) is events.emit):
                continue
            where = f"{module.__name__}:{node.lineno}"
            if len(node.args) == 1 and isinstance(node.args[0], ast.Call):
                found[_resolve(module, node.args[0].func)].append(where)
            else:
                unreadable.append(where)
    return found, unreadable


@pytest.fixture
def table(app) -> dict[type[Event], list[str]]:
    """The catalogue of app's events, once the app (and so every subscriber) is loaded."""
    declaring_modules()
    return {cls: subscribers for cls, subscribers in catalogue().items()
            if cls is not ANY and cls.__module__.startswith("app.")}


def test_every_event_and_its_subscribers(table):
    assert {cls.name: sorted(subscribers) for cls, subscribers in table.items()} == EXPECTED


def test_events_are_declared_only_in_a_domains_events_module(table):
    assert set(table) == declared()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_event_is_a_frozen_dataclass_named_after_its_domain(table, name):
    cls = next(cls for cls in table if cls.name == name)
    domain = cls.__module__.split(".")[1]
    assert re.fullmatch(rf"{domain}\.[a-z]+\.[a-z_]+", name), "<domain>.<noun>.<past_verb>, declared by <domain>"
    assert "__dataclass_params__" in vars(cls) and cls.__dataclass_params__.frozen, "@dataclass(frozen=True)"


def test_every_subscription_in_app_names_a_declared_event(app):
    subscribed = {cls for cls, subscribers in catalogue().items()
                  if any(subscriber.startswith("app.") for subscriber in subscribers)}
    assert subscribed <= declared()


def test_every_declared_event_is_emitted_somewhere_in_app():
    found, unreadable = emits_in_app()
    assert unreadable == [], "construct the event inside emit(…) so this test can see which it is"
    assert set(found) <= declared(), "emit only events declared in a domain's events.py"
    assert {cls.name for cls in declared() - set(found)} == set(), "declared but never emitted"


def test_the_scan_sees_an_emit():
    lines = (APP / "learning" / "progress.py").read_text(encoding="utf-8").splitlines()
    line = next(number for number, text in enumerate(lines, 1) if "emit(CourseCompleted(" in text)
    found, _ = emits_in_app()
    assert found[CourseCompleted] == [f"app.learning.progress:{line}"]
