from flask import abort, render_template

from app.accounts.queries import get_user
from app.blueprints.creators import bp
from app.discovery.queries import creator_summary
from app.discovery.search import CatalogQuery, search_courses


@bp.get("/<int(max=2147483647):creator_id>")  # past a 32-bit id the database would raise
def creator_detail(creator_id: int):
    """A creator's public page: bio, published courses, learners, average rating."""
    creator = get_user(creator_id)
    if creator is None:
        abort(404)
    results = search_courses(CatalogQuery(creator=creator.id, sort="rating"), per_page=50,
                             with_facets=False)
    if not results.cards and creator.is_suspended():
        abort(404)
    return render_template("creators/detail.html", creator=creator, results=results,
                           summary=creator_summary(creator.id))
