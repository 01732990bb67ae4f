"""Notifications to in-house departments: in the console, by webhook (HMAC-signed JSON) and by e-mail.

Every message is a Delivery row first, committed with the event that caused it; senders then work through the
pending rows, retrying with growing pauses. A delivery that keeps failing ends as "failed" with its last error,
visible in the console: nothing is dropped silently.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import smtplib
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session, selectinload

from kb.errors import NotFound, ValidationFailed
from kb.models import Delivery, Department, Notifier, utcnow
from kb.storage import use_case

log = logging.getLogger(__name__)
KINDS = ("webhook", "email")
MAX_ATTEMPTS = 8
FIRST_RETRY_SECONDS = 30


@dataclass(frozen=True)
class SmtpSettings:
    host: str = ""
    port: int = 25
    sender: str = "vetted@localhost"
    username: str = ""
    password: str = ""
    starttls: bool = False


def signature(secret: str, body: bytes) -> str:
    """Return the value of the X-Vetted-Signature header for a webhook body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@use_case
def add_notifier(*, session: Session, department: str, kind: str, target: str, secret: str = "") -> Notifier:
    """Tell a department by webhook or e-mail from now on."""
    if kind not in KINDS:
        raise ValidationFailed(f"a notifier is one of {', '.join(KINDS)}")
    if kind == "webhook" and not target.startswith(("http://", "https://")):
        raise ValidationFailed("a webhook needs an http(s) address")
    if kind == "email" and "@" not in target:
        raise ValidationFailed("an e-mail notifier needs an address")
    dept = session.scalar(select(Department).where(Department.slug == department))
    if dept is None:
        raise NotFound(f"no department {department!r}")
    notifier = Notifier(department=dept, kind=kind, target=target.strip(), secret=secret)
    session.add(notifier)
    session.commit()
    return notifier


def list_notifiers(*, session: Session) -> list[Notifier]:
    """Return every notifier with its department."""
    return list(session.scalars(select(Notifier).options(selectinload(Notifier.department)).order_by(Notifier.id)))


def queue(session: Session, *, subject: str, payload: dict[str, Any], department_id: int | None = None,
          department_ids: list[int | None] | None = None) -> list[Delivery]:
    """Stage a message for the console and for the notifiers of every department concerned (the caller commits)."""
    deliveries = [Delivery(kind="inapp", subject=subject, payload=payload, status="sent", sent_at=utcnow())]
    wanted = [d for d in dict.fromkeys([department_id, *(department_ids or [])]) if d is not None]
    if wanted:
        for notifier in session.scalars(
            select(Notifier).where(Notifier.department_id.in_(wanted), Notifier.active.is_(True))
            .order_by(Notifier.id)
        ):
            deliveries.append(Delivery(notifier=notifier, kind=notifier.kind, subject=subject, payload=payload))
    session.add_all(deliveries)
    return deliveries


def _notifier(delivery: Delivery) -> Notifier:
    if delivery.notifier is None:  # a failure to retry and then show, not a crash of the sending loop
        raise RuntimeError("the delivery has no notifier to send to")
    return delivery.notifier


def send_webhook(delivery: Delivery, timeout: float = 5.0) -> None:
    """POST the payload as JSON, signed with the notifier's secret; raise on anything but 2xx."""
    notifier = _notifier(delivery)
    body = json.dumps({"id": delivery.id, "subject": delivery.subject, "payload": delivery.payload},
                      ensure_ascii=False, sort_keys=True).encode()
    request = urllib.request.Request(notifier.target, data=body, method="POST", headers={
        "Content-Type": "application/json", "User-Agent": "Vetted-Notifier/1",
        "X-Vetted-Delivery": str(delivery.id), "X-Vetted-Signature": signature(notifier.secret, body)})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - admin-configured address
            status = response.status
    except urllib.error.HTTPError as exc:
        exc.close()
        raise RuntimeError(f"webhook answered {exc.code}") from None
    if not 200 <= status < 300:
        raise RuntimeError(f"webhook answered {status}")


def email_sender(settings: SmtpSettings) -> Callable[[Delivery], None]:
    """Return a sender that mails a delivery through the configured SMTP server."""

    def send(delivery: Delivery) -> None:
        if not settings.host:
            raise RuntimeError("no SMTP server is configured (VETTED_SMTP_HOST)")
        message = EmailMessage()
        message["Subject"] = f"[Vetted] {delivery.subject}"
        message["From"] = settings.sender
        message["To"] = _notifier(delivery).target
        message.set_content(json.dumps(delivery.payload, ensure_ascii=False, indent=2))
        with smtplib.SMTP(settings.host, settings.port, timeout=10) as smtp:
            if settings.starttls:
                smtp.starttls()
            if settings.username:
                smtp.login(settings.username, settings.password)
            smtp.send_message(message)

    return send


def deliver_pending(
    *, session: Session, senders: dict[str, Callable[[Delivery], None]], now: dt.datetime | None = None,
    limit: int = 100,
) -> dict[str, int]:
    """Try every delivery that is due; return how many were sent, retried later, or given up."""
    now = now or utcnow()
    due = list(session.scalars(
        select(Delivery).where(Delivery.status == "pending", Delivery.next_attempt_at <= now)
        .options(selectinload(Delivery.notifier)).order_by(Delivery.id).limit(limit)
    ))
    counts = {"sent": 0, "retry": 0, "failed": 0}
    for delivery in due:
        # Claim the row first, so that two workers never send the same message.
        claimed = cast(CursorResult[Any], session.execute(
            update(Delivery).where(Delivery.id == delivery.id, Delivery.status == "pending",
                                   Delivery.attempts == delivery.attempts)
            .values(status="sending", attempts=Delivery.attempts + 1)
        )).rowcount
        session.commit()
        if not claimed:
            continue
        session.refresh(delivery)
        try:
            senders[delivery.kind](delivery)
        except (OSError, RuntimeError, urllib.error.URLError, smtplib.SMTPException, KeyError) as exc:
            delivery.last_error = f"{type(exc).__name__}: {exc}"[:500]
            delivery.status = "pending"
            if delivery.attempts >= MAX_ATTEMPTS:
                delivery.status = "failed"
                counts["failed"] += 1
                log.error("delivery %s to %s failed for good: %s", delivery.id, delivery.kind, delivery.last_error)
            else:
                pause = FIRST_RETRY_SECONDS * 2 ** (delivery.attempts - 1)
                delivery.next_attempt_at = now + dt.timedelta(seconds=pause)
                counts["retry"] += 1
                log.warning("delivery %s to %s failed (attempt %s), retrying in %ss: %s", delivery.id,
                            delivery.kind, delivery.attempts, pause, delivery.last_error)
        else:
            delivery.status = "sent"
            delivery.sent_at = now
            counts["sent"] += 1
        session.commit()
    return counts


def recent(*, session: Session, limit: int = 100) -> list[Delivery]:
    """Return the newest deliveries of every kind, for the console."""
    return list(session.scalars(select(Delivery).options(selectinload(Delivery.notifier))
                                .order_by(Delivery.id.desc()).limit(limit)))


def senders_for(config: dict[str, Any]) -> dict[str, Callable[[Delivery], None]]:
    """Return the senders the app's settings allow."""
    smtp = SmtpSettings(host=config["SMTP_HOST"], port=int(config["SMTP_PORT"]), sender=config["SMTP_FROM"],
                        username=config["SMTP_USER"], password=config["SMTP_PASSWORD"],
                        starttls=bool(config["SMTP_STARTTLS"]))
    return {"webhook": send_webhook, "email": email_sender(smtp)}
