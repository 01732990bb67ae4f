"""Notifier delivery against real receivers the test starts: an HTTP server and an SMTP server on loopback."""
from __future__ import annotations

import datetime as dt
import json
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sqlalchemy import select

from kb.models import Delivery, utcnow
from suggest.escalation import notify


class Receiver:
    """An HTTP endpoint that records requests and answers with the status it is told."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.status = 200
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.append((dict(self.headers), body))
                self.send_response(outer.status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


class SmtpReceiver:
    """Just enough SMTP to accept messages and keep them."""

    def __init__(self) -> None:
        self.messages: list[str] = []
        outer = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                self.wfile.write(b"220 test ESMTP\r\n")
                while True:
                    line = self.rfile.readline()
                    if not line:
                        return
                    command = line.decode().strip().upper()
                    if command.startswith(("EHLO", "HELO")):
                        self.wfile.write(b"250 test\r\n")
                    elif command == "DATA":
                        self.wfile.write(b"354 go ahead\r\n")
                        data = []
                        while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                            data.append(chunk.decode())
                        outer.messages.append("".join(data))
                        self.wfile.write(b"250 queued\r\n")
                    elif command == "QUIT":
                        self.wfile.write(b"221 bye\r\n")
                        return
                    else:
                        self.wfile.write(b"250 ok\r\n")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


@pytest.fixture
def smtp():
    s = SmtpReceiver()
    yield s
    s.server.shutdown()
    s.server.server_close()


def _senders(smtp_port: int = 1) -> dict:
    return {"webhook": notify.send_webhook,
            "email": notify.email_sender(notify.SmtpSettings(host="127.0.0.1", port=smtp_port,
                                                             sender="vetted@galim.example"))}


def test_webhook_is_signed_and_delivered_once(session, receiver) -> None:
    notifier = notify.add_notifier(session=session, department="legal", kind="webhook", target=receiver.url,
                                   secret="topsecret")
    notify.queue(session, subject="Escalation", payload={"kind": "legal", "question": "שאלה"},
                 department_id=notifier.department_id)
    session.commit()
    assert notify.deliver_pending(session=session, senders=_senders()) == {"sent": 1, "retry": 0, "failed": 0}
    headers, body = receiver.requests[0]
    assert headers["X-Vetted-Signature"] == notify.signature("topsecret", body)
    assert json.loads(body)["payload"]["question"] == "שאלה"
    assert notify.deliver_pending(session=session, senders=_senders()) == {"sent": 0, "retry": 0, "failed": 0}
    assert len(receiver.requests) == 1


def test_failed_deliveries_are_retried_then_kept_as_failed(session, receiver) -> None:
    notifier = notify.add_notifier(session=session, department="legal", kind="webhook", target=receiver.url)
    notify.queue(session, subject="Escalation", payload={}, department_id=notifier.department_id)
    session.commit()
    receiver.status = 500
    now = utcnow()
    assert notify.deliver_pending(session=session, senders=_senders(), now=now)["retry"] == 1
    delivery = session.scalar(select(Delivery).where(Delivery.kind == "webhook"))
    assert delivery.status == "pending" and "500" in delivery.last_error
    assert delivery.next_attempt_at == now + dt.timedelta(seconds=notify.FIRST_RETRY_SECONDS)
    assert notify.deliver_pending(session=session, senders=_senders(), now=now)["retry"] == 0  # not due yet
    receiver.status = 204
    later = now + dt.timedelta(minutes=5)
    assert notify.deliver_pending(session=session, senders=_senders(), now=later)["sent"] == 1
    session.refresh(delivery)
    assert (delivery.status, delivery.attempts) == ("sent", 2)

    notify.queue(session, subject="Again", payload={}, department_id=notifier.department_id)
    session.commit()
    receiver.status = 503
    moment = later
    for _ in range(notify.MAX_ATTEMPTS):
        moment += dt.timedelta(days=1)
        notify.deliver_pending(session=session, senders=_senders(), now=moment)
    failed = session.scalar(select(Delivery).where(Delivery.subject == "Again", Delivery.kind == "webhook"))
    assert failed.status == "failed" and failed.attempts == notify.MAX_ATTEMPTS and failed.last_error


def test_email_goes_through_smtp(session, smtp) -> None:
    notifier = notify.add_notifier(session=session, department="spokesperson", kind="email",
                                   target="press@galim.example")
    notify.queue(session, subject="Spike", payload={"message": "42 questions about billing"},
                 department_id=notifier.department_id)
    session.commit()
    assert notify.deliver_pending(session=session, senders=_senders(smtp.port))["sent"] == 1
    assert "Subject: [Vetted] Spike" in smtp.messages[0] and "42 questions about billing" in smtp.messages[0]
    assert "To: press@galim.example" in smtp.messages[0]


def test_an_unreachable_smtp_server_keeps_the_mail_pending(session) -> None:
    notifier = notify.add_notifier(session=session, department="legal", kind="email", target="legal@galim.example")
    notify.queue(session, subject="x", payload={}, department_id=notifier.department_id)
    session.commit()
    assert notify.deliver_pending(session=session, senders=_senders(smtp_port=9))["retry"] == 1


@pytest.mark.parametrize(("kind", "target", "message"), [
    ("fax", "x", "one of"), ("webhook", "ftp://x", "http"), ("email", "nobody", "address"),
])
def test_notifier_validation(session, kind, target, message) -> None:
    from kb.errors import ValidationFailed

    with pytest.raises(ValidationFailed, match=message):
        notify.add_notifier(session=session, department="legal", kind=kind, target=target)


def test_a_delivery_without_its_notifier_is_retried_not_a_crash(session, receiver) -> None:
    notifier = notify.add_notifier(session=session, department="legal", kind="webhook", target=receiver.url)
    notify.queue(session, subject="Orphan", payload={}, department_id=notifier.department_id)
    delivery = session.scalar(select(Delivery).where(Delivery.kind == "webhook"))
    delivery.notifier_id = None
    session.commit()
    assert notify.deliver_pending(session=session, senders=_senders())["retry"] == 1
    session.refresh(delivery)
    assert delivery.status == "pending" and "no notifier" in delivery.last_error
