"""Demo data for `make run` (`flask demo-data`), made through the services only.
Running it again changes nothing."""
from __future__ import annotations

import io

import sqlalchemy as sa

from app.extensions import db

DEMO_PASSWORD = "lyceum-demo"
DEMO_USERS = (
    ("admin@example.com", "Ada Admin", "all"),
    ("creator@example.com", "Chris Creator", None),
    ("learner@example.com", "Lee Learner", None),
)

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
    """Create the demo accounts and courses; returns the e-mails of accounts it created."""
    from app.accounts.auth import sign_up
    from app.accounts.models import PERMISSIONS
    from app.accounts.queries import user_by_email
    from app.accounts.roles import grant_permission

    created = []
    for email, name, perms in DEMO_USERS:
        user = user_by_email(email)
        if user is None:
            user = sign_up(email=email, display_name=name, password=DEMO_PASSWORD)
            created.append(email)
        if perms == "all":
            for permission in PERMISSIONS:
                grant_permission(None, user, permission, system=True)
    db.session.commit()
    creator, admin = user_by_email("creator@example.com"), user_by_email("admin@example.com")
    _demo_courses(creator, admin)
    db.session.commit()
    _demo_learning(user_by_email("learner@example.com"), creator, admin)
    db.session.commit()
    from app.jobs.discovery import refresh_discovery
    refresh_discovery()  # trending, "also took" and the search vocabulary
    return created


def _demo_courses(creator, admin) -> None:
    from app.catalog import courses, quizzes, review, structure
    from app.catalog.models import Category, Course
    from app.catalog.samples import pdf, png, video

    existing = set(db.session.scalars(sa.select(Course.title).where(Course.creator_id == creator.id)))
    for title, subtitle, category_slug, price, level, status, colours in DEMO_COURSES:
        if title in existing:
            continue
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
            review.submit_for_review(creator, course)
        if status == "published":
            review.approve_course(admin, course)
        db.session.flush()


def _demo_learning(learner, creator, admin) -> None:
    """The demo learner finished the free course (certificate, review, a question the creator
    answered) and is part-way through a second one."""
    from app.catalog.models import Course
    from app.learning import attempts, discussions, enrollment, progress, reviews
    from app.learning.queries import enrollment_for, ordered_lessons

    finished = db.session.scalar(sa.select(Course).where(Course.title == DEMO_COURSES[0][0]))
    ongoing = db.session.scalar(sa.select(Course).where(Course.title == DEMO_COURSES[1][0]))
    if finished is None or ongoing is None or enrollment_for(learner, finished) is not None:
        return
    enrollment.enroll(learner, finished, source="free")
    for lesson in ordered_lessons(finished.id):
        if lesson.kind == "quiz":
            answers = {q.id: [o.id for o in q.options if o.is_correct] for q in lesson.quiz.questions}
            attempts.submit_quiz(learner, lesson, answers)
        else:
            progress.complete_lesson(learner, lesson)
    review = reviews.write_review(learner, finished, rating=5,
                                  body="Clear, friendly and practical. The quizzes helped a lot.")
    reviews.reply_to_review(creator, review, text="Thank you! Enjoy the next course.")
    thread = discussions.start_thread(learner, finished, title="Where do I practise after the course?",
                                      body="I finished the lessons: what should I build next?",
                                      lesson_id=ordered_lessons(finished.id)[-1].id)
    answer = discussions.reply(creator, thread, body="Try rebuilding the final example with your "
                                                      "own data, then share it here!")
    discussions.mark_answer(creator, thread, answer)

    _buy(learner, ongoing)
    db.session.commit()  # the payment event is applied once this commits
    progress.complete_lesson(learner, ordered_lessons(ongoing.id)[0])
    _demo_money(learner, creator, admin)
    _demo_conversations(learner, creator, finished)


def _demo_conversations(learner, creator, course) -> None:
    """A few messages in the free course's chat room and a direct conversation, so the
    real-time pages have something to show (open them in two browsers to see them live)."""
    from app.messaging import chat, direct

    chat.post_message(creator, course, "Welcome to the course chat! Ask anything here; "
                                       "I drop in most evenings.")
    chat.post_message(learner, course, "Hi @ChrisCreator 👋 the quiz in section 2 was a nice "
                                       "surprise. Is there a `cheat sheet` for the shortcuts?")
    chat.post_message(creator, course, "There is: https://example.com/cheat-sheet (it is also "
                                       "attached to the last lesson).")
    conversation = direct.conversation_with(learner, creator)
    direct.send(learner, conversation, "Hello! Will there be a follow-up course on projects?")
    direct.send(creator, conversation, "Yes, I am recording it now. I will message you when it is out.")


def _buy(buyer, course):
    """A purchase through the local payment gateway: the same signed events as Stripe's."""
    from app.commerce.gateways import get_gateway
    from app.commerce.orders import start_checkout

    order, _url = start_checkout(buyer, course)
    db.session.flush()
    get_gateway().pay(order)
    return order


def _demo_money(learner, creator, admin) -> None:
    """Sales on the demo creator's paid courses, one refund, one open dispute, one payout."""
    from app.accounts.auth import sign_up
    from app.catalog.models import Course
    from app.commerce import disputes, payouts, refunds

    paid = list(db.session.scalars(sa.select(Course).where(
        Course.creator_id == creator.id, Course.status == "published", Course.price_minor > 0)))
    buyers = [sign_up(email=f"buyer{n}@example.com", display_name=f"Demo Buyer {n}",
                      password=DEMO_PASSWORD) for n in (1, 2, 3)]
    db.session.flush()
    orders = [_buy(buyer, course) for buyer in buyers for course in paid]
    db.session.commit()  # the local gateway's events are applied after this commit
    for order in orders:
        db.session.refresh(order)
    refunds.request_refund(buyers[0], orders[0], reason="Bought the wrong course by mistake.")
    disputes.open_dispute(buyers[1], orders[len(paid)], reason="not_as_described",
                          message="The course is much shorter than the description says.")
    from app.commerce.escrow import release
    for order in orders[-2:]:
        release(order, reason="demo: escrow period ended")
    payouts.connect_paypal(creator, email="creator@example.com")
    db.session.commit()
    payouts.request_payout(creator, min(creator.balance, 2000))
