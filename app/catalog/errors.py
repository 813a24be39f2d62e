from app.errors import Conflict, Invalid


class CourseLocked(Conflict):
    def __init__(self):
        super().__init__("This course is under review, so it cannot be changed now. "
                         "Withdraw it from review to edit it.")


class IllegalTransition(Conflict):
    pass


class ChecklistFailed(Invalid):
    def __init__(self, failures):
        super().__init__("The course is not ready for review yet: "
                         + "; ".join(item.message for item in failures))
        self.failures = failures
