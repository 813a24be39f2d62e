"""The signed-in home: my learning (progress, continue), my teaching (learners, open
questions) and recent notifications."""
from __future__ import annotations

import re

from app.extensions import db
from app.learning import discussions, progress
from app.messaging.notifications import notify
from tests.support.pages import text
from tests.support.player import complete, enroll, learning_course, lesson, revoked


def test_the_dashboard_needs_an_account(client):
    resp = client.get("/dashboard/")
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith("/auth/login")


def test_an_empty_dashboard(client, login, make_user):
    login(make_user(display_name="Nina New"))
    resp = client.get("/dashboard/")
    assert resp.status_code == 200
    body = text(resp)
    assert "<html" in body and "Hello, Nina New" in body
    assert "You are not enrolled in any course yet." in body
    assert "You have not created a course yet." in body
    assert "Nothing new." in body


def test_my_learning_shows_progress_and_continue_links(client, login, learner, creator, reviewer):
    started = learning_course(creator, reviewer, title="Started Course")
    finished = learning_course(creator, reviewer, title="Finished Course")
    dropped = learning_course(creator, reviewer, title="Dropped Course")
    enroll(learner, started)
    progress.complete_lesson(learner, lesson(started, "Welcome video"))
    progress.complete_lesson(learner, lesson(started, "Course notes"))
    db.session.commit()
    complete(learner, finished)
    revoked(learner, dropped)
    login(learner)
    body = text(client.get("/dashboard/"))
    assert re.search(r'<progress value="40" max="100" aria-label="Progress in Started Course">40%</progress>', body)
    assert "40% complete" in body
    assert f'href="/learn/{started.id}" role="button" class="small-button">Continue' in body
    assert re.search(r'aria-label="Progress in Finished Course">100%</progress>', body)
    assert "100% complete · finished" in body
    assert re.search(r'href="/certificates/[\w-]+">Certificate</a>', body)
    assert "Review the course" in body
    assert "Dropped Course" not in body


def test_continue_takes_the_learner_back_to_their_lesson(client, login, learner, creator, reviewer):
    course = learning_course(creator, reviewer)
    enroll(learner, course)
    login(learner)
    client.get(f"/learn/{course.id}/lessons/{lesson(course, 'The first principle').id}")
    resp = client.get(f"/learn/{course.id}")
    assert resp.headers["Location"] == f"/learn/{course.id}/lessons/{lesson(course, 'The first principle').id}"


def test_my_teaching_shows_learners_and_open_questions(client, login, learner, creator, reviewer,
                                                       make_user):
    course = learning_course(creator, reviewer, title="Taught Course")
    learning_course(creator, reviewer, title="Draft Course", status="draft")
    classmate = make_user()
    for user in (learner, classmate):
        enroll(user, course)
    gone = make_user()
    revoked(gone, course)
    discussions.start_thread(learner, course, title="Open one", body="?")
    answered = discussions.start_thread(classmate, course, title="Answered one", body="?")
    discussions.mark_answer(creator, answered, discussions.reply(creator, answered, body="Yes."))
    discussions.start_thread(classmate, course, title="Another open one", body="?")
    db.session.commit()
    login(creator)
    body = text(client.get("/dashboard/"))
    row = re.search(rf'<td><a href="/studio/courses/{course.id}[^"]*">Taught Course</a></td>(.*?)</tr>',
                    body, re.DOTALL)
    assert row, body
    cells = re.findall(r"<td>(.*?)</td>", row.group(1), re.DOTALL)
    assert cells[1].strip() == "2"  # learners: the revoked one does not count
    assert f'href="/learn/{course.id}/discussions">2</a>' in cells[2]
    draft_row = re.search(r'>Draft Course</a></td>(.*?)</tr>', body, re.DOTALL)
    assert draft_row
    assert [c.strip() for c in re.findall(r"<td>(.*?)</td>", draft_row.group(1), re.DOTALL)][1:] == ["0", "0"]


def test_recent_notifications_are_listed(client, login, learner, creator, reviewer):
    course = learning_course(creator, reviewer, title="Noisy Course")
    enroll(learner, course)
    thread = discussions.start_thread(learner, course, title="Help please", body="?")
    discussions.reply(creator, thread, body="Here you go.")
    for n in range(6):
        notify(learner, "welcome", name=f"friend {n}")
    db.session.commit()
    login(learner)
    body = text(client.get("/dashboard/"))
    section = body[body.index('id="recent-h"'):]
    assert section.count('class="notification unread"') == 5  # the five newest
    assert "Welcome to Lyceum, friend 5!" in section
    assert "Carl Creator replied to your question “Help please”." not in section  # older than five
    assert 'href="/notifications/">All notifications</a>' in section
    login(creator)
    teacher = text(client.get("/dashboard/"))
    assert "Lena Learner asked “Help please” in “Noisy Course”." in teacher
    assert f'href="/learn/{course.id}/discussions/{thread.id}"' in teacher
