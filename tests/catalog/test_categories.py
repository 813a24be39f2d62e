import pytest

from app.catalog import categories as service
from app.catalog.courses import create_course
from app.catalog.models import Category
from app.catalog.queries import categories
from app.errors import Conflict, Invalid, NotAllowed
from app.moderation.models import AuditLog


@pytest.fixture
def curator(make_user):
    return make_user(permissions=("review_courses",))


def test_the_migration_seeds_a_category_list(db):
    names = [c.name for c in categories()]
    assert "Development" in names and len(names) >= 10


def test_a_curator_adds_a_category_and_it_is_audited(db, curator):
    category = service.add_category(curator, name="  Cooking   & Food ", ip="10.0.0.1")
    db.session.commit()
    assert category.name == "Cooking & Food"
    assert category.slug == "cooking-food"
    entry = db.session.query(AuditLog).filter_by(action="category.added").one()
    assert entry.actor_id == curator.id and entry.ip == "10.0.0.1"


@pytest.mark.parametrize("name", ["", "   ", "x" * 61, "development"])
def test_bad_or_duplicate_names_are_refused(db, curator, name):
    with pytest.raises(Invalid):
        service.add_category(curator, name=name)


def test_renaming_keeps_the_slug_unique(db, curator):
    first = service.add_category(curator, name="Gardening")
    second = service.add_category(curator, name="Gardening Tools")
    service.rename_category(curator, second, name="Gardening!")
    assert second.slug != first.slug


def test_a_category_in_use_cannot_be_deleted(db, curator, creator):
    category = service.add_category(curator, name="Knitting")
    create_course(creator, title="Socks", category_id=category.id, accept_terms=True)
    with pytest.raises(Conflict):
        service.delete_category(curator, category)


def test_an_unused_category_is_deleted(db, curator):
    category = service.add_category(curator, name="Origami")
    service.delete_category(curator, category)
    db.session.flush()
    assert db.session.get(Category, category.id) is None


def test_people_without_review_courses_cannot_touch_categories(db, creator, make_user):
    moderator = make_user(permissions=("moderate",))
    for actor in (creator, moderator):
        with pytest.raises(NotAllowed):
            service.add_category(actor, name="Nope")
