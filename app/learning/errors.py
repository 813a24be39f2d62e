from app.errors import Conflict


class NotEnrolled(Conflict):
    status = 403
    title = "Not enrolled"

    def __init__(self):
        super().__init__("Enroll in this course to continue.")
