from flask import render_template

from app.blueprints.creators import bp
from app.discovery.queries import creator_summary, public_creator


@bp.get("/<int(max=2147483647):creator_id>")  # past a 32-bit id the database would raise
def creator_detail(creator_id: int):
    """A creator's public page: bio, published courses, learners, average rating."""
    creator, results = public_creator(creator_id)
    return render_template("creators/detail.html", creator=creator, results=results,
                           summary=creator_summary(creator.id))
