"""The one mail service. Messages are rendered now and delivered by an RQ job (queue
`low`) after commit: over SMTP when MAIL_SERVER is set, otherwise written as .eml files
under instance/mail/ and logged, so the embedded default needs no mail server."""
from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path

from flask import current_app

from app.dbtypes import utcnow
from app.tasks import enqueue

log = logging.getLogger(__name__)


def send_mail(to: str, subject: str, template: str, **context) -> None:
    """Render `templates/mail/<template>.txt` and queue it for delivery after commit."""
    # The template environment without the page context processors: those read the request
    # (the current path, the signed-in user), and mail is also sent from jobs and the CLI.
    body = current_app.jinja_env.get_template(f"mail/{template}.txt").render(**context)
    message = {"to": to, "subject": subject, "body": body,
               "sender": current_app.config["MAIL_DEFAULT_SENDER"]}
    enqueue("app.jobs.mail.deliver_mail", message, queue="low")


def build(message: dict) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = message["sender"]
    msg["To"] = message["to"]
    msg["Subject"] = message["subject"]
    msg.set_content(message["body"])
    return msg


def deliver(message: dict) -> None:
    cfg = current_app.config
    msg = build(message)
    if cfg["MAIL_SERVER"]:
        with smtplib.SMTP(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=30) as smtp:
            if cfg["MAIL_USE_TLS"]:
                smtp.starttls(context=ssl.create_default_context())
            if cfg["MAIL_USERNAME"]:
                smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"] or "")
            smtp.send_message(msg)
        return
    outbox = Path(cfg["MAIL_DIR"])
    outbox.mkdir(parents=True, exist_ok=True)
    stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
    safe_to = "".join(c if c.isalnum() or c in "@.-_" else "_" for c in message["to"])
    path = outbox / f"{stamp}-{safe_to}.eml"
    path.write_bytes(bytes(msg))
    log.info("mail to %s (%s) written to %s", message["to"], message["subject"], path)
