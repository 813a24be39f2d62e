"""Commerce's reactions to other domains' events."""
from __future__ import annotations

from app.commerce import escrow
from app.events import subscribe
from app.extensions import db
from app.learning.models import Enrollment


@subscribe("learning.course.completed")
def release_escrow_on_completion(enrollment_id: int) -> None:
    enrollment = db.session.get(Enrollment, enrollment_id)
    if enrollment is not None:
        escrow.release_for_completion(enrollment)
