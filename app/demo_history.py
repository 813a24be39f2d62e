"""The demo's last 90 days, so that a newcomer's analytics pages show full charts.

Learners arrive every day (more as the weeks go by, fewer two days a week, a burst on
newsletter days: counted from the first day, so that the demo is the same whatever today is)
from a few places: a search engine, a video site, the newsletter's `?ref=` link, or direct.
Each one's story is drawn from a fixed seed, so the demo is the same every time: they
sign up (with Google: no password to hash), take the free course or buy a paid one (a few
start a checkout and never pay), open the lessons one after the other — fewer at each lesson
— watch some of the video, pass the quiz (whose first question is much harder than the
second) or try again, finish the course, write a review, ask a question the creator answers
hours or days later, and now and then ask for their money back.

Everything goes through the services, with the moment it happened (`now=`): the sale is
`orders.mark_paid`, the refund `refunds.request_refund` then `settle_refund` (booked at once,
at its moment, so the local gateway's own confirmation finds it done), escrow is released
when the course is completed or its 30 days are over. Where a service sets no moment, the
demo sets it just after (a learner's sign-up time; a video's furthest point watched).
Nothing after the start of today is made: the rollups of closed days are then rebuilt from
these facts (`analytics.rebuild.rebuild`), so every figure agrees with them.

Each learner's story is one transaction, found again by the learner's e-mail: a run that
stopped half-way is finished by the next, and a second run adds nothing. Page views exist
only in the rollups; they are written once, when no day before today has any yet.
"""
from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from app.accounts.models import User
from app.accounts.oauth import ProviderProfile, sign_in_with_provider
from app.accounts.queries import user_by_email
from app.analytics import traffic
from app.analytics.models import CourseDay
from app.analytics.rebuild import rebuild
from app.catalog.models import Course, Lesson
from app.commerce import escrow, refunds
from app.commerce.models import Order
from app.commerce.orders import mark_paid, mark_unsuccessful, start_checkout
from app.dbtypes import utcnow
from app.extensions import db
from app.learning import attempts, discussions, enrollment, progress, reviews
from app.learning.queries import enrollment_for, ordered_lessons

SEED = 17
HISTORY_DAYS = 90
SOURCES = ("google.com", "direct", "youtube.com", "newsletter")  # newsletter: the `?ref=newsletter` link
SOURCE_WEIGHTS = (40, 30, 20, 10)
NEWSLETTER_WEIGHTS = (25, 20, 10, 45)  # on the days the newsletter goes out
FIRST_NAMES = ("Maya", "Omar", "Lena", "Tariq", "Sofia", "Jonas", "Aiko", "Ravi", "Elena", "Kwame",
               "Ines", "Mateo", "Priya", "Lucas", "Zara", "Hugo", "Amara", "Felix", "Noor", "Diego")
SURNAMES = "ABCDEFGHIJKLMNOPRSTVWZ"
# Per course (by the demo's index): the chance to open the first lesson, then to go on to each next one.
GO_ON = {0: (0.9, 0.7, 0.6, 0.75), 1: (0.95, 0.8, 0.7, 0.85), 2: (0.92, 0.75, 0.55, 0.8)}
HARD_QUESTION_RIGHT, EASY_QUESTION_RIGHT = 0.45, 0.93
QUESTIONS = (
    ("Is there a way to download the notes?", "I would like to read them offline on the train."),
    ("The example in the second lesson does not work for me", "I followed every step and get a different result."),
    ("How long should I practise each day?", "I have about half an hour in the evenings."),
    ("Could you explain the first principle again?", "I am not sure how small a goal should be."),
    ("Which tools do you recommend?", "Is there anything I should buy or install first?"),
    ("Quiz question one: why is my answer wrong?", "I picked the detailed plan; it seemed sensible."),
)
ANSWER = ("Good question! Have a look at the course notes first: the second page covers exactly "
          "this. If it is still unclear, reply here and I will record a short video.")
REVIEWS = {5: "Clear, practical and well paced. Exactly what I needed.",
           4: "Very good course; a few more exercises would make it perfect.",
           3: "Useful, but it went a little fast for me in the middle.",
           2: "Too short for the price; I expected more depth."}
REFUND_REASONS = ("Bought the wrong course by mistake.", "It is not the level I expected.",
                  "I found the same material elsewhere.")


def history_email(number: int) -> str:
    return f"learner{number:03d}@history.example.com"


@dataclass
class Purchase:
    """One course a learner took: bought (or enrolled for free), then how far they got."""

    course: int  # index into DEMO_COURSES
    at: datetime
    paid: bool = True  # False: they started a checkout and left it
    refund_after: timedelta | None = None
    lessons: list[timedelta] = field(default_factory=list)  # when each lesson was opened, from `at`
    watched: float = 0.0  # share of the video watched
    quiz_answers: list[tuple[bool, bool]] = field(default_factory=list)  # (hard right, easy right) per attempt
    review: tuple[int, timedelta] | None = None
    question: tuple[int, int, timedelta, timedelta | None] | None = None  # (which, lesson, when, answer delay)


@dataclass
class Story:
    number: int
    name: str
    source: str
    signed_up_at: datetime
    purchases: list[Purchase]


@dataclass
class Plan:
    stories: list[Story]
    page_views: dict[tuple[int, date, str], int]  # (course index, day, source) -> views


def _poisson(rng: random.Random, mean: float) -> int:
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def newsletter_day(day_index: int) -> bool:
    return day_index % 14 == 5


def make_plan(today: date, paid_courses: tuple[int, ...], free_course: int) -> Plan:
    """Every learner's story and the page views of the 90 days before `today`, drawn from SEED
    (the same plan whatever is already in the database)."""
    rng = random.Random(SEED)
    stories: list[Story] = []
    arrivals: Counter = Counter()  # (course, day) -> learners who took or tried it that day
    first_day = today - timedelta(days=HISTORY_DAYS)
    for day_index in range(HISTORY_DAYS):
        day = first_day + timedelta(days=day_index)
        growth = 0.8 + 1.6 * day_index / (HISTORY_DAYS - 1)
        mean = 1.6 * growth * (0.7 if day_index % 7 in (5, 6) else 1.0) + (3 if newsletter_day(day_index) else 0)
        for _ in range(max(1, _poisson(rng, mean))):
            weights = NEWSLETTER_WEIGHTS if newsletter_day(day_index) else SOURCE_WEIGHTS
            source = rng.choices(SOURCES, weights)[0]
            number = len(stories) + 1
            start = datetime.combine(day, time(0), UTC) + timedelta(seconds=rng.randint(7 * 3600, 23 * 3600))
            course = free_course if rng.random() < 0.3 else rng.choices(paid_courses, (60, 40))[0]
            first = _purchase(rng, course, start + timedelta(minutes=rng.randint(2, 20)),
                              paid=course == free_course or rng.random() > 0.15,
                              refundable=course != free_course)
            purchases = [first]
            others = [c for c in paid_courses if c != course]
            if first.paid and not first.refund_after and rng.random() < 0.2:
                later = start + timedelta(days=rng.randint(3, 25), hours=rng.randint(0, 12))
                purchases.append(_purchase(rng, rng.choice(others), later, paid=True, refundable=True))
            for purchase in purchases:
                arrivals[purchase.course, purchase.at.date()] += 1
            stories.append(Story(number, f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}.", source,
                                 start, purchases))
    page_views: dict[tuple[int, date, str], int] = {}
    for day_index in range(HISTORY_DAYS):
        day = first_day + timedelta(days=day_index)
        weights = NEWSLETTER_WEIGHTS if newsletter_day(day_index) else SOURCE_WEIGHTS
        for course in (free_course, *paid_courses):
            views = arrivals[course, day] * rng.randint(6, 12) + rng.randint(4, 20)
            for source, count in Counter(rng.choices(SOURCES, weights, k=views)).items():
                page_views[course, day, source] = count
    return Plan(stories, page_views)


def _purchase(rng: random.Random, course: int, at: datetime, *, paid: bool, refundable: bool) -> Purchase:
    purchase = Purchase(course, at, paid)
    if not paid:
        return purchase
    refunding = refundable and rng.random() < 0.08
    go_on = GO_ON.get(course, GO_ON[1])
    moment = timedelta(minutes=rng.randint(1, 90))
    if refunding:  # opened the first lesson at most, then asked for the money back
        if rng.random() < 0.6:
            purchase.lessons.append(moment)
        purchase.refund_after = moment + timedelta(hours=rng.randint(2, 70))
    elif rng.random() < go_on[0]:
        purchase.lessons.append(moment)
        for chance in go_on[1:]:
            if rng.random() > chance:
                break
            moment += timedelta(hours=rng.choice((0.2, 1, 3, 8, 20, 30, 50, 80)))
            purchase.lessons.append(moment)
    purchase.watched = min(1.0, max(0.05, rng.betavariate(3, 1.6)))
    if len(purchase.lessons) == 4:  # the quiz: tries until passed, at most three times
        for attempt in range(3):
            bonus = 0.2 * attempt
            answers = (rng.random() < HARD_QUESTION_RIGHT + bonus, rng.random() < EASY_QUESTION_RIGHT)
            purchase.quiz_answers.append(answers)
            if all(answers):
                break
    if not refunding and len(purchase.lessons) >= 2 and rng.random() < 0.4:
        finished = len(purchase.lessons) == 4 and all(purchase.quiz_answers[-1])
        rating = rng.choices((5, 4, 3, 2), (60, 30, 8, 2) if finished else (25, 40, 25, 10))[0]
        purchase.review = (rating, purchase.lessons[-1] + timedelta(hours=rng.randint(1, 30)))
    if not refunding and len(purchase.lessons) >= 2 and rng.random() < 0.25:
        lesson = rng.randrange(1, len(purchase.lessons))
        delay = None if rng.random() < 0.15 else timedelta(hours=rng.choice((0.5, 2, 4, 9, 20, 30, 60, 110)))
        purchase.question = (rng.randrange(len(QUESTIONS)), lesson,
                             purchase.lessons[lesson] + timedelta(minutes=rng.randint(5, 60)), delay)
    return purchase


# --- running the plan ------------------------------------------------------------------------


def load_history(creator: User, courses: list[Course], *, now: datetime | None = None,
                 learners: int | None = None) -> int:
    """Make whatever of the history is missing (`courses`: the demo's courses, in DEMO_COURSES
    order); returns the number of learners added. Commits after each learner. `learners`: stop
    after adding that many, before the page views and the rebuild (a run stopped half-way)."""
    now = now or utcnow()
    today = now.date()
    cut = datetime.combine(today, time(0), UTC)  # nothing from today on: its rollups are live
    by_index = dict(enumerate(courses))
    paid = tuple(i for i, c in by_index.items() if c.status == "published" and c.price_minor > 0)
    free = next(i for i, c in by_index.items() if c.status == "published" and c.price_minor == 0)
    plan = make_plan(today, paid, free)
    lessons = {i: ordered_lessons(by_index[i].id) for i in (free, *paid)}
    added = 0
    for story in plan.stories:
        if story.signed_up_at >= cut or user_by_email(history_email(story.number)) is not None:
            continue
        if added == learners:
            return added
        _live(story, creator, by_index, lessons, cut)
        db.session.commit()
        added += 1
    write_page_views(creator, by_index, plan.page_views, cut)
    db.session.commit()
    rebuild(today - timedelta(days=HISTORY_DAYS), today - timedelta(days=1))
    db.session.commit()
    return added


def _live(story: Story, creator: User, courses: dict[int, Course], lessons: dict[int, list[Lesson]],
          cut: datetime) -> None:
    learner = sign_in_with_provider(ProviderProfile(
        provider="google", subject=f"demo-history-{story.number}", email=history_email(story.number),
        email_verified=True, name=story.name))
    learner.created_at = learner.email_verified_at = story.signed_up_at
    for purchase in story.purchases:
        if purchase.at < cut:
            _take(learner, creator, courses[purchase.course], lessons[purchase.course], purchase,
                  story.source, cut)


def _take(learner: User, creator: User, course: Course, lessons: list[Lesson], purchase: Purchase,
          source: str, cut: datetime) -> None:
    at = purchase.at
    order = None
    if course.is_free:
        enrollment.enroll(learner, course, source="free", now=at)
    else:
        order, _url = start_checkout(learner, course, traffic_source=source, now=at - timedelta(minutes=2))
        if not purchase.paid:
            mark_unsuccessful(order, "expired")
            return
        mark_paid(order, payment_intent=f"pi_demo_history_{order.id}", amount_minor=order.price_minor, now=at)
    for position, opened in enumerate(purchase.lessons):
        when = at + opened
        if when >= cut:
            break
        _open(learner, course, lessons[position], purchase, when)
    if order is not None and purchase.refund_after is not None and at + purchase.refund_after < cut:
        _refund(learner, order, at + purchase.refund_after)
        return
    if purchase.review and at + purchase.review[1] < cut:
        rating, after = purchase.review
        review = reviews.write_review(learner, course, rating=rating, body=REVIEWS[rating], now=at + after)
        if rating <= 3 and at + after + timedelta(hours=6) < cut:
            reviews.reply_to_review(creator, review, text="Thank you for the honest feedback: I am adding "
                                    "more worked examples to the middle section.", now=at + after + timedelta(hours=6))
    if purchase.question and at + purchase.question[2] < cut:
        which, position, asked, delay = purchase.question
        title, body = QUESTIONS[which]
        thread = discussions.start_thread(learner, course, title=title, body=body,
                                          lesson_id=lessons[position].id, now=at + asked)
        if delay is not None and at + asked + delay < cut:
            answer = discussions.reply(creator, thread, body=ANSWER, now=at + asked + delay)
            discussions.mark_answer(creator, thread, answer)
    if order is not None:
        _release(order, learner, course, cut)


def _open(learner: User, course: Course, lesson: Lesson, purchase: Purchase, when: datetime) -> None:
    access = progress.access_lesson(learner, course.id, lesson.id)
    progress.open_lesson(learner, access, now=when)
    row = progress.progress_row(access.enrollment, lesson)
    row.updated_at = when
    if lesson.kind == "video":
        seconds = max(1, round((lesson.duration_seconds or 60) * purchase.watched))
        progress.save_position(learner, lesson, seconds, now=when + timedelta(seconds=seconds))
        row.watched_seconds = max(row.watched_seconds or 0, seconds)  # the furthest point reached
        if purchase.watched >= 0.5 or len(purchase.lessons) > 1:
            progress.complete_lesson(learner, lesson, now=when + timedelta(seconds=seconds + 5))
    elif lesson.kind == "quiz":
        quiz = lesson.quiz
        hard, easy = quiz.questions[0], quiz.questions[1]
        for attempt, (hard_right, easy_right) in enumerate(purchase.quiz_answers):
            answers = {hard.id: [_option(hard, hard_right)], easy.id: [_option(easy, easy_right)]}
            attempts.submit_quiz(learner, lesson, answers, now=when + timedelta(minutes=4 + 30 * attempt))
    else:
        progress.complete_lesson(learner, lesson, now=when + timedelta(minutes=lesson.duration_seconds // 60 or 3))
    db.session.flush()


def _option(question, right: bool) -> int:
    options = [option for option in question.options if option.is_correct == right]
    return options[0].id


def _refund(learner: User, order: Order, when: datetime) -> None:
    """Asked for and paid back at its moment (inside the window and the consumption limit, so
    approved at once): booked here, so the gateway's confirmation finds it settled."""
    refund = refunds.request_refund(learner, order, reason=REFUND_REASONS[order.id % len(REFUND_REASONS)],
                                    now=when)
    if refund.status == "approved":
        refunds.settle_refund(order, gateway_refund_id=refund.gateway_refund_id, amount_minor=refund.amount_minor,
                              refund_id=refund.id, now=when + timedelta(minutes=1))


def _release(order: Order, learner: User, course: Course, cut: datetime) -> None:
    """Escrow as the policy would have released it: on completion or when its days were over,
    whichever came first."""
    taken = enrollment_for(learner, course)
    moments = [(order.escrow_release_at, "escrow period ended")]
    if taken is not None and taken.completed_at is not None:
        moments.append((taken.completed_at, "course completed"))
    moment, reason = min((m for m in moments if m[0] is not None), default=(None, ""))
    if moment is not None and moment < cut:
        escrow.release(order, reason=reason, now=moment)


# --- page views ------------------------------------------------------------------------------


def write_page_views(creator: User, courses: dict[int, Course], views: dict[tuple[int, date, str], int],
                     cut: datetime) -> None:
    """The planned page views of the days before today, once (when none of those days has any)."""
    ids = [course.id for course in courses.values()]
    if db.session.scalar(sa.select(CourseDay.course_id).where(
            CourseDay.course_id.in_(ids), CourseDay.day < cut.date(), CourseDay.page_views > 0).limit(1)):
        return
    traffic.add_page_views({(courses[index].id, day, source): count
                            for (index, day, source), count in views.items() if day < cut.date()})
