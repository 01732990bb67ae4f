"""The `flask suggest` commands an operator runs by hand."""
from __future__ import annotations

from flask.testing import FlaskCliRunner
from sqlalchemy.orm import Session

from kb.models import User
from tests.factories import approved_entry


def test_ask_shows_the_suggestions_and_a_red_flag(runner: FlaskCliRunner, session: Session,
                                                  users: dict[str, User]) -> None:
    entry = approved_entry(session, users)
    answered = runner.invoke(args=["suggest", "ask", "How do I restart my router?"])
    assert answered.exit_code == 0, answered.output
    assert f"#{entry.entry_id} v1 How do I restart my router?" in answered.output
    assert "Unplug the router" in answered.output
    flagged = runner.invoke(args=["suggest", "ask", "I will get a lawyer and sue you"])
    assert flagged.exit_code == 0, flagged.output
    assert "RED FLAG: legal -> Legal\n  Thank you for your message." in flagged.output
