"""Sign-in throttling by (username, client address) and by address, counted with atomic UPDATEs."""
from __future__ import annotations

import datetime as dt
import ipaddress
from typing import cast

from sqlalchemy import Table, case, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kb.models import LoginThrottle

ANY_USER = ""  # the username of an address-wide counter
_TABLE = cast(Table, LoginThrottle.__table__)


def client_key(address: str | None) -> str:
    """Return the form a client address is throttled by: an IPv6 client by its /64, which one host usually holds."""
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return (address or "unknown").strip()[:64] or "unknown"
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def count(*, session: Session, username: str, address: str, now: dt.datetime, window: dt.timedelta) -> int:
    """Count one attempt and return its number in the current window; the caller commits."""
    # One UPDATE reads and writes the counter, so concurrent attempts each get their own number and none is
    # lost; an ORM read-modify-write would let simultaneous guesses share a count (or fail on the row version).
    bump = (
        update(_TABLE)
        .where(_TABLE.c.username == username, _TABLE.c.address == address)
        .values(
            attempts=case((_TABLE.c.reset_at <= now, 1), else_=_TABLE.c.attempts + 1),
            reset_at=case((_TABLE.c.reset_at <= now, now + window), else_=_TABLE.c.reset_at),
        )
        .returning(_TABLE.c.attempts)
    )
    number = session.execute(bump).scalar()
    if number is not None:
        return number
    # Counters that ran out are dead weight; clearing them here keeps guessed usernames from piling up.
    session.execute(delete(_TABLE).where(_TABLE.c.reset_at < now - window))
    try:
        session.execute(_TABLE.insert().values(username=username, address=address, attempts=1,
                                               reset_at=now + window))
        session.flush()
    except IntegrityError:
        # Another attempt created the counter first (PostgreSQL); count on theirs.
        session.rollback()
        number = session.execute(bump).scalar()
        return number if number is not None else 1
    return 1


def current(*, session: Session, username: str, address: str, now: dt.datetime) -> int:
    """Return how many attempts the counter holds in its current window."""
    row = session.execute(
        select(_TABLE.c.attempts, _TABLE.c.reset_at).where(_TABLE.c.username == username,
                                                            _TABLE.c.address == address)
    ).first()
    if row is None or row.reset_at <= now:
        return 0
    return row.attempts


def hold(*, session: Session, username: str, address: str, until: dt.datetime) -> None:
    """Keep a counter full until `until`: the lock lasts its whole length from the failure that set it."""
    session.execute(update(_TABLE).where(_TABLE.c.username == username, _TABLE.c.address == address)
                    .values(reset_at=until))


def clear(*, session: Session, username: str, address: str) -> None:
    """Forget a counter (after a successful sign-in)."""
    session.execute(delete(_TABLE).where(_TABLE.c.username == username, _TABLE.c.address == address))
