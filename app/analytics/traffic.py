"""Course page views, checkouts started and where visitors and buyers came from (issue 17, part 1).

Page views are counted on our side, with no third-party tracker and nothing personal kept for
them: each view of a published course page adds 1 in Redis to a per-day hash whose fields are
`<course id>|<source>` (one pipelined HINCRBY; no address, no user id, no cookie id). Every
minute `flush_page_views` moves the counts into CourseDay.page_views and SourceDay.page_views:
it takes a short Redis lock, RENAMEs each day's hash to that day's "flushing" key (views counted
meanwhile start a new hash), adds the counts in the caller's transaction and, once that commits,
deletes the flushing keys. Two flushes at once: the second finds the lock taken and leaves
everything to the next run, so no count is lost or booked twice. A flush that dies before its
commit leaves its flushing keys behind, and the next flush books them first.

The source of a view is the external referrer's domain (lowercased, without "www."), a `?ref=`
or `utm_source` name, or `direct`. A visitor's last external source is remembered in a small
cookie (`lyc_src`, the source name only) so that moving around the site, or coming back later
without a referrer, keeps the source they first came with; checkout stores it on the order
(Order.traffic_source), and the checkout and sale subscribers below count it per source.
"""
from __future__ import annotations

import logging
import re
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
from redis.exceptions import RedisError, ResponseError

from app.analytics import live
from app.analytics.models import CourseDay, SourceDay
from app.analytics.periods import Period, bucket_label, buckets
from app.analytics.rollups import bump, day_of, reset
from app.analytics.scope import Scope, daily_sums, per_bucket, totals
from app.analytics.tables import Column, Table
from app.catalog.models import Course
from app.commerce.events import CheckoutStarted, LedgerPosted
from app.commerce.models import LedgerTransaction, Order
from app.events import subscribe
from app.extensions import db, get_redis, redis_key

log = logging.getLogger(__name__)

DIRECT = "direct"  # no referrer, no campaign name and nothing remembered
SOURCE_COOKIE = "lyc_src"  # the visitor's last external source: the name only
SOURCE_COOKIE_DAYS = 30
CAMPAIGN_MAX = 40  # `?ref=` / `utm_source` names are cut to this many characters
SOURCE_MAX = 100  # SourceDay.source and Order.traffic_source are String(100)
KEEP_DAYS = 8  # an unflushed day's hash expires after this long (the flush looks back LOOKBACK_DAYS)
LOOKBACK_DAYS = 7
LOCK_SECONDS = 600  # a flush holds its lock at most this long (it takes milliseconds; one stalled
# past this would see its flushing keys booked by the next flush as well)
TOP_SOURCES = 20  # the sources table shows these, then one "Other sources" row

_CAMPAIGN_CHARS = re.compile(r"[^a-z0-9._-]")
_DOMAIN = re.compile(r"^[a-z0-9.-]{1,100}$")
# Crawlers, link previews, monitors and scripts: not people reading a course page.
_BOT = re.compile(
    r"bot|crawl|spider|slurp|archiver|facebookexternalhit|embedly|preview|monitor|pingdom|"
    r"lighthouse|headless|phantomjs|curl|wget|python-|httpx|aiohttp|go-http-client|java/|okhttp|"
    r"libwww|scrapy|feedfetcher|mediapartners", re.IGNORECASE)


# --- where a visitor came from ----------------------------------------------------------------

def clean_campaign(text: str | None) -> str | None:
    """A `?ref=` / `utm_source` name as we keep it: lowercased, only a-z 0-9 . _ -, at most
    CAMPAIGN_MAX characters; None when nothing usable is left."""
    cleaned = _CAMPAIGN_CHARS.sub("", (text or "").strip().lower())[:CAMPAIGN_MAX]
    return cleaned or None


def clean_source(text: str | None) -> str | None:
    """A stored source name read back (e.g. from the cookie): a domain or campaign name of the
    characters we write, at most SOURCE_MAX long; None for anything else."""
    text = (text or "").strip().lower()
    if not text or len(text) > SOURCE_MAX or _CAMPAIGN_CHARS.search(text):
        return None
    return text


def _bare_host(host: str | None) -> str:
    host = (host or "").strip().lower().rstrip(".")
    host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host  # drop a port
    return host.removeprefix("www.")


def referrer_domain(referrer: str | None, own_host: str) -> str | None:
    """The domain of an external http(s) referrer, lowercased and without "www."; None when
    there is none, it cannot be read, or it is our own site."""
    if not referrer:
        return None
    try:
        parts = urlsplit(referrer.strip())
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not host:
        return None
    domain = _bare_host(host)
    if not _DOMAIN.match(domain) or domain == _bare_host(own_host):
        return None
    return domain


@dataclass(frozen=True)
class Visit:
    source: str  # what this view is counted under
    remember: str | None  # a new value for the visitor's source cookie (None: leave it)


def visit_source(*, referrer: str | None, own_host: str, ref: str | None = None,
                 utm_source: str | None = None, remembered: str | None = None) -> Visit:
    """Where this view came from. A campaign name (`?ref=`, then `utm_source`) wins, then an
    external referrer's domain; a view from our own pages, or with no referrer at all, keeps
    the source the visitor last came from (`remembered`, the cookie), else it is `direct`."""
    external = clean_campaign(ref) or clean_campaign(utm_source) or referrer_domain(referrer, own_host)
    remembered = clean_source(remembered)
    if external:
        return Visit(external, external if external != remembered else None)
    return Visit(remembered or DIRECT, None)


def is_bot(user_agent: str | None) -> bool:
    """A crawler, link preview or script (or no User-Agent at all), not a person."""
    return not (user_agent or "").strip() or bool(_BOT.search(user_agent))


def counts_as_view(*, method: str, user_agent: str | None, fragment: bool,
                   viewer_id: int | None, course: Course | None = None) -> bool:
    """Whether a request for a course page is a page view of that course: a GET of the whole
    page by a person who is not the course's creator (`course` None: the page came from the
    visitors' cache, so the viewer is not signed in and the course was published)."""
    if method != "GET" or fragment or is_bot(user_agent):
        return False
    if course is None:
        return True
    return course.status == "published" and viewer_id != course.creator_id


# --- counting and flushing -------------------------------------------------------------------

def views_key(day: date) -> str:
    """The day's hash of counts: field `<course id>|<source>`, value the number of views."""
    return redis_key("traffic", "views", day.isoformat())


def _flushing_key(day: date) -> str:
    return redis_key("traffic", "flushing", day.isoformat())


def _lock_key() -> str:
    return redis_key("traffic", "flush-lock")


def count_page_view(course_id: int, source: str, day: date) -> None:
    """Add one view of `course_id` from `source` on `day` (never fails the page: a Redis error
    loses the one view and is logged)."""
    key = views_key(day)
    try:
        pipe = get_redis().pipeline(transaction=False)
        pipe.hincrby(key, f"{course_id}|{source}", 1)
        pipe.expire(key, KEEP_DAYS * 86400)
        pipe.execute()
    except RedisError as exc:
        log.warning("page view not counted: %s", exc)


@dataclass
class Flush:
    """One flush in progress: the lock's token and the flushing keys it booked."""

    token: str
    keys: list[str] = field(default_factory=list)
    views: int = 0  # page views booked


def claim_page_views(today: date) -> Flush | None:
    """Take the flush lock and set each recent day's counts aside (RENAME to the day's flushing
    key). A flushing key left by a flush that died is taken as it is, and that day's new counts
    wait for the next run (a RENAME would overwrite it). None: another flush holds the lock (its
    counts and any new ones wait for the next run)."""
    redis = get_redis()
    flush = Flush(token=uuid.uuid4().hex)
    if not redis.set(_lock_key(), flush.token, nx=True, ex=LOCK_SECONDS):
        return None
    for back in range(LOOKBACK_DAYS + 1):
        day = today - timedelta(days=back)
        flushing = _flushing_key(day)
        if not redis.exists(flushing):
            try:
                redis.rename(views_key(day), flushing)
            except ResponseError:  # "no such key": no views that day since the last flush
                continue
        flush.keys.append(flushing)
    return flush


def book_page_views(flush: Flush) -> None:
    """Add the set-aside counts to CourseDay and SourceDay (in the caller's transaction)."""
    redis = get_redis()
    counts: dict[tuple[int, date, str], int] = defaultdict(int)
    for key in flush.keys:
        day = date.fromisoformat(key.rsplit(":", 1)[1])
        for name, value in redis.hgetall(key).items():
            course_text, _, source = name.decode().partition("|")
            if course_text.isdigit() and clean_source(source) and int(value) > 0:
                counts[(int(course_text), day, source)] += int(value)
    flush.views += add_page_views(counts)


def add_page_views(counts: dict[tuple[int, date, str], int]) -> int:
    """Book views {(course id, day, source): count} into CourseDay and SourceDay (in the caller's
    transaction) and tell the creators' open dashboards; returns how many were booked (views of
    a course deleted since are dropped). The flush books Redis's counts with it; the demo its
    history's."""
    if not counts:
        return 0
    booked = 0
    course_ids = {course_id for course_id, _, _ in counts}
    courses = {row.id: row for row in db.session.execute(
        sa.select(Course.id, Course.creator_id, Course.currency).where(Course.id.in_(course_ids)))}
    per_course: dict[tuple[int, date], int] = defaultdict(int)
    for (course_id, day, source), views in sorted(counts.items()):
        course = courses.get(course_id)
        if course is None:  # deleted since: nothing to count it against
            continue
        per_course[(course_id, day)] += views
        bump(SourceDay, {"course_id": course_id, "day": day, "source": source,
                         "creator_id": course.creator_id}, page_views=views)
        booked += views
    for (course_id, day), views in sorted(per_course.items()):
        course = courses[course_id]
        bump(CourseDay, {"course_id": course_id, "day": day, "creator_id": course.creator_id,
                         "currency": course.currency}, page_views=views)
    for creator_id in sorted({courses[course_id].creator_id for course_id, _ in per_course}):
        live.figures_changed(creator_id)
    return booked


def release_page_views(flush: Flush, *, booked: bool) -> None:
    """After the booking committed (`booked`), drop the set-aside counts; in any case let the
    lock go (if it is still ours), so the next flush runs (and rebooks them if not booked)."""
    redis = get_redis()
    if booked and flush.keys:
        redis.delete(*flush.keys)
    with redis.pipeline() as pipe:
        try:
            pipe.watch(_lock_key())
            if pipe.get(_lock_key()) == flush.token.encode():
                pipe.multi()
                pipe.delete(_lock_key())
                pipe.execute()
        except RedisError as exc:  # changed meanwhile: it expired and is another flush's now
            log.info("flush lock not released: %s", exc)


@contextmanager
def page_view_flush(today: date) -> Iterator[Flush | None]:
    """`with page_view_flush(today) as flush:` book it (if not None) and commit inside the
    block; on leaving without an error the counts are dropped from Redis, otherwise they stay
    for the next flush."""
    flush = claim_page_views(today)
    if flush is None:
        yield None
        return
    try:
        yield flush
    except BaseException:
        release_page_views(flush, booked=False)
        raise
    release_page_views(flush, booked=True)


# --- checkouts and sales per source (events) -------------------------------------------------

def _count_checkout(order: Order, delta: int = 1) -> None:
    day = day_of(order.created_at)
    bump(CourseDay, {"course_id": order.course_id, "day": day, "creator_id": order.creator_id,
                     "currency": order.currency}, checkouts=delta)
    bump(SourceDay, {"course_id": order.course_id, "day": day, "source": order.traffic_source or DIRECT,
                     "creator_id": order.creator_id}, checkouts=delta)


@subscribe(CheckoutStarted)
def count_checkout_started(event: CheckoutStarted) -> None:
    """A new checkout: +1 checkout for its course and its source, on the day the order was made."""
    order = db.session.get(Order, event.order_id)
    if order is None:
        return
    _count_checkout(order)
    live.figures_changed(order.creator_id)


@subscribe(LedgerPosted)
def count_sale_by_source(event: LedgerPosted) -> None:
    """A sale booked: +1 sale for the order's source, on the day of the ledger transaction."""
    if event.kind != "sale":
        return
    transaction = db.session.get(LedgerTransaction, event.transaction_id)
    if transaction is None or transaction.order_id is None:
        return
    order = db.session.get(Order, transaction.order_id)
    if order is None:
        return
    bump(SourceDay, {"course_id": order.course_id, "day": day_of(transaction.created_at),
                     "source": order.traffic_source or DIRECT, "creator_id": order.creator_id}, sales=1)
    live.figures_changed(order.creator_id)


def rebuild(start: date, end: date) -> None:
    """Recompute checkouts (CourseDay, SourceDay) and sales per source (SourceDay) for start..end
    from the orders and the ledger's sale transactions. Page views are kept: nothing else
    records them."""
    reset(CourseDay, ["checkouts"], start, end)
    reset(SourceDay, ["checkouts", "sales"], start, end)
    since = datetime(start.year, start.month, start.day, tzinfo=UTC)
    until = datetime(end.year, end.month, end.day, tzinfo=UTC) + timedelta(days=1)
    source = sa.func.coalesce(Order.traffic_source, DIRECT)
    checkouts = defaultdict(int)
    for order in db.session.execute(
            sa.select(Order.course_id, Order.creator_id, Order.currency, Order.created_at, source.label("source"))
            .where(Order.created_at >= since, Order.created_at < until)):
        checkouts[(order.course_id, order.creator_id, order.currency, day_of(order.created_at), order.source)] += 1
    per_course = defaultdict(int)
    for (course_id, creator_id, currency, day, name), count in checkouts.items():
        per_course[(course_id, creator_id, currency, day)] += count
        bump(SourceDay, {"course_id": course_id, "day": day, "source": name, "creator_id": creator_id},
             checkouts=count)
    for (course_id, creator_id, currency, day), count in per_course.items():
        bump(CourseDay, {"course_id": course_id, "day": day, "creator_id": creator_id, "currency": currency},
             checkouts=count)
    sales = defaultdict(int)
    for row in db.session.execute(
            sa.select(Order.course_id, Order.creator_id, LedgerTransaction.created_at, source.label("source"))
            .join(Order, Order.id == LedgerTransaction.order_id)
            .where(LedgerTransaction.kind == "sale", LedgerTransaction.created_at >= since,
                   LedgerTransaction.created_at < until)):
        sales[(row.course_id, row.creator_id, day_of(row.created_at), row.source)] += 1
    for (course_id, creator_id, day, name), count in sales.items():
        bump(SourceDay, {"course_id": course_id, "day": day, "source": name, "creator_id": creator_id},
             sales=count)


# --- the page's sections ----------------------------------------------------------------------

FUNNEL_COLUMNS = ["page_views", "checkouts", "sales"]
FUNNEL_STEPS = (("page_views", "Course page views"), ("checkouts", "Checkouts started"), ("sales", "Paid"))


def percent(part: int, whole: int) -> float | None:
    """part of whole in percent, one decimal; None when whole is 0 (shown as "—")."""
    return round(part * 100 / whole, 1) if whole else None


@dataclass
class FunnelStep:
    key: str
    label: str
    value: int
    previous: int
    rate: float | None  # share of the step before (None: the first step, or nothing before)
    previous_rate: float | None


def funnel(scope: Scope, period: Period, grain: str) -> dict:
    """Page views → checkouts started → paid, with each step's share of the one before, for the
    period and the one before it, and per bucket for a chart."""
    previous = period.previous()
    daily = daily_sums(CourseDay, scope, period, FUNNEL_COLUMNS)
    now, before = totals(daily, FUNNEL_COLUMNS), totals(daily_sums(CourseDay, scope, previous, FUNNEL_COLUMNS),
                                                        FUNNEL_COLUMNS)
    steps = []
    for index, (key, label) in enumerate(FUNNEL_STEPS):
        last = FUNNEL_STEPS[index - 1][0] if index else None
        steps.append(FunnelStep(key, label, now[key], before[key],
                                percent(now[key], now[last]) if last else None,
                                percent(before[key], before[last]) if last else None))
    return {"steps": steps, "overall": percent(now["sales"], now["page_views"]),
            "previous_overall": percent(before["sales"], before["page_views"]),
            "labels": [bucket_label(start, grain) for start in buckets(period, grain)],
            "series": {key: per_bucket(daily, period, grain, key) for key in FUNNEL_COLUMNS}}


def source_label(source: str) -> str:
    """How a source reads on the page: domains and campaign names as they are."""
    return "Direct (no referrer)" if source == DIRECT else source


def sources(scope: Scope, period: Period) -> dict:
    """Per source over the period: page views, checkouts started, sales and sales per view;
    most sales first (then most views), the top TOP_SOURCES and one "Other sources" row."""
    columns = ["page_views", "checkouts", "sales"]
    daily = daily_sums(SourceDay, scope, period, columns, group_by="source")
    summed: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(columns, 0))
    for (name, _day), figures in daily.items():
        for column in columns:
            summed[name][column] += figures[column]
    ranked = sorted(summed.items(), key=lambda item: (-item[1]["sales"], -item[1]["page_views"],
                                                       -item[1]["checkouts"], item[0]))
    shown, rest = ranked[:TOP_SOURCES], ranked[TOP_SOURCES:]
    rows = [[source_label(name), f["page_views"], f["checkouts"], f["sales"], percent(f["sales"], f["page_views"])]
            for name, f in shown]
    if rest:
        other = {column: sum(f[column] for _, f in rest) for column in columns}
        rows.append([f"Other sources ({len(rest)})", other["page_views"], other["checkouts"], other["sales"],
                     percent(other["sales"], other["page_views"])])
    table = Table(
        "traffic-sources", "Page views, checkouts and sales by source",
        [Column("Source", "text"), Column("Page views"), Column("Checkouts started"), Column("Sales"),
         Column("Sales per page view", "percent")],
        rows,
        caption=("The website that linked to your course page, or the name you put in your own link "
                 "(add ?ref=newsletter to the course's address, for example). “Direct (no referrer)” means "
                 "a typed address, a bookmark or an app that does not say where it came from. A visitor who "
                 "moves around the site or comes back within 30 days stays under the source they last came "
                 "from. Most sales first."))
    buyers = [(name, f["sales"]) for name, f in ranked if f["sales"]]
    return {"table": table, "top_buyer_source": source_label(buyers[0][0]) if buyers else None,
            "top_buyer_sales": buyers[0][1] if buyers else 0,
            "total_sales": sum(f["sales"] for _, f in ranked)}
