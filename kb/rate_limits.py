"""API rate limits shared by every worker: one counter row per key per clock minute, in the database."""
from __future__ import annotations

import time

from sqlalchemy import delete
from sqlalchemy.orm import Session

from kb.models import ApiRateWindow


def hit(*, session: Session, key_id: int, per_minute: int, now: float | None = None) -> float | None:
    """Count a request of an API key; return the seconds until it may call again when over the limit, else None."""
    now = time.time() if now is None else now
    minute = int(now // 60)
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    # One statement reads and raises the count, so two workers counting at the same moment never both see room.
    upsert = insert(ApiRateWindow).values(key_id=key_id, minute=minute, hits=1)
    upsert = upsert.on_conflict_do_update(
        index_elements=[ApiRateWindow.key_id, ApiRateWindow.minute], set_={"hits": ApiRateWindow.hits + 1}
    ).returning(ApiRateWindow.hits)
    hits = session.execute(upsert).scalar_one()
    if hits == 1:  # the first request of a minute clears the key's earlier minutes, which no check reads again
        session.execute(delete(ApiRateWindow).where(ApiRateWindow.key_id == key_id, ApiRateWindow.minute < minute))
    session.commit()
    if hits > per_minute:
        return (minute + 1) * 60 - now
    return None
