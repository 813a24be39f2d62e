"""The public catalog /courses/ (full page and HTMX fragment, facets, empty results, the URL
as the whole state) and the course page /courses/<slug> (JSON-LD, Open Graph, reviews)."""
from __future__ import annotations

import json
import re
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest

from app.catalog import publishing
from app.dbtypes import utcnow
from app.discovery.ranking import refresh_affinity
from app.discovery.search import refresh_search_terms
from app.extensions import db
from app.learning.enrollment import enroll
from app.learning.reviews import write_review
from tests.support.pages import HX, facets, text
from tests.support.search import draft_course, publish, rate


class FormState(HTMLParser):
    """The values the filter form would submit (checked radios, selected options, inputs)."""

    def __init__(self):
        super().__init__()
        self.in_form = False
        self.select = None
        self.values: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("id") == "filters":
            self.in_form = True
        if not self.in_form:
            return
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind == "radio" and "checked" not in a:
                return
            if a.get("value"):
                self.values[a["name"]] = a["value"]
        elif tag == "select":
            self.select = a.get("name")
        elif tag == "option" and "selected" in a and self.select and a.get("value"):
            self.values[self.select] = a["value"]

    def handle_endtag(self, tag):
        if tag == "form":
            self.in_form = False
        if tag == "select":
            self.select = None


def form_state(body: str) -> dict[str, str]:
    parser = FormState()
    parser.feed(body)
    return parser.values


def hrefs(body: str, pattern: str = r'href="(/courses/[^"]*)"') -> list[str]:
    return [link.replace("&amp;", "&") for link in re.findall(pattern, body)]


def args_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def heading(body: str) -> str:
    start = body.index('<h2 id="results-h"')
    return body[start:body.index("</h2>", start)]


@pytest.fixture
def shelf(creator, reviewer, make_user, admin):
    """A small catalog: Python (paid, advanced, 1.5 hours, rated 4.5), Python (free,
    beginner), Sourdough (free, business, Spanish)."""
    raters = [make_user(password=None) for _ in range(2)]
    paid = publish(creator, reviewer, title="Python for Data Analysis", price="19.99",
                   level="advanced", category_slug="development", duration_minutes=30)
    rate(paid, raters, [4, 5], granter=admin)
    free = publish(creator, reviewer, title="Python for Beginners", level="beginner",
                   category_slug="development")
    bread = publish(creator, reviewer, title="Sourdough Basics", category_slug="business",
                    language="es")
    return {"paid": paid, "free": free, "bread": bread}


def test_the_catalog_is_a_full_page_for_a_visitor(client, shelf):
    resp = client.get("/courses/")
    body = text(resp)
    assert resp.status_code == 200 and "<html" in body
    assert '<form id="filters"' in body and 'id="results"' in body
    assert "3 courses" in heading(body)
    for title in ("Python for Data Analysis", "Python for Beginners", "Sourdough Basics"):
        assert title in body
    assert "HX-Request" in resp.headers["Vary"]


def test_a_card_shows_cover_creator_rating_learners_price_and_level(client, shelf):
    body = text(client.get("/courses/", query_string={"q": "analysis"}))
    card = body[body.index('<article class="course-card">'):body.index("</article>")]
    paid = shelf["paid"]
    assert f'href="/courses/{paid.slug}"' in card
    assert f'src="/courses/covers/{paid.cover.storage_key}"' in card
    assert "Carl Creator" in card and f'/creators/{paid.creator_id}"' in card
    assert "4.5" in card and "(2)" in card and "2 learners" in card
    assert "19.99" in card and "Advanced" in card and "1.5 h" in card  # three 30-minute lessons
    free_card = text(client.get("/courses/", query_string={"q": "beginners"}))
    assert '<p class="card-price">Free</p>' in free_card


def test_an_htmx_request_gets_only_the_results_with_out_of_band_facet_counts(client, shelf):
    resp = client.get("/courses/", query_string={"q": "python"}, headers=HX)
    body = text(resp)
    assert resp.status_code == 200
    assert "<html" not in body and "<form" not in body and "<aside" not in body
    assert "2 courses for “python”" in heading(body)
    assert "Sourdough Basics" not in body
    oob = facets(body, oob=True)
    assert facets(body, oob=False) == {}
    assert oob["facet-price-free"] == 1 and oob["facet-price-paid"] == 1
    assert oob["facet-category-development"] == 2 and oob["facet-category-business"] == 0
    assert oob["facet-level-advanced"] == 1 and oob["facet-level-beginner"] == 1
    assert oob["facet-rating-4"] == 1 and oob["facet-rating-2"] == 1
    assert oob["facet-language-en"] == 2 and oob["facet-language-es"] == 0
    assert "English (2)" in body
    assert "HX-Request" in resp.headers["Vary"]


def test_the_full_page_shows_the_same_facet_counts_in_place(client, shelf):
    body = text(client.get("/courses/", query_string={"q": "python"}))
    assert "hx-swap-oob" not in body
    counts = facets(body, oob=False)
    fragment = text(client.get("/courses/", query_string={"q": "python"}, headers=HX))
    assert counts == facets(fragment, oob=True)  # the swap brings the same ids, updated
    assert counts["facet-price-free"] == 1 and counts["facet-category-development"] == 2
    assert counts["facet-category-business"] == 0 and counts["facet-rating-4"] == 1
    assert counts["facet-language-en"] == 2
    spanish = text(client.get("/courses/", query_string={"language": "es"}))
    assert facets(spanish, oob=False)["facet-language-es"] == 1
    assert facets(spanish, oob=False)["facet-language-en"] == 2  # its own filter left out
    assert form_state(spanish)["language"] == "es"


def test_a_boosted_or_history_restore_request_gets_the_whole_page(client, shelf):
    for extra in ({"HX-Boosted": "true"}, {"HX-History-Restore-Request": "true"}):
        assert "<html" in text(client.get("/courses/", headers={**HX, **extra}))


def test_empty_results_suggest_removing_each_filter(client, shelf):
    args = {"q": "python", "level": "beginner", "price": "paid"}
    body = text(client.get("/courses/", query_string=args))
    assert "No course matches “python” with these filters." in body
    assert "Try removing a filter:" in body
    suggestions = hrefs(body, r'<li><a href="(/courses/[^"]*)">Remove')
    assert len(suggestions) == 3
    removed = [set(args) - set(args_of(link)) for link in suggestions]
    assert sorted(map(sorted, removed)) == [["level"], ["price"], ["q"]]
    found = {}
    for link in suggestions:
        (gone,) = set(args) - set(args_of(link))
        found[gone] = heading(text(client.get(link)))
    assert "1 course for" in found["level"] and "1 course for" in found["price"]
    assert "0 courses" in found["q"]  # no paid course for beginners at all
    assert 'href="/courses/">See every course' in body


def test_the_whole_state_lives_in_the_query_string(client, shelf):
    args = {"q": "python", "price": "paid", "min_price": "5", "max_price": "50.5",
            "min_rating": "4", "category": "development", "level": "advanced", "language": "en",
            "sort": "rating", "creator": str(shelf["paid"].creator_id)}
    body = text(client.get("/courses/", query_string=args))
    assert "1 course for “python”" in heading(body)
    assert form_state(body) == args  # the form submits exactly this state again
    chips = hrefs(body, r'<a class="chip" href="([^"]*)"')
    assert len(chips) == len(args) - 1  # every filter but the sort can be removed
    for link in chips:
        kept = args_of(link)
        assert len(kept) == len(args) - 1 and all(args[key] == kept[key] for key in kept)
    for fragment in (True, False):  # the HTMX swap shows the same results for the same URL
        again = text(client.get("/courses/", query_string=args, headers=HX if fragment else {}))
        assert heading(again) == heading(body)


def test_pager_links_keep_every_filter(client, creator, reviewer):
    for n in range(21):
        publish(creator, reviewer, title=f"Knitting {n}", level="beginner", price="9.99")
    args = {"q": "knitting", "level": "beginner", "price": "paid", "sort": "price"}
    body = text(client.get("/courses/", query_string=args))
    assert "21 courses" in heading(body) and "Page 1 of 2" in body
    (next_link,) = hrefs(body, r'<a href="([^"]*)" rel="next"')
    assert args_of(next_link) == {**args, "page": "2"}
    second = text(client.get(next_link, headers=HX))
    assert "Page 2 of 2" in second and second.count('<article class="course-card">') == 1
    (prev_link,) = hrefs(second, r'<a href="([^"]*)" rel="prev"')
    assert args_of(prev_link) == args


def test_a_typo_shows_the_corrected_search(client, shelf):
    refresh_search_terms()
    body = text(client.get("/courses/", query_string={"q": "sourdugh"}))
    assert "No course matched “sourdugh”, so we show results for" in body
    assert "<strong>“sourdough”</strong>" in body and "Sourdough Basics" in body


# --- the course page ------------------------------------------------------------------------

def json_ld(body: str) -> dict:
    match = re.search(r'<script type="application/ld\+json">(.*?)</script>', body, re.S)
    assert match, "no JSON-LD"
    return json.loads(match.group(1))


def test_the_course_page_has_course_json_ld_and_open_graph_tags(client, shelf):
    paid = shelf["paid"]
    resp = client.get(f"/courses/{paid.slug}")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "<html" in body
    data = json_ld(body)
    assert data["@context"] == "https://schema.org" and data["@type"] == "Course"
    assert data["name"] == "Python for Data Analysis"
    assert data["url"].endswith(f"/courses/{paid.slug}")
    assert data["offers"] == {"@type": "Offer", "category": "Paid", "price": "19.99",
                              "priceCurrency": paid.currency}
    assert data["aggregateRating"]["ratingValue"] == "4.5"
    assert data["aggregateRating"]["ratingCount"] == 2
    assert '<meta property="og:title" content="Python for Data Analysis">' in body
    cover_url = f"http://localhost/courses/covers/{paid.cover.storage_key}"
    assert f'<meta property="og:image" content="{cover_url}">' in body


def test_a_title_cannot_break_out_of_the_json_ld_or_the_meta_tags(client, creator, reviewer):
    title = 'Escapes </script><script>alert(1)</script> & "quotes"'
    course = publish(creator, reviewer, title=title)
    body = client.get(f"/courses/{course.slug}").get_data(as_text=True)
    assert json_ld(body)["name"] == title
    assert "<script>alert(1)" not in body
    assert ('<meta property="og:title" content="Escapes &lt;/script&gt;&lt;script&gt;alert(1)'
            '&lt;/script&gt; &amp; &#34;quotes&#34;">') in body


def test_the_course_page_lists_the_syllabus_the_creator_and_learners_also_took(
        client, shelf, make_user):
    paid, bread = shelf["paid"], shelf["bread"]
    for learner in (make_user(password=None), make_user(password=None)):
        enroll(learner, shelf["free"])
        enroll(learner, bread)
    db.session.commit()
    refresh_affinity()
    db.session.commit()
    body = text(client.get(f"/courses/{shelf['free'].slug}"))
    assert "Getting started" in body and "Wrapping up" in body
    assert "Your teacher" in body and "3 courses" in body
    also = body[body.index("Learners who took this course also took"):]
    assert "Sourdough Basics" in also and paid.title not in also


def test_reviews_page_through_an_htmx_fragment(client, creator, reviewer, make_user):
    course = publish(creator, reviewer, title="Knitting Basics")
    raters = [make_user(password=None, display_name=f"Rater {n:02}") for n in range(11)]
    start = utcnow() - timedelta(days=20)
    for n, rater in enumerate(raters):
        enroll(rater, course, now=start - timedelta(days=1))
        write_review(rater, course, rating=4 + n % 2, body=f"Review number {n:02}",
                     now=start + timedelta(hours=n))
    db.session.commit()
    first = text(client.get(f"/courses/{course.slug}"))
    assert "<html" in first and "Page 1 of 2" in first
    assert "Review number 10" in first and "Review number 00" not in first
    assert first.count('<article class="review"') == 10
    assert "completed 0% of the course when writing" in first
    (older,) = hrefs(first, r'hx-get="(/courses/[^"]*reviews=2)"')
    fragment = text(client.get(older, headers=HX))
    assert "<html" not in fragment and "Page 2 of 2" in fragment
    assert fragment.count('<article class="review"') == 1 and "Review number 00" in fragment
    assert "Newer reviews" in fragment and "About this course" not in fragment


@pytest.mark.parametrize("reviews", ["-3", "abc", "999999", "9" * 30])
def test_a_bad_reviews_page_still_gives_the_course_page(client, shelf, reviews):
    resp = client.get(f"/courses/{shelf['paid'].slug}", query_string={"reviews": reviews})
    assert resp.status_code == 200 and b"Python for Data Analysis" in resp.data


def test_drafts_and_unpublished_course_pages_are_not_public(client, creator, reviewer):
    draft = draft_course(creator, title="Secret Draft")
    gone = publish(creator, reviewer, title="Gone Course")
    publishing.unpublish_course(creator, gone)
    db.session.commit()
    assert client.get(f"/courses/{draft.slug}").status_code == 404
    assert client.get(f"/courses/{gone.slug}").status_code == 404
