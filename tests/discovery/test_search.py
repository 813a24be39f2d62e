"""Full-text search: relevance, the index kept up to date by the database, prefixes, typos,
negated words and who may appear at all. The same tests run on SQLite FTS5 and PostgreSQL."""
from __future__ import annotations

from datetime import timedelta

from app.catalog import categories, courses, publishing, structure
from app.dbtypes import utcnow
from app.discovery.search import CatalogQuery, refresh_search_terms, search_courses
from app.extensions import db
from app.moderation.suspensions import suspend_user, unsuspend_user
from tests.support.search import draft_course, ids


def search(q: str, **filters):
    return search_courses(CatalogQuery(q=q, **filters))


def test_a_title_match_ranks_above_a_description_only_match(publish):
    in_description = publish(title="Evening Sketching", description="We also touch on gouache.")
    in_title = publish(title="Gouache for Everyone")
    results = search("gouache")
    assert ids(results) == [in_title.id, in_description.id]
    assert results.total == 2


def test_a_subtitle_match_ranks_above_a_description_match(publish):
    in_description = publish(title="Evening Sketching", description="Ends with a mandala.")
    in_subtitle = publish(title="Patterns at Home", subtitle="Draw a mandala in ten steps")
    assert ids(search("mandala")) == [in_subtitle.id, in_description.id]


def test_a_category_match_ranks_above_a_description_match(publish):
    in_description = publish(title="Evening Sketching", category_slug="design",
                              description="Later, photography of your drawings.")
    in_category = publish(title="Light and Shadow", category_slug="photography-video")
    assert ids(search("photography")) == [in_category.id, in_description.id]


def test_a_title_match_ranks_above_a_lesson_title_match(publish):
    in_lesson = publish(title="Evening Sketching", lessons=("Setup", "Calligraphy basics", "Next"))
    in_title = publish(title="Calligraphy Studio")
    assert ids(search("calligraphy")) == [in_title.id, in_lesson.id]


def test_lesson_titles_are_searchable_and_a_renamed_lesson_is_found_by_its_new_title(publish, creator):
    course = publish(title="Evening Sketching", lessons=("Setup", "Charcoal portraits", "Next"))
    assert ids(search("charcoal")) == [course.id]
    lesson = course.lessons[1]
    structure.update_lesson(creator, lesson, title="Ink portraits")
    db.session.commit()
    assert ids(search("charcoal")) == []
    assert ids(search("ink portraits")) == [course.id]


def test_a_lesson_added_or_deleted_after_publishing_updates_the_index(publish, creator):
    course = publish(title="Evening Sketching")
    lesson = structure.add_lesson(creator, course.sections[0], title="Pastel landscapes", kind="text")
    db.session.commit()
    assert ids(search("pastel")) == [course.id]
    structure.delete_lesson(creator, lesson)
    db.session.commit()
    assert ids(search("pastel")) == []


def test_editing_the_title_updates_the_index(publish, creator):
    course = publish(title="Sourdough Basics")
    courses.update_course_field(creator, course, "title", "Focaccia Basics")
    db.session.commit()
    assert ids(search("sourdough")) == []
    assert ids(search("focaccia")) == [course.id]


def test_renaming_a_category_updates_the_index(publish, reviewer):
    course = publish(title="Light and Shadow", category_slug="photography-video")
    other = publish(title="Sourdough Basics", category_slug="business")
    category = course.category
    categories.rename_category(reviewer, category, name="Cinematography")
    db.session.commit()
    assert ids(search("cinematography")) == [course.id]
    assert ids(search("photography")) == []
    assert other.id not in ids(search("cinematography"))


def test_a_prefix_finds_the_course(publish):
    course = publish(title="Python for Data Analysis")
    bread = publish(title="Sourdough Basics")
    assert ids(search("pyth")) == [course.id]
    assert ids(search("sourd")) == [bread.id]


def test_stop_words_are_not_required_on_either_backend(publish):
    course = publish(title="Python: Data Analysis")
    assert ids(search("the python for analysis")) == [course.id]
    assert ids(search("python -the")) == [course.id]


def test_a_prefix_the_stemmer_changes_finds_the_words_it_starts(publish):
    """"analy" stems to "anali" while "analysis" stems to "analysi": the prefix is expanded
    through the vocabulary to the known words it starts."""
    course = publish(title="Python for Data Analysis")
    publish(title="Sourdough Basics")
    refresh_search_terms()
    assert ids(search("analy")) == [course.id]
    assert ids(search("pyth analy")) == [course.id]


def test_every_word_must_match(publish):
    both = publish(title="Python Guitar Tabs")
    publish(title="Python for Data Analysis")
    publish(title="Guitar Chords")
    assert ids(search("python guitar")) == [both.id]


def test_a_typo_finds_the_course_through_the_vocabulary(publish):
    course = publish(title="Python for Data Analysis")
    publish(title="Sourdough Basics")
    before = search("pyhton")
    assert before.total == 0 and before.corrected_q is None  # the vocabulary is still empty
    refresh_search_terms()
    results = search("pyhton")
    assert ids(results) == [course.id]
    assert results.corrected_q == "python"
    assert search("sourdugh").corrected_q == "sourdough"


def test_a_correct_word_is_not_corrected(publish):
    publish(title="Python for Data Analysis")
    refresh_search_terms()
    results = search("python")
    assert results.total == 1 and results.corrected_q is None


def test_negated_words_exclude_courses(publish):
    advanced = publish(title="Python for Data Analysis")
    beginners = publish(title="Python for Beginners")
    other = publish(title="Sourdough for Beginners")
    assert ids(search("python -beginners")) == [advanced.id]
    assert set(ids(search("python"))) == {advanced.id, beginners.id}
    assert set(ids(search("-beginners"))) == {advanced.id}
    assert other.id not in ids(search("-beginners"))


def test_a_suspended_creators_course_never_shows_and_returns_after_unsuspension(
        publish, make_user, user_admin):
    maker = make_user(display_name="Sam Suspended", password=None)
    hidden = publish(title="Python Tricks", by=maker)
    shown = publish(title="Python for Data Analysis")
    suspend_user(user_admin, maker, reason="spam")
    db.session.commit()
    refresh_search_terms()
    assert ids(search("python")) == [shown.id]
    assert hidden.id not in ids(search_courses(CatalogQuery()))
    assert hidden.id not in ids(search_courses(CatalogQuery(creator=maker.id)))
    assert search("tricks").total == 0 and search("trics").corrected_q is None
    unsuspend_user(user_admin, maker)
    db.session.commit()
    assert set(ids(search("python"))) == {hidden.id, shown.id}


def test_a_suspension_that_has_ended_no_longer_hides_the_courses(publish, make_user, user_admin):
    maker = make_user(display_name="Sam Suspended", password=None)
    course = publish(title="Python Tricks", by=maker)
    week_ago = utcnow() - timedelta(days=7)
    suspend_user(user_admin, maker, reason="spam", until=week_ago + timedelta(days=1), now=week_ago)
    db.session.commit()
    assert ids(search("python")) == [course.id]


def test_drafts_courses_under_review_and_unpublished_courses_never_show(publish, creator, reviewer):
    draft = draft_course(creator, title="Python Draft")
    waiting = draft_course(creator, title="Python Waiting")
    publishing.submit_for_review(creator, waiting)
    gone = publish(title="Python Gone")
    publishing.unpublish_course(creator, gone)
    live = publish(title="Python Live")
    db.session.commit()
    refresh_search_terms()
    for results in (search("python"), search_courses(CatalogQuery()),
                    search_courses(CatalogQuery(creator=creator.id))):
        assert ids(results) == [live.id]
    assert search("draft").total == 0 and search("waiting").total == 0
    assert search("gone").total == 0
    assert draft.status == "draft" and waiting.status == "under_review"
