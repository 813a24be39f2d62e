"""Demo data for `make run` (`flask demo-data`), made through the services only.

It must come out the same on every setup: the embedded default, and PostgreSQL + Redis with
or without a worker running. Buying a course goes through the local gateway's signed webhook,
which a job applies, and the next step (a lesson of the bought course) needs that done. So
the demo runs the jobs it causes in its own process (`jobs_run_in_this_process`: RQ's
synchronous queues for the duration) instead of waiting for a worker, which may not exist,
or applying the events itself, which would skip the real path. A worker that also picks up a
job of ours (one left in Redis by an earlier crash) changes nothing: provider events are
stored once under their unique id and applied once, and payouts are idempotent by id.

Each step finds what it makes by a natural key first (a user by e-mail, a course by title,
an order per buyer and course, the room's demo messages, the DM conversation, the refund,
dispute and payout of their orders) and commits what it did, so a run that stopped half-way
is finished by the next one, and a second full run changes nothing. A run killed between a
commit and the job it enqueued is finished too (`finish_waiting_money`).
"""
from __future__ import annotations

import io
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from app.accounts.auth import sign_up
from app.accounts.models import PERMISSIONS, User
from app.accounts.oauth_server import client_by_client_id, register_client
from app.accounts.queries import user_by_email
from app.accounts.roles import grant_permission
from app.catalog import courses, publishing, quizzes, structure
from app.catalog.models import Category, Course
from app.catalog.samples import pdf, png, video
from app.commerce import disputes, escrow, payouts, refunds, webhooks
from app.commerce.models import Dispute, Order, Payout, Refund
from app.commerce.orders import start_checkout
from app.commerce.payment_gateway import get_gateway
from app.demo_history import load_history
from app.extensions import db, jobs_run_in_this_process
from app.jobs.discovery import refresh_discovery
from app.learning import attempts, discussions, enrollment, progress, reviews
from app.learning.models import Thread
from app.learning.queries import active_enrollment, completed_lesson_ids, ordered_lessons
from app.messaging import chat, direct
from app.messaging.models import ChatMessage, DirectMessage

DEMO_PASSWORD = "lyceum-demo"
DEMO_USERS = (
    ("admin@example.com", "Ada Admin", "all"),
    ("creator@example.com", "Chris Creator", None),
    ("learner@example.com", "Lee Learner", None),
)
ADMIN, CREATOR, LEARNER = (email for email, _name, _perms in DEMO_USERS)
DEMO_BUYERS = tuple((f"buyer{n}@example.com", f"Demo Buyer {n}") for n in (1, 2, 3))

LOREM = ("This course is built from short, practical lessons. Every section ends with a quiz so "
         "you can check what you learned, and the downloadable notes summarise each idea. You "
         "will practise on realistic examples rather than toy problems, and by the end you will "
         "have a small project of your own to show.")

DEMO_COURSES = (
    # title, subtitle, category slug, price (cents), level, final status, colours
    ("Python for Absolute Beginners", "Write your first programs in a weekend", "development",
     0, "beginner", "published", ((29, 78, 216), (14, 165, 233))),
    ("Practical SQL for Analysts", "Answer real business questions with queries", "data-science",
     2999, "intermediate", "published", ((5, 150, 105), (16, 185, 129))),
    ("Watercolour Landscapes", "Loose, luminous skies, trees and water", "design",
     1999, "all", "published", ((190, 24, 93), (245, 158, 11))),
    ("Machine Learning in Production", "From notebook to a service people rely on", "data-science",
     4999, "advanced", "draft", ((67, 56, 202), (124, 58, 237))),
    ("Public Speaking Without Fear", "Prepare, rehearse and deliver talks with confidence",
     "personal-development", 1499, "beginner", "under_review", ((180, 83, 9), (220, 38, 38))),
)


def load_demo_data() -> list[str]:
    """Make whatever of the demo is missing; returns the e-mails of the demo accounts it created."""
    new = [email for email, _name, _perms in DEMO_USERS if user_by_email(email) is None]
    with jobs_run_in_this_process(current_app._get_current_object()):
        for step in DEMO_STEPS:
            step()
            db.session.commit()
    return new


def course_titled(title: str) -> Course:
    """The demo creator's course of that title."""
    return db.session.scalar(sa.select(Course).where(Course.title == title,
                                                     Course.creator_id == user_by_email(CREATOR).id))


def demo_accounts() -> None:
    for email, name, perms in DEMO_USERS:
        user = user_by_email(email) or sign_up(email=email, display_name=name, password=DEMO_PASSWORD)
        if perms == "all":
            for permission in PERMISSIONS:
                grant_permission(None, user, permission, system=True)
    for email, name in DEMO_BUYERS:
        if user_by_email(email) is None:
            sign_up(email=email, display_name=name, password=DEMO_PASSWORD)


def demo_courses() -> None:
    """The creator's five courses, each made (content, review, publication) in one transaction."""
    creator, admin = user_by_email(CREATOR), user_by_email(ADMIN)
    for title, subtitle, category_slug, price, level, status, colours in DEMO_COURSES:
        if course_titled(title) is None:
            _make_course(creator, admin, title, subtitle, category_slug, price, level, status, colours)
            db.session.commit()


def _make_course(creator, admin, title, subtitle, category_slug, price, level, status, colours) -> None:
    category = db.session.scalar(sa.select(Category).where(Category.slug == category_slug))
    course = courses.create_course(creator, title=title, category_id=category.id, accept_terms=True)
    courses.update_course_field(creator, course, "subtitle", subtitle)
    courses.update_course_field(creator, course, "description",
                                f"**{title}** — {subtitle.lower()}.\n\n{LOREM}\n\n"
                                "## What you will learn\n\n- The core ideas, one at a time\n"
                                "- How to practise them on your own\n- Where to go next")
    courses.update_course_field(creator, course, "level", level)
    courses.set_price(creator, course, price)
    courses.set_cover(creator, course, io.BytesIO(png(640, 360, *colours)), "cover.png")

    basics = structure.add_section(creator, course, title="Getting started")
    intro = structure.add_lesson(creator, basics, title="Welcome and overview", kind="video")
    structure.set_lesson_media(creator, intro, io.BytesIO(video()), "welcome.webm")
    structure.update_lesson(creator, intro, duration_minutes=2, is_free_preview=True)
    notes = structure.add_lesson(creator, basics, title="Course notes", kind="pdf")
    structure.set_lesson_media(creator, notes, io.BytesIO(pdf(title, [
        subtitle, "", "1. Read each lesson once, then practise.",
        "2. Take the quiz at the end of each section.", "3. Ask questions in the discussion."])),
        "notes.pdf")
    structure.update_lesson(creator, notes, duration_minutes=5)

    core = structure.add_section(creator, course, title="Core ideas")
    reading = structure.add_lesson(creator, core, title="The first principle", kind="text")
    structure.update_lesson(creator, reading, duration_minutes=8, body=(
        "## The first principle\n\nStart small, and make it work before you make it "
        "better.\n\n1. Pick one tiny goal.\n2. Reach it.\n3. Only then add the next.\n\n"
        "> Practice beats theory when both are available."))
    check = structure.add_lesson(creator, core, title="Check your understanding", kind="quiz")
    q1 = quizzes.add_question(creator, check.quiz, prompt="What should you do first?",
                              explanation="Small goals you can reach keep you moving.")
    quizzes.add_option(creator, q1, text="Pick one tiny goal", is_correct=True)
    quizzes.add_option(creator, q1, text="Plan everything in detail")
    quizzes.add_option(creator, q1, text="Skip to the advanced part")
    q2 = quizzes.add_question(creator, check.quiz, kind="true_false",
                              prompt="Practice beats theory when both are available.",
                              explanation="That is the quote at the end of the reading.")
    quizzes.set_correct(creator, q2.options[0], True)
    structure.update_lesson(creator, check, duration_minutes=3)

    if status in ("under_review", "published"):
        publishing.submit_for_review(creator, course)
    if status == "published":
        publishing.approve_course(admin, course)
    db.session.flush()


def demo_finished_course() -> None:
    """The demo learner finished the free course: every lesson, a review the creator replied
    to, and a question the creator answered."""
    learner, creator = user_by_email(LEARNER), user_by_email(CREATOR)
    course = course_titled(DEMO_COURSES[0][0])
    taken = enrollment.enroll(learner, course, source="free")  # the same one when enrolled
    done = completed_lesson_ids(taken)
    for lesson in ordered_lessons(course.id):
        if lesson.id in done:
            continue
        if lesson.kind == "quiz":
            answers = {q.id: [o.id for o in q.options if o.is_correct] for q in lesson.quiz.questions}
            attempts.submit_quiz(learner, lesson, answers)
        else:
            progress.complete_lesson(learner, lesson)
    db.session.commit()

    opinion = reviews.review_of(learner, course) or reviews.write_review(
        learner, course, rating=5, body="Clear, friendly and practical. The quizzes helped a lot.")
    if opinion.reply is None:
        reviews.reply_to_review(creator, opinion, text="Thank you! Enjoy the next course.")
    db.session.commit()

    title = "Where do I practise after the course?"
    thread = db.session.scalar(sa.select(Thread).where(
        Thread.course_id == course.id, Thread.author_id == learner.id, Thread.title == title))
    if thread is None:
        thread = discussions.start_thread(learner, course, title=title,
                                          body="I finished the lessons: what should I build next?",
                                          lesson_id=ordered_lessons(course.id)[-1].id)
    answer = next((post for post in thread.posts if post.author_id == creator.id), None)
    if answer is None:
        answer = discussions.reply(creator, thread, body="Try rebuilding the final example with "
                                                         "your own data, then share it here!")
    if thread.answer_post_id is None:
        discussions.mark_answer(creator, thread, answer)


def demo_purchases() -> None:
    """The learner bought the second course and is part-way through it; three demo buyers
    bought each of the creator's published paid courses."""
    learner = user_by_email(LEARNER)
    ongoing = course_titled(DEMO_COURSES[1][0])
    buy_once(learner, ongoing)
    first = ordered_lessons(ongoing.id)[0]
    if first.id not in completed_lesson_ids(active_enrollment(learner, ongoing)):
        progress.complete_lesson(learner, first)
    for email, _name in DEMO_BUYERS:
        for course in _paid_courses():
            buy_once(user_by_email(email), course)


def _paid_courses() -> list[Course]:
    return list(db.session.scalars(sa.select(Course).where(
        Course.creator_id == user_by_email(CREATOR).id, Course.status == "published", Course.price_minor > 0)
        .order_by(Course.id)))


def buy_once(buyer: User, course: Course) -> Order:
    """`buyer`'s paid order for `course`, bought through the local payment gateway (the same
    signed events as Stripe's) if there is none yet. A pending order left by an earlier run
    is paid now; its old event, if a worker ever applies it, finds the order paid."""
    order = _order(buyer, course)
    if order is None:
        order, _url = start_checkout(buyer, course)
        db.session.flush()
        get_gateway().pay(order)
        db.session.commit()  # the webhook's apply job runs here, in this process
        order = _order(buyer, course)
        if order is None:
            raise RuntimeError(f"{buyer.email}'s payment for “{course.title}” was not applied: "
                               "see the failed payment events (Admin → Finance).")
    return order


def _order(buyer: User, course: Course) -> Order | None:
    return db.session.scalar(sa.select(Order).where(
        Order.buyer_id == buyer.id, Order.course_id == course.id, Order.paid_at.is_not(None)))


def demo_money() -> None:
    """One refund, one open dispute, escrow released on two sales, one payout."""
    creator = user_by_email(CREATOR)
    first, second, third = (user_by_email(email) for email, _name in DEMO_BUYERS)
    paid = _paid_courses()
    refunded, disputed = _order(first, paid[0]), _order(second, paid[0])
    if not _exists(sa.select(Refund.id).where(Refund.order_id == refunded.id)):
        refunds.request_refund(first, refunded, reason="Bought the wrong course by mistake.")
        db.session.commit()  # the gateway's refund event is applied here
    if not _exists(sa.select(Dispute.id).where(Dispute.order_id == disputed.id)):
        disputes.open_dispute(second, disputed, reason="not_as_described",
                              message="The course is much shorter than the description says.")
    for course in paid:
        escrow.release(_order(third, course), reason="demo: escrow period ended")  # once
    if payouts.payout_account_of(creator) is None:
        payouts.connect_paypal(creator, email=CREATOR)
    db.session.commit()
    if not _exists(sa.select(Payout.id).where(Payout.creator_id == creator.id)):
        payouts.request_payout(creator, min(creator.balance, 2000))


def _exists(query) -> bool:
    return db.session.scalar(query.limit(1)) is not None


DEMO_CHAT = (
    (CREATOR, "Welcome to the course chat! Ask anything here; I drop in most evenings."),
    (LEARNER, "Hi @ChrisCreator 👋 the quiz in section 2 was a nice surprise. Is there a "
              "`cheat sheet` for the shortcuts?"),
    (CREATOR, "There is: https://example.com/cheat-sheet (it is also attached to the last lesson)."),
)
DEMO_DMS = (
    (LEARNER, "Hello! Will there be a follow-up course on projects?"),
    (CREATOR, "Yes, I am recording it now. I will message you when it is out."),
)


def demo_conversations() -> None:
    """A few messages in the free course's chat room and a direct conversation, so the
    real-time pages have something to show (open them in two browsers to see them live)."""
    course = course_titled(DEMO_COURSES[0][0])
    for email, body in DEMO_CHAT:
        author = user_by_email(email)
        if not _exists(sa.select(ChatMessage.id).where(
                ChatMessage.course_id == course.id, ChatMessage.author_id == author.id,
                ChatMessage.body == body)):
            chat.post_message(author, course, body)
    conversation = direct.conversation_with(user_by_email(LEARNER), user_by_email(CREATOR))
    for email, body in DEMO_DMS:
        sender = user_by_email(email)
        if not _exists(sa.select(DirectMessage.id).where(
                DirectMessage.conversation_id == conversation.id, DirectMessage.sender_id == sender.id,
                DirectMessage.body == body)):
            direct.send_direct_message(sender, conversation, body)


def finish_waiting_money() -> None:
    """What a run killed between a commit and its job left waiting (a payment event stored
    but not applied, a payout requested but not sent), done now rather than by the clock in
    a few minutes, so the steps after it find the order paid. Safe with a worker at the same
    work: an event is applied once, a payout sent once."""
    webhooks.retry_waiting_events(stale_after=timedelta(0))
    payouts.resume_stuck_payouts(older_than_seconds=0)


MOBILE_CLIENT_ID = "lyceum-mobile"


def demo_oauth_client() -> None:
    """The first-party mobile app, a public OAuth client (PKCE, no secret) with a fixed id."""
    if client_by_client_id(MOBILE_CLIENT_ID) is None:
        register_client(name="Lyceum mobile", redirect_uris=["lyceum://callback"], scopes="read learn sell",
                        public=True, first_party=True, client_id=MOBILE_CLIENT_ID)


def demo_history() -> None:
    """90 days of learners, sales, refunds, progress, quizzes, reviews, questions and page
    views on the creator's published courses, then the analytics rollups rebuilt from them
    (app/demo_history.py), so the analytics pages have full charts."""
    load_history(user_by_email(CREATOR), [course_titled(title) for title, *_rest in DEMO_COURSES])


# In order: each needs what the ones before it made. The last refreshes trending, "also
# took" and the search vocabulary from what is there.
DEMO_STEPS = (finish_waiting_money, demo_accounts, demo_courses, demo_finished_course,
              demo_purchases, demo_money, demo_conversations, demo_oauth_client, demo_history,
              refresh_discovery)
