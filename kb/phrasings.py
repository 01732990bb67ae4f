"""Customers' wordings learned as phrasings of entries: proposed by agents' picks or by PR, accepted by an approver.

When an agent uses the second or third suggestion for a message, the message is evidence that customers ask that
entry's question in those words. It becomes a candidate; an approver accepts it in one click (never the person who
proposed it), and from then on it is matched as another phrasing of the entry, whichever version is approved.
Nothing here changes an answer's text, so no new version is needed; the KB generation moves when a phrasing starts
or stops being matched (kb.storage), so every worker indexes it.
"""
from __future__ import annotations

import hashlib
import unicodedata

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.exc import StaleDataError

from kb.audit import AuditAction, record
from kb.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from kb.models import (
    PHRASING_ACCEPTED,
    PHRASING_CANDIDATE,
    PHRASING_REJECTED,
    Entry,
    Phrasing,
    PhrasingPick,
    User,
    utcnow,
)
from kb.storage import upsert_insert, use_case
from kb.workflow import Role

MAX_LENGTH = 1000  # as an alternate phrasing of an entry
LISTED = 200  # phrasings shown per status on the console, and per entry on its page


# Marks nobody sees that chat apps and Hebrew keyboards add (direction marks and embeddings, zero-width space,
# byte-order mark), and NUL, which PostgreSQL text cannot hold: the same wording with or without them is one wording.
_INVISIBLE = dict.fromkeys(map(ord, "\x00\u061c\u200b\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                                    "\u2066\u2067\u2068\u2069\ufeff"))


def normalise(text: str) -> str:
    """Return the wording as it is matched and compared: composed, invisible marks dropped, whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFC", text).translate(_INVISIBLE).split())


def text_hash(text: str) -> str:
    """Return the key one wording has per entry: case and spacing do not make a second candidate."""
    return hashlib.sha256(normalise(text).casefold().encode("utf-8")).hexdigest()


def _fits(wording: str) -> bool:
    return 0 < len(wording) <= MAX_LENGTH


def _checked_text(text: str) -> str:
    wording = normalise(text)
    if not _fits(wording):
        raise ValidationFailed("a phrasing needs 1 to 1000 characters")
    return wording


def _matched_entry(session: Session, entry_id: int) -> Entry:
    entry = session.get(Entry, entry_id)
    if entry is None:
        raise NotFound("there is no such entry")
    if entry.approved_version_id is None:
        raise ValidationFailed("this entry has no approved version to match a phrasing to")
    return entry


def _already_matched(entry: Entry, wording: str) -> bool:
    version = entry.approved_version
    known = [version.question, *(version.alternates or [])] if version is not None else []
    key = text_hash(wording)
    return any(text_hash(t) == key for t in known)


def note_pick(
    *, session: Session, entry_id: int, text: str, lang: str, rank: int, inquiry_id: int | None,
    user_id: int | None,
) -> None:
    """Record, in the caller's transaction, that an agent used the suggestion at `rank` (2 or lower) for `text`.

    The first pick makes a candidate; later picks of the same entry for the same wording count up, each inquiry
    once. Two agents picking at once both count: the insert and the count are one statement.
    """
    entry = session.get(Entry, entry_id)
    wording = normalise(text)
    if entry is None or entry.approved_version_id is None or not _fits(wording):
        return
    if _already_matched(entry, wording):
        return
    insert = upsert_insert(session.get_bind().dialect.name)
    if inquiry_id is not None:
        # One inquiry's pick is one piece of evidence: told again, or by several requests at once, it counts once.
        counted = session.scalar(insert(PhrasingPick).values(entry_id=entry_id, inquiry_id=inquiry_id)
                                 .on_conflict_do_nothing().returning(PhrasingPick.inquiry_id))
        if counted is None:
            return
    values = {"entry_id": entry_id, "text": wording, "text_hash": text_hash(wording), "lang": lang,
              "source": "picked", "status": PHRASING_CANDIDATE, "times_picked": 1, "best_rank": rank,
              "inquiry_id": inquiry_id, "proposed_by_id": user_id, "created_at": utcnow(), "changed_generation": 0}
    statement = insert(Phrasing).values(values)
    session.execute(statement.on_conflict_do_update(
        index_elements=[Phrasing.entry_id, Phrasing.text_hash],
        set_={"times_picked": Phrasing.times_picked + 1,
              "best_rank": case((Phrasing.best_rank < rank, Phrasing.best_rank), else_=rank)},
    ))


@use_case
def propose(*, session: Session, actor: User, entry_id: int, text: str) -> Phrasing:
    """Propose a wording (an unanswered customer question) as a phrasing of an entry, for an approver to accept."""
    if not Role(actor.role).at_least(Role.EDITOR):
        raise PermissionDenied("proposing a phrasing needs the editor role")
    wording = _checked_text(text)
    entry = _matched_entry(session, entry_id)
    if _already_matched(entry, wording):
        raise ValidationFailed("the entry already has this phrasing")
    existing = session.scalar(select(Phrasing).where(Phrasing.entry_id == entry_id,
                                                     Phrasing.text_hash == text_hash(wording)))
    if existing is not None:
        raise Conflict("this wording has been proposed for this entry already")
    phrasing = Phrasing(entry_id=entry_id, text=wording, text_hash=text_hash(wording), lang=entry.lang,
                        source="unanswered", status=PHRASING_CANDIDATE, times_picked=0, proposed_by_id=actor.id)
    session.add(phrasing)
    session.flush()
    record(session, actor=actor, action=AuditAction.PHRASING_PROPOSE, entry_id=entry_id,
           after={"phrasing_id": phrasing.id, "text": wording})
    session.commit()
    return phrasing


def _decide(session: Session, actor: User, phrasing_id: int, status: str, action: AuditAction, *,
            allowed_from: tuple[str, ...], allow_self_approval: bool) -> Phrasing:
    if not Role(actor.role).at_least(Role.APPROVER):
        raise PermissionDenied("deciding on a phrasing needs the approver role")
    phrasing = session.get(Phrasing, phrasing_id, with_for_update=True)
    if phrasing is None:
        raise NotFound("there is no such phrasing")
    if phrasing.status not in allowed_from:
        raise Conflict("someone decided on this phrasing first")
    if status == PHRASING_ACCEPTED:
        _matched_entry(session, phrasing.entry_id)
        if phrasing.proposed_by_id == actor.id and not allow_self_approval:
            raise PermissionDenied("you proposed this phrasing; another approver must accept it")
    before = {"status": phrasing.status}
    phrasing.status = status
    phrasing.decided_by_id = actor.id
    phrasing.decided_at = utcnow()
    record(session, actor=actor, action=action, entry_id=phrasing.entry_id, before=before,
           after={"phrasing_id": phrasing.id, "text": phrasing.text, "status": status})
    try:
        session.commit()
    except StaleDataError:
        raise Conflict("someone decided on this phrasing first") from None
    return phrasing


@use_case
def accept(*, session: Session, actor: User, phrasing_id: int, allow_self_approval: bool = False) -> Phrasing:
    """Accept a candidate: it is matched as a phrasing of its entry from the next suggestion on."""
    return _decide(session, actor, phrasing_id, PHRASING_ACCEPTED, AuditAction.PHRASING_ACCEPT,
                   allowed_from=(PHRASING_CANDIDATE,), allow_self_approval=allow_self_approval)


@use_case
def reject(*, session: Session, actor: User, phrasing_id: int) -> Phrasing:
    """Turn a candidate down, or stop matching an accepted phrasing; agents' later picks never bring it back."""
    return _decide(session, actor, phrasing_id, PHRASING_REJECTED, AuditAction.PHRASING_REJECT,
                   allowed_from=(PHRASING_CANDIDATE, PHRASING_ACCEPTED), allow_self_approval=False)


def listing(*, session: Session, status: str, limit: int = LISTED) -> list[Phrasing]:
    """Return phrasings in one status: candidates most picked first, the others most recently decided first."""
    order = ((Phrasing.times_picked.desc(), Phrasing.created_at.desc()) if status == PHRASING_CANDIDATE
             else (func.coalesce(Phrasing.decided_at, Phrasing.created_at).desc(),))
    return list(session.scalars(
        select(Phrasing).where(Phrasing.status == status)
        .options(joinedload(Phrasing.entry).joinedload(Entry.approved_version), joinedload(Phrasing.proposed_by),
                 joinedload(Phrasing.decided_by))
        .order_by(*order).limit(limit)
    ).unique())


def of_entry(*, session: Session, entry_id: int) -> list[Phrasing]:
    """Return an entry's learned phrasings: matched ones first, then candidates, then those turned down."""
    rank = case((Phrasing.status == PHRASING_ACCEPTED, 0), (Phrasing.status == PHRASING_CANDIDATE, 1), else_=2)
    return list(session.scalars(select(Phrasing).where(Phrasing.entry_id == entry_id)
                                .order_by(rank, Phrasing.id.desc()).limit(LISTED)))


def candidate_count(*, session: Session) -> int:
    """Return how many candidates wait for a decision, listed or not."""
    return session.scalar(select(func.count()).select_from(Phrasing)
                          .where(Phrasing.status == PHRASING_CANDIDATE)) or 0
