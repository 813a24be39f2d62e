from app.errors import Conflict, Invalid, NotAllowed, TooFast
from app.formatting import format_date


class EmailTaken(Conflict):
    def __init__(self):
        super().__init__("An account with this e-mail already exists.", field="email")


class WeakPassword(Invalid):
    pass


class InvalidCredentials(Invalid):
    def __init__(self):
        # One message for unknown e-mail and wrong password: no account enumeration.
        super().__init__("Wrong e-mail or password.")


class AccountSuspended(NotAllowed):
    def __init__(self, reason: str, until=None):
        super().__init__()
        suffix = f" until {format_date(until)}" if until else ""
        self.message = f"Your account is suspended{suffix}: {reason}"
        self.args = (self.message,)


class BadToken(Invalid):
    def __init__(self):
        super().__init__("This link is invalid or has expired. Ask for a new one.")


class LoginThrottled(TooFast):
    def __init__(self, *, minutes: int, retry_after: int):
        unit = "minute" if minutes == 1 else "minutes"
        super().__init__(f"Too many attempts for this account; try again in {minutes} {unit}.",
                         retry_after=retry_after)
