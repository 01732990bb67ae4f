"""API rate limits shared by every worker: one counter row per key per clock minute, in the database."""
from __future__ import annotations

import time

from sqlalchemy import text
from sqlalchemy.orm import Session

# One statement reads and raises the count, so two workers counting at the same moment never both see room.
# The same SQL runs on SQLite (3.35+) and PostgreSQL; as text it skips the ORM's statement building, which cost
# four times the statement itself.
_COUNT = text(
    "INSERT INTO api_rate_windows (key_id, minute, hits) VALUES (:key_id, :minute, 1) "
    "ON CONFLICT (key_id, minute) DO UPDATE SET hits = api_rate_windows.hits + 1 RETURNING hits"
)
_FORGET = text("DELETE FROM api_rate_windows WHERE key_id = :key_id AND minute < :minute")


def hit(*, session: Session, key_id: int, per_minute: int, now: float | None = None) -> float | None:
    """Count a request of an API key; return the seconds until it may call again when over the limit, else None."""
    now = time.time() if now is None else now
    minute = int(now // 60)
    hits = session.execute(_COUNT, {"key_id": key_id, "minute": minute}).scalar_one()
    if hits == 1:  # the first request of a minute clears the key's earlier minutes, which no check reads again
        session.execute(_FORGET, {"key_id": key_id, "minute": minute})
    session.commit()
    if hits > per_minute:
        return (minute + 1) * 60 - now
    return None
