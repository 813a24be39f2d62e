from app.errors import Conflict, DomainError


class BadSignature(DomainError):
    status = 400
    title = "Bad signature"


class EventNotReady(Exception):
    """The event refers to something that has not arrived yet (e.g. a refund before the
    completed checkout): it is parked and applied again later."""


class RefundWindowClosed(Conflict):
    pass
