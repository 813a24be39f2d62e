"""A course's discussion board over HTTP: threads, replies, edits, votes, answers, reports,
every forbidden path by URL and by htmx, and hostile Markdown rendered inert."""
from __future__ import annotations

from datetime import timedelta
from html.parser import HTMLParser

import pytest

from app.dbtypes import utcnow
from app.extensions import db
from app.learning import discussions
from app.learning.models import Post, PostVote, Thread
from app.messaging.models import Notification
from app.moderation.models import Report
from tests.support.pages import text
from tests.support.player import ask_question, enroll, learning_course, lesson, reply_as, revoked
from tests.support.rows import count, fresh


@pytest.fixture
def course(creator, reviewer):
    return learning_course(creator, reviewer)


@pytest.fixture
def thread(course, learner):
    """Lena's question on the course, enrolled."""
    return ask_question(learner, course)


def board(course) -> str:
    return f"/learn/{course.id}/discussions"


def thread_url(thread) -> str:
    return f"/learn/{thread.course_id}/discussions/{thread.id}"


# --- listing and asking ------------------------------------------------------------------------

def test_the_board_lists_questions(client, login, learner, thread, course):
    login(learner)
    resp = client.get(board(course))
    assert resp.status_code == 200
    body = text(resp)
    assert "<html" in body
    assert f'href="{thread_url(thread)}">How small is small?</a>' in body
    assert "Lena Learner" in body and "0 replies" in body
    assert "Ask a question" in body


def test_the_board_by_htmx_is_the_list_only(htmx, login, learner, thread, course):
    login(learner)
    resp = htmx.get(board(course))
    body = text(resp)
    assert resp.status_code == 200
    assert "<html" not in body
    assert "How small is small?" in body
    assert 'class="thread-list"' in body
    assert "Ask a question" not in body


def test_the_board_filters_by_lesson(client, login, learner, course, thread):
    notes = lesson(course, "Course notes")
    discussions.start_thread(learner, course, title="About the notes", body="Page two?",
                             lesson_id=notes.id)
    db.session.commit()
    login(learner)
    body = text(client.get(board(course) + f"?lesson={notes.id}"))
    assert "About the notes" in body and "How small is small?" not in body
    assert "asked on “Course notes”" in body
    for junk in ("abc", "-1", "99999999999999999999"):
        resp = client.get(board(course) + f"?lesson={junk}")
        assert resp.status_code == 200
        assert "About the notes" in text(resp) and "How small is small?" in text(resp)


@pytest.mark.parametrize("page", ["0", "-3", "abc", "99999", "99999999999999999999"])
def test_a_bad_page_number_is_not_an_error(client, login, learner, thread, course, page):
    login(learner)
    resp = client.get(board(course) + f"?page={page}")
    assert resp.status_code == 200


def test_asking_a_question(client, login, learner, course, creator):
    enroll(learner, course)
    notes = lesson(course, "Course notes")
    login(learner)
    resp = client.post(board(course), data={"title": "  Where   is page 3? ", "body": "It seems **missing**.",
                                            "lesson_id": str(notes.id)})
    assert resp.status_code == 302
    asked = db.session.query(Thread).filter_by(course_id=course.id).one()
    assert resp.headers["Location"] == thread_url(asked)
    page = text(client.get(resp.headers["Location"]))
    assert "<h1>Where is page 3?</h1>" in page
    assert "It seems <strong>missing</strong>." in page
    assert "Asked on “Course notes”" in page
    assert count(Notification, Notification.user_id == creator.id,
                 Notification.kind == "discussion.question") == 1


@pytest.mark.parametrize("form, error_id, message", [
    ({"title": "", "body": "Body kept"}, "thread-title-error", "Give your question a title."),
    ({"title": "T" * 201, "body": "Body kept"}, "thread-title-error", "Keep the title under 200 characters."),
    ({"title": "A title", "body": "   "}, "thread-body-error", "Write something first."),
    ({"title": "A title", "body": "Body kept", "lesson_id": "999999"}, "thread-lesson-error",
     "That lesson is not part of this course."),
    ({"title": "A title", "body": "Body kept", "lesson_id": "abc"}, "thread-lesson-error",
     "That lesson is not part of this course."),
    ({"title": "A title", "body": "Body kept", "lesson_id": "9" * 30}, "thread-lesson-error",
     "That lesson is not part of this course."),
])
def test_a_bad_question_is_refused_and_kept(client, htmx, login, learner, course, form, error_id, message):
    enroll(learner, course)
    login(learner)
    resp = client.post(board(course), data=form)
    assert resp.status_code == 422
    body = text(resp)
    assert f'<small id="{error_id}" class="field-error">{message}</small>' in body
    assert f'value="{form["title"]}"' in body  # what was typed comes back
    assert f'>{form["body"]}</textarea>' in body
    fragment = htmx.post(board(course), data=form)
    assert fragment.status_code == 422
    assert message in text(fragment) and "<html" not in fragment.get_data(as_text=True)
    assert count(Thread) == 0


def test_a_question_about_another_courses_lesson_is_refused(client, login, learner, course, creator,
                                                           reviewer):
    other = learning_course(creator, reviewer, title="Elsewhere")
    enroll(learner, course)
    login(learner)
    resp = client.post(board(course), data={"title": "Hm", "body": "Hm",
                                            "lesson_id": str(lesson(other, "Course notes").id)})
    assert resp.status_code == 422
    assert count(Thread) == 0


# --- who may take part ---------------------------------------------------------------------

def test_non_members_are_kept_out_by_url_and_htmx(client, htmx, login, stranger, thread, course):
    first = thread.posts[0]
    login(stranger)
    gets = [board(course), thread_url(thread)]
    posts = [(board(course), {"title": "Sneaky", "body": "Hi"}),
             (f"/learn/discussions/{thread.id}/replies", {"body": "Sneaky"}),
             (f"/learn/posts/{first.id}/edit", {"body": "Sneaky"}),
             (f"/learn/posts/{first.id}/delete", {}),
             (f"/learn/posts/{first.id}/vote", {}),
             (f"/learn/posts/{first.id}/answer", {}),
             (f"/learn/posts/{first.id}/report", {"reason": "spam"})]
    for url in gets:
        assert client.get(url).status_code == 403, url
        fragment = htmx.get(url)
        assert fragment.status_code == 403, url
        assert "<html" not in fragment.get_data(as_text=True)
    for url, data in posts:
        assert client.post(url, data=data).status_code == 403, url
        assert htmx.post(url, data=data).status_code == 403, url
    assert count(Post) == 1 and count(PostVote) == 0 and count(Report) == 0
    assert fresh(Post, first.id).body == "What counts as a *tiny* goal?"


def test_a_revoked_learner_is_out_of_the_discussion(client, login, learner, thread, course):
    revoked(learner, course)
    login(learner)
    assert client.get(board(course)).status_code == 403
    assert client.get(thread_url(thread)).status_code == 403


def test_signing_in_is_needed(client, htmx, thread, course):
    resp = client.get(board(course))
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/auth/login")
    assert htmx.get(thread_url(thread)).status_code == 401
    assert client.post(f"/learn/discussions/{thread.id}/replies", data={"body": "x"}).status_code == 302
    assert count(Post) == 1


def test_the_creator_and_moderators_take_part(client, login, creator, moderator, thread, course):
    for user in (creator, moderator):
        login(user)
        assert client.get(board(course)).status_code == 200
        assert client.get(thread_url(thread)).status_code == 200


def test_a_thread_under_another_course_is_404(client, login, learner, thread, creator, reviewer):
    other = learning_course(creator, reviewer, title="Elsewhere")
    enroll(learner, other)
    login(learner)
    assert client.get(f"/learn/{other.id}/discussions/{thread.id}").status_code == 404
    assert client.get(f"/learn/{thread.course_id}/discussions/999999").status_code == 404


# --- thread, replies -----------------------------------------------------------------------

def test_the_thread_page_and_fragment(client, htmx, login, learner, thread):
    login(learner)
    resp = client.get(thread_url(thread))
    assert resp.status_code == 200
    body = text(resp)
    assert "<html" in body and "<h1>How small is small?</h1>" in body
    assert "What counts as a <em>tiny</em> goal?" in body
    fragment = htmx.get(thread_url(thread))
    assert fragment.status_code == 200
    assert "<html" not in fragment.get_data(as_text=True)
    assert "<h1>How small is small?</h1>" in text(fragment)
    assert "All questions in" not in text(fragment)  # the link sits outside the #thread block


def test_replying_notifies_the_asker(client, login, learner, classmate, thread, course):
    enroll(classmate, course)
    login(classmate)
    resp = client.post(f"/learn/discussions/{thread.id}/replies", data={"body": "As small as *one* step."})
    assert resp.status_code == 302
    assert resp.headers["Location"] == thread_url(thread) + "#replies"
    body = text(client.get(thread_url(thread)))
    assert "As small as <em>one</em> step." in body and "Cleo Classmate" in body
    assert count(Notification, Notification.user_id == learner.id, Notification.kind == "discussion.reply") == 1


def test_replying_by_htmx_answers_with_the_thread(htmx, login, creator, thread):
    login(creator)
    resp = htmx.post(f"/learn/discussions/{thread.id}/replies", data={"body": "One step at a time."})
    assert resp.status_code == 200
    body = text(resp)
    assert "<html" not in body and "One step at a time." in body
    assert '<span class="tag">Creator</span>' in body


def test_an_empty_reply_is_refused(client, htmx, login, learner, thread):
    login(learner)
    resp = client.post(f"/learn/discussions/{thread.id}/replies", data={"body": "  "})
    assert resp.status_code == 422
    assert "Write something first." in text(resp)
    fragment = htmx.post(f"/learn/discussions/{thread.id}/replies", data={"body": ""})
    assert fragment.status_code == 422 and "<html" not in fragment.get_data(as_text=True)
    assert count(Post) == 1


def test_a_reply_that_is_too_long_keeps_the_text(client, login, learner, thread):
    login(learner)
    resp = client.post(f"/learn/discussions/{thread.id}/replies", data={"body": "x" * 20_001})
    assert resp.status_code == 422
    assert "Keep it under 20,000 characters." in text(resp)
    assert "x" * 20_001 in text(resp)


# --- editing and deleting --------------------------------------------------------------------

def test_editing_an_own_post_within_15_minutes(client, htmx, login, learner, thread):
    post = thread.posts[0]
    login(learner)
    resp = client.post(f"/learn/posts/{post.id}/edit", data={"body": "What is a *small* goal?"})
    assert resp.status_code == 302
    assert resp.headers["Location"] == thread_url(thread) + f"#post-{post.id}"
    assert fresh(Post, post.id).body == "What is a *small* goal?"
    assert "edited" in text(client.get(thread_url(thread)))
    fragment = htmx.post(f"/learn/posts/{post.id}/edit", data={"body": "Edited again"})
    assert fragment.status_code == 200 and "<html" not in fragment.get_data(as_text=True)
    assert "Edited again" in text(fragment)


def test_an_edit_to_nothing_is_refused_and_kept(client, login, learner, thread):
    post = thread.posts[0]
    login(learner)
    resp = client.post(f"/learn/posts/{post.id}/edit", data={"body": " "})
    assert resp.status_code == 422
    assert "Write something first." in text(resp)
    assert fresh(Post, post.id).body == "What counts as a *tiny* goal?"


def test_a_post_cannot_be_edited_after_15_minutes(client, login, learner, thread):
    post = thread.posts[0]
    post.created_at = utcnow() - timedelta(minutes=16)
    db.session.commit()
    login(learner)
    body = text(client.get(thread_url(thread)))
    assert "Edit (for 15 minutes after posting)" not in body
    resp = client.post(f"/learn/posts/{post.id}/edit", data={"body": "Too late"})
    assert resp.status_code == 403
    assert fresh(Post, post.id).body == "What counts as a *tiny* goal?"


def test_nobody_edits_someone_elses_post(client, htmx, login, creator, moderator, classmate, thread,
                                         course):
    post = thread.posts[0]
    enroll(classmate, course)
    for user in (classmate, creator, moderator):
        login(user)
        assert client.post(f"/learn/posts/{post.id}/edit", data={"body": "Hijack"}).status_code == 403
        assert htmx.post(f"/learn/posts/{post.id}/edit", data={"body": "Hijack"}).status_code == 403
    assert fresh(Post, post.id).body == "What counts as a *tiny* goal?"


def test_deleting_a_reply_leaves_a_tombstone(client, login, learner, creator, thread):
    answer = reply_as(creator, thread, "Delete me")
    login(creator)
    resp = client.post(f"/learn/posts/{answer.id}/delete")
    assert resp.status_code == 302
    body = text(client.get(thread_url(thread)))
    assert "This post was deleted." in body and "Delete me" not in body


def test_deleting_the_question_deletes_the_thread(client, htmx, login, learner, thread, course):
    login(learner)
    resp = client.post(f"/learn/posts/{thread.posts[0].id}/delete")
    assert resp.status_code == 302
    assert resp.headers["Location"] == board(course)
    assert fresh(Thread, thread.id).deleted_at is not None
    assert client.get(thread_url(thread)).status_code == 404
    assert "How small is small?" not in text(client.get(board(course)))


def test_deleting_the_question_by_htmx_navigates_to_the_board(htmx, login, learner, thread, course):
    login(learner)
    resp = htmx.post(f"/learn/posts/{thread.posts[0].id}/delete")
    assert resp.headers["HX-Redirect"] == board(course)
    assert "<html" not in resp.get_data(as_text=True)


def test_only_the_author_or_a_moderator_deletes(client, login, moderator, classmate, creator, thread,
                                                course):
    enroll(classmate, course)
    post = reply_as(classmate, thread, "Mine")
    login(creator)  # the course's creator is not a moderator
    assert client.post(f"/learn/posts/{post.id}/delete").status_code == 403
    login(moderator)
    assert client.post(f"/learn/posts/{post.id}/delete").status_code == 302
    assert fresh(Post, post.id).deleted_at is not None


# --- votes -----------------------------------------------------------------------------------

def test_a_learner_upvotes_and_takes_it_back(client, htmx, login, classmate, thread, course):
    enroll(classmate, course)
    post = thread.posts[0]
    login(classmate)
    resp = client.post(f"/learn/posts/{post.id}/vote")
    assert resp.status_code == 302
    assert fresh(Post, post.id).votes == 1
    assert "Upvoted" in text(client.get(thread_url(thread)))
    fragment = htmx.post(f"/learn/posts/{post.id}/vote")
    assert fragment.status_code == 200 and "<html" not in fragment.get_data(as_text=True)
    assert "0 upvotes" in text(fragment)
    assert fresh(Post, post.id).votes == 0


def test_nobody_upvotes_their_own_post(client, htmx, login, learner, thread):
    post = thread.posts[0]
    login(learner)
    assert client.post(f"/learn/posts/{post.id}/vote").status_code == 403
    assert htmx.post(f"/learn/posts/{post.id}/vote").status_code == 403
    assert fresh(Post, post.id).votes == 0 and count(PostVote) == 0


# --- answers ---------------------------------------------------------------------------------

def test_the_creator_marks_and_clears_the_answer(client, htmx, login, creator, thread, course):
    answer = reply_as(creator, thread, "Start with one step.")
    login(creator)
    resp = client.post(f"/learn/posts/{answer.id}/answer")
    assert resp.status_code == 302
    assert fresh(Thread, thread.id).answer_post_id == answer.id
    assert '<span class="tag tag-ok">Answer</span>' in text(client.get(thread_url(thread)))
    assert "Answered" in text(client.get(board(course)))
    fragment = htmx.post(f"/learn/posts/{answer.id}/answer", data={"clear": "1"})
    assert fragment.status_code == 200 and "<html" not in fragment.get_data(as_text=True)
    assert fresh(Thread, thread.id).answer_post_id is None


def test_only_the_creator_marks_an_answer(client, htmx, login, learner, classmate, moderator, thread,
                                          course):
    enroll(classmate, course)
    answer = reply_as(classmate, thread, "I think so.")
    for user in (learner, classmate, moderator):
        login(user)
        assert client.post(f"/learn/posts/{answer.id}/answer").status_code == 403
        assert htmx.post(f"/learn/posts/{answer.id}/answer").status_code == 403
    body = text(client.get(thread_url(thread)))
    assert "Mark as answer" not in body
    assert fresh(Thread, thread.id).answer_post_id is None


def test_the_question_itself_is_not_an_answer(client, login, creator, thread):
    login(creator)
    resp = client.post(f"/learn/posts/{thread.posts[0].id}/answer")
    assert resp.status_code == 422
    assert "Pick a reply in this thread." in text(resp)


# --- reports ---------------------------------------------------------------------------------

def test_reporting_a_post_stores_one_report(client, login, classmate, thread, course):
    enroll(classmate, course)
    post = thread.posts[0]
    login(classmate)
    resp = client.post(f"/learn/posts/{post.id}/report", data={"reason": "Off topic"})
    assert resp.status_code == 302
    assert "Thanks: the moderators will look at it." in text(client.get(resp.headers["Location"]))
    client.post(f"/learn/posts/{post.id}/report", data={"reason": "Off topic"})
    assert count(Report, Report.target_type == "discussion_post", Report.target_id == post.id) == 1


def test_a_report_needs_a_reason(client, htmx, login, classmate, thread, course):
    enroll(classmate, course)
    post = thread.posts[0]
    login(classmate)
    resp = client.post(f"/learn/posts/{post.id}/report", data={"reason": "  "})
    assert resp.status_code == 422
    assert "Tell the moderators what is wrong." in text(resp)
    fragment = htmx.post(f"/learn/posts/{post.id}/report", data={"reason": ""})
    assert fragment.status_code == 422 and "<html" not in fragment.get_data(as_text=True)
    assert count(Report) == 0


def test_unknown_posts_and_threads_are_404(client, login, learner, thread):
    login(learner)
    for url in ("/learn/posts/999999/edit", "/learn/posts/999999/vote", "/learn/posts/999999/answer",
                "/learn/posts/999999/delete", "/learn/posts/999999/report",
                "/learn/discussions/999999/replies"):
        assert client.post(url, data={"body": "x", "reason": "x"}).status_code == 404, url


# --- hostile text ----------------------------------------------------------------------------

XSS = ("<script>alert('x')</script>\n\n[click](javascript:alert(1))\n\n"
       "<img src=x onerror=alert(2)>\n\n![pic](javascript:alert(3))\n\n"
       '<a href="javascript:alert(4)">raw</a>')


class _Tags(HTMLParser):
    """Every real element and attribute of a page, and any text inside <script>."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.script_text = ""
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {name: value or "" for name, value in attrs}))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.script_text += data


def assert_inert(body: str) -> None:
    """No script of ours but the site's own files, no event-handler attribute, no
    javascript: URL, whatever the users wrote."""
    parser = _Tags()
    parser.feed(body)
    for tag, attrs in parser.tags:
        assert not [name for name in attrs if name.startswith("on")], (tag, attrs)
        for name in ("href", "src", "action", "formaction", "data"):
            assert not attrs.get(name, "").strip().lower().startswith("javascript:"), (tag, attrs)
        if tag == "script":
            assert attrs.get("src", "").startswith("/static/"), attrs
    assert parser.script_text.strip() == ""


def test_hostile_posts_are_rendered_inert(client, htmx, login, learner, course, creator):
    enroll(learner, course)
    login(learner)
    client.post(board(course), data={"title": "<script>alert('t')</script>", "body": XSS})
    asked = db.session.query(Thread).filter_by(course_id=course.id).one()
    client.post(f"/learn/discussions/{asked.id}/replies", data={"body": XSS})
    for resp in (client.get(thread_url(asked)), htmx.get(thread_url(asked)), client.get(board(course))):
        body = resp.get_data(as_text=True)
        assert resp.status_code == 200
        assert_inert(body)
        assert "&lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt;" in body
    login(creator)
    dashboard = client.get("/dashboard/")
    assert_inert(dashboard.get_data(as_text=True))


@pytest.mark.parametrize("html", ['<img src="x" onerror="alert(1)">', '<a href=" JavaScript:alert(1)">x</a>',
                                  "<script>alert(1)</script>", '<script src="https://evil.test/x.js"></script>'])
def test_the_inertness_check_catches_live_markup(html):
    with pytest.raises(AssertionError):
        assert_inert(f"<p>{html}</p>")
