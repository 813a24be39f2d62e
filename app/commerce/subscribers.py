"""Commerce's reactions to other domains' events."""
from __future__ import annotations

from app.commerce import escrow
from app.events import subscribe
from app.extensions import db
from app.learning.events import CourseCompleted
from app.learning.models import Enrollment


@subscribe(CourseCompleted)
def release_escrow_on_completion(event: CourseCompleted) -> None:
    enrollment = db.session.get(Enrollment, event.enrollment_id)
    if enrollment is not None:
        escrow.release_for_completion(enrollment)
