from app.errors import Conflict, DomainError


class BadSignature(DomainError):
    status = 400
    title = "Bad signature"


class PaymentNotConfirmed(Conflict):
    """The provider does not confirm that a checkout an event reports as paid was paid, for
    this order, in full: nothing is fulfilled and the event shows in the admin's failed list."""


class EventNotReady(Exception):
    """The event refers to something that has not arrived yet (e.g. a refund before the
    completed checkout): it is parked and applied again later."""


class RefundWindowClosed(Conflict):
    pass
