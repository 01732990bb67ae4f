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
from suggest.escalation.webhook import TargetRefused, check_target


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


LOOPBACK = notify.TargetPolicy(allow_http=True, allow_private=True)  # what the test config allows


@pytest.fixture
def add(session, users):
    """Add a notifier as an approver, under the test config's address policy."""

    def add_notifier(**kwargs):
        return notify.add_notifier(session=session, actor=users["approver"], policy=LOOPBACK, **kwargs)

    return add_notifier


def _senders(smtp_port: int = 1) -> dict:
    return {"webhook": notify.webhook_sender(LOOPBACK),
            "email": notify.email_sender(notify.SmtpSettings(host="127.0.0.1", port=smtp_port,
                                                             sender="vetted@galim.example"))}


def test_webhook_is_signed_and_delivered_once(session, receiver, add) -> None:
    notifier = add(department="legal", kind="webhook", target=receiver.url,
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


def test_failed_deliveries_are_retried_then_kept_as_failed(session, receiver, add) -> None:
    notifier = add(department="legal", kind="webhook", target=receiver.url)
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


def test_email_goes_through_smtp(session, smtp, add) -> None:
    notifier = add(department="spokesperson", kind="email",
                                   target="press@galim.example")
    notify.queue(session, subject="Spike", payload={"message": "42 questions about billing"},
                 department_id=notifier.department_id)
    session.commit()
    assert notify.deliver_pending(session=session, senders=_senders(smtp.port))["sent"] == 1
    assert "Subject: [Vetted] Spike" in smtp.messages[0] and "42 questions about billing" in smtp.messages[0]
    assert "To: press@galim.example" in smtp.messages[0]


def test_an_unreachable_smtp_server_keeps_the_mail_pending(session, add) -> None:
    notifier = add(department="legal", kind="email", target="legal@galim.example")
    notify.queue(session, subject="x", payload={}, department_id=notifier.department_id)
    session.commit()
    assert notify.deliver_pending(session=session, senders=_senders(smtp_port=9))["retry"] == 1


@pytest.mark.parametrize(("kind", "target", "message"), [
    ("fax", "x", "one of"), ("webhook", "ftp://x", "http"), ("email", "nobody", "address"),
])
def test_notifier_validation(session, add, kind, target, message) -> None:
    from kb.errors import ValidationFailed

    with pytest.raises(ValidationFailed, match=message):
        add(department="legal", kind=kind, target=target)


# --- where webhooks may point -------------------------------------------------------------------------------

STRICT = notify.TargetPolicy()  # the defaults: https to public addresses only


def _resolver(table: dict[str, list[str]]):
    """A DNS stand-in: host -> the addresses it answers with."""
    import socket

    def resolve(host, port, type=0):  # noqa: A002 - getaddrinfo's name
        if host not in table:
            return socket.getaddrinfo(host, port, type=type, flags=socket.AI_NUMERICHOST)  # literal addresses
        if not table[host]:
            raise socket.gaierror(f"unknown host {host}")
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, type, 6, "", (a, port)) for a in table[host]]

    return resolve


@pytest.mark.parametrize(("url", "why"), [
    ("http://hooks.galim.example/x", "https"),
    ("https://127.0.0.1/hook", "loopback"),
    ("https://[::1]/hook", "loopback"),
    ("https://10.1.2.3/hook", "private"),
    ("https://192.168.0.10/hook", "private"),
    ("https://169.254.169.254/latest/meta-data", "link-local"),
    ("https://224.0.0.1/hook", "multicast"),
    ("https://240.0.0.1/hook", "reserved"),
    ("https://0.0.0.0/hook", "unspecified"),
    ("https://[::ffff:127.0.0.1]/hook", "loopback"),
    ("https://100.64.0.1/hook", "not public"),
    ("https://inside.galim.example/hook", "private"),  # a name that resolves inside
    ("https://rebind.galim.example/hook", "loopback"),  # one public and one loopback answer
    ("https://user:pw@hooks.galim.example/hook", "user name or password"),
    ("https://nowhere.galim.example/hook", "cannot be resolved"),
    ("https://hooks.galim.example:99999/hook", "port"),
])
def test_webhooks_go_only_to_public_https_addresses(url: str, why: str) -> None:
    resolve = _resolver({"hooks.galim.example": ["93.184.215.14"], "inside.galim.example": ["10.0.0.7"],
                         "rebind.galim.example": ["93.184.215.14", "127.0.0.1"]})
    with pytest.raises(TargetRefused, match=why):
        check_target(url, STRICT, resolve)


def test_allowed_addresses_and_the_settings_that_widen_them() -> None:
    resolve = _resolver({"hooks.galim.example": ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"],
                         "galim.example.evil.test": ["93.184.215.14"], "intranet": ["10.0.0.7"]})
    target = check_target("https://hooks.galim.example/in?team=legal", STRICT, resolve)
    assert (target.host, target.port, target.path) == ("hooks.galim.example", 443, "/in?team=legal")
    assert target.addresses == ("93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c")
    listed = notify.TargetPolicy(allowed_hosts=("*.galim.example",))
    assert check_target("https://hooks.galim.example/", listed, resolve)
    with pytest.raises(TargetRefused, match="allowed webhook hosts"):
        check_target("https://galim.example.evil.test/", listed, resolve)
    assert check_target("http://hooks.galim.example/", notify.TargetPolicy(allow_http=True), resolve)
    inside = notify.TargetPolicy(allow_http=True, allow_private=True)
    assert check_target("http://intranet:8080/hook", inside, resolve).addresses == ("10.0.0.7",)
    policy = notify.TargetPolicy.from_config({"NOTIFY_ALLOW_HTTP": True, "NOTIFY_ALLOW_PRIVATE": False,
                                              "NOTIFY_ALLOWED_HOSTS": " hooks.galim.example, *.ops.example "})
    assert policy == notify.TargetPolicy(True, False, ("hooks.galim.example", "*.ops.example"))


def test_the_address_is_checked_again_when_sending(session, receiver, add) -> None:
    """Saved while allowed (or before its name moved inside): at send time a loopback address is refused."""
    notifier = add(department="legal", kind="webhook", target=receiver.url)
    notify.queue(session, subject="Escalation", payload={"question": "secret customer text"},
                 department_id=notifier.department_id)
    session.commit()
    strict_http = {"webhook": notify.webhook_sender(notify.TargetPolicy(allow_http=True))}
    assert notify.deliver_pending(session=session, senders=strict_http)["retry"] == 1
    delivery = session.scalar(select(Delivery).where(Delivery.kind == "webhook"))
    assert "loopback" in delivery.last_error and receiver.requests == []


def test_the_connection_goes_to_the_checked_address_and_redirects_are_not_followed(receiver) -> None:
    from suggest.escalation import webhook

    port = receiver.server.server_port
    # "hooks.invalid" has no DNS entry: the request can only arrive if it is sent to the address checked.
    target = check_target(f"http://hooks.invalid:{port}/hook", LOOPBACK,
                                 _resolver({"hooks.invalid": ["127.0.0.1"]}))
    assert webhook.post(target, b"{}", {"Content-Type": "application/json"}, 5.0) == 200
    assert receiver.requests[0][0]["Host"] == f"hooks.invalid:{port}"
    receiver.status = 302
    assert webhook.post(target, b"{}", {}, 5.0) == 302 and len(receiver.requests) == 2


def test_a_delivery_left_sending_by_a_killed_worker_is_taken_over_after_its_lease(session, receiver, add) -> None:
    class Killed(BaseException):
        """The worker process dies in the middle of sending."""

    def dies(delivery: Delivery) -> None:
        raise Killed

    notifier = add(department="legal", kind="webhook", target=receiver.url)
    notify.queue(session, subject="Escalation", payload={}, department_id=notifier.department_id)
    session.commit()
    now = utcnow()
    with pytest.raises(Killed):
        notify.deliver_pending(session=session, senders={"webhook": dies}, now=now)
    session.rollback()
    stuck = session.scalar(select(Delivery).where(Delivery.kind == "webhook"))
    assert stuck.status == "sending" and stuck.lease_until == now + dt.timedelta(seconds=notify.LEASE_SECONDS)
    assert notify.deliver_pending(session=session, senders=_senders(), now=now + dt.timedelta(seconds=60))["sent"] == 0
    later = now + dt.timedelta(seconds=notify.LEASE_SECONDS + 1)
    assert notify.deliver_pending(session=session, senders=_senders(), now=later)["sent"] == 1
    session.refresh(stuck)
    assert (stuck.status, stuck.attempts, stuck.lease_until) == ("sent", 2, None) and len(receiver.requests) == 1


def test_a_delivery_without_its_notifier_is_retried_not_a_crash(session, receiver, add) -> None:
    notifier = add(department="legal", kind="webhook", target=receiver.url)
    notify.queue(session, subject="Orphan", payload={}, department_id=notifier.department_id)
    delivery = session.scalar(select(Delivery).where(Delivery.kind == "webhook"))
    delivery.notifier_id = None
    session.commit()
    assert notify.deliver_pending(session=session, senders=_senders())["retry"] == 1
    session.refresh(delivery)
    assert delivery.status == "pending" and "no notifier" in delivery.last_error
