"""Notifications to in-house departments: in the console, by webhook (HMAC-signed JSON) and by e-mail.

Every message is a Delivery row first, committed with the event that caused it; senders then work through the
pending rows, retrying with growing pauses. A delivery that keeps failing ends as "failed" with its last error,
visible in the console: nothing is dropped silently.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import http.client
import json
import logging
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, cast

from sqlalchemy import CursorResult, and_, or_, select, update
from sqlalchemy.orm import Session, selectinload

from kb import audit
from kb.audit import AuditAction
from kb.errors import NotFound, PermissionDenied, ValidationFailed
from kb.models import Delivery, Department, Notifier, User, utcnow
from kb.storage import use_case
from kb.workflow import Role
from suggest.escalation.webhook import TargetPolicy, TargetRefused, check_target, post

log = logging.getLogger(__name__)
KINDS = ("webhook", "email")
MAX_ATTEMPTS = 8
FIRST_RETRY_SECONDS = 30
# A worker holds a delivery this long; if it dies while sending, another takes the delivery over afterwards.
# Longer than any sender can take (webhook 5 s, SMTP 10 s per step), so a live sender is never overtaken.
LEASE_SECONDS = 120


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
def add_notifier(
    *, session: Session, actor: User, department: str, kind: str, target: str, secret: str = "",
    policy: TargetPolicy,
) -> Notifier:
    """Tell a department by webhook or e-mail from now on (approvers); the address is checked, the change audited."""
    if not Role(actor.role).at_least(Role.APPROVER):
        raise PermissionDenied("notifiers are added by approvers")
    if kind not in KINDS:
        raise ValidationFailed(f"a notifier is one of {', '.join(KINDS)}")
    target = target.strip()
    if kind == "webhook":
        try:
            check_target(target, policy)
        except TargetRefused as exc:
            raise ValidationFailed(str(exc)) from None
    if kind == "email" and ("@" not in target or any(ch in target for ch in "\r\n\x00,;")):
        raise ValidationFailed("an e-mail notifier needs an address")
    dept = session.scalar(select(Department).where(Department.slug == department))
    if dept is None:
        raise NotFound(f"no department {department!r}")
    notifier = Notifier(department=dept, kind=kind, target=target, secret=secret)
    session.add(notifier)
    session.flush()
    audit.record(session, actor=actor, action=AuditAction.NOTIFIER_ADD, after=_audit_view(notifier))
    session.commit()
    return notifier


@use_case
def remove_notifier(*, session: Session, actor: User, notifier_id: int) -> Notifier:
    """Stop notifying through a notifier (admins); what it still owed is marked failed, and the change audited."""
    if not Role(actor.role).at_least(Role.ADMIN):
        raise PermissionDenied("notifiers are removed by admins")
    notifier = session.get(Notifier, notifier_id)
    if notifier is None or not notifier.active:
        raise NotFound(f"no notifier {notifier_id}")
    notifier.active = False
    # The row stays, so past deliveries still say where they went; nothing more goes to it.
    session.execute(update(Delivery).where(Delivery.notifier_id == notifier.id,
                                           Delivery.status.in_(("pending", "sending")))
                    .values(status="failed", last_error="the notifier was removed", lease_until=None))
    audit.record(session, actor=actor, action=AuditAction.NOTIFIER_REMOVE, before=_audit_view(notifier))
    session.commit()
    return notifier


def _audit_view(notifier: Notifier) -> dict[str, Any]:
    return {"notifier": notifier.id, "department": notifier.department.slug, "kind": notifier.kind,
            "target": notifier.target, "secret": "set" if notifier.secret else "not set"}


def list_notifiers(*, session: Session) -> list[Notifier]:
    """Return every notifier in use, with its department."""
    return list(session.scalars(select(Notifier).where(Notifier.active.is_(True))
                                .options(selectinload(Notifier.department)).order_by(Notifier.id)))


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


def send_webhook(delivery: Delivery, *, policy: TargetPolicy, timeout: float = 5.0) -> None:
    """POST the payload as JSON, signed with the notifier's secret, to a checked address; raise on anything but 2xx."""
    notifier = _notifier(delivery)
    # Checked again at each send: the host's DNS answer may have changed since the address was saved.
    target = check_target(notifier.target, policy)
    body = json.dumps({"id": delivery.id, "subject": delivery.subject, "payload": delivery.payload},
                      ensure_ascii=False, sort_keys=True).encode()
    status = post(target, body, {
        "Content-Type": "application/json", "User-Agent": "Vetted-Notifier/1",
        "X-Vetted-Delivery": str(delivery.id), "X-Vetted-Signature": signature(notifier.secret, body)}, timeout)
    if not 200 <= status < 300:
        raise RuntimeError(f"webhook answered {status}")


def webhook_sender(policy: TargetPolicy) -> Callable[[Delivery], None]:
    """Return a sender that posts webhooks under the given address policy."""

    def send(delivery: Delivery) -> None:
        send_webhook(delivery, policy=policy)

    return send


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
        select(Delivery).where(or_(
            and_(Delivery.status == "pending", Delivery.next_attempt_at <= now),
            # A worker that died while sending leaves its lease behind; once it runs out, the delivery is due.
            and_(Delivery.status == "sending", or_(Delivery.lease_until.is_(None), Delivery.lease_until <= now)),
        ))
        .options(selectinload(Delivery.notifier)).order_by(Delivery.id).limit(limit)
    ))
    counts = {"sent": 0, "retry": 0, "failed": 0}
    for delivery in due:
        # Claim the row first, so that two workers never send the same message at once.
        claimed = cast(CursorResult[Any], session.execute(
            update(Delivery).where(Delivery.id == delivery.id, Delivery.status == delivery.status,
                                   Delivery.attempts == delivery.attempts)
            .values(status="sending", attempts=Delivery.attempts + 1,
                    lease_until=now + dt.timedelta(seconds=LEASE_SECONDS))
        )).rowcount
        session.commit()
        if not claimed:
            continue
        session.refresh(delivery)
        try:
            senders[delivery.kind](delivery)
        except (OSError, RuntimeError, http.client.HTTPException, smtplib.SMTPException, KeyError) as exc:
            delivery.last_error = f"{type(exc).__name__}: {exc}"[:500]
            delivery.status = "pending"
            delivery.lease_until = None
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
            delivery.lease_until = None
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
    return {"webhook": webhook_sender(TargetPolicy.from_config(config)), "email": email_sender(smtp)}
