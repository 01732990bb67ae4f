"""The agent search page and its JSON calls, through the test client with a real session and CSRF token."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from kb.models import Inquiry
from tests.factories import approved_entry


@pytest.fixture
def approved(session, users):
    return approved_entry(session, users, answer="Unplug the router. A technician visit costs {fee}.",
                          placeholders=["fee"])


def _ask(client, token, question, **extra):
    return client.post("/agent/suggest", json={"question": question, **extra}, headers={"X-CSRFToken": token})


def test_the_page_needs_a_signed_in_agent(client) -> None:
    response = client.get("/search")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=/search")
    assert client.post("/agent/suggest", json={"question": "hi"}).status_code in (302, 400)


def test_agent_search_page_renders_rtl_ready(client, auth) -> None:
    auth.login("agent")
    html = client.get("/search").get_data(as_text=True)
    assert 'id="question"' in html and 'dir="auto"' in html
    assert "script-src 'self'" in client.get("/search").headers["Content-Security-Policy"]
    assert "<script>" not in html  # no inline script, so the CSP can forbid it


def test_ask_copy_feedback_round_trip(client, auth, approved, session, users) -> None:
    auth.login("agent")
    token = auth.csrf()
    body = _ask(client, token, "how do I restart the router").get_json()
    assert body["outcome"] == "answer"
    top = body["suggestions"][0]
    assert top["placeholders"] == ["fee"] and "{fee}" in top["answer"]
    fb = client.post("/agent/feedback", json={"inquiry_id": body["inquiry_id"], "entry_id": top["entry_id"],
                                              "version": top["version"], "action": "used",
                                              "sent_text": "Unplug the router. A technician visit costs 99 NIS."},
                     headers={"X-CSRFToken": token})
    assert fb.status_code == 200
    inquiry = session.get(Inquiry, body["inquiry_id"])
    assert (inquiry.source, inquiry.feedback, inquiry.user_id) == ("page", "used", users["agent"].id)
    assert "99 NIS" in inquiry.sent_text


def test_edited_text_is_shown_against_the_approved_answer(client, auth, approved, session) -> None:
    auth.login("agent")
    token = auth.csrf()
    body = _ask(client, token, "how do I restart the router").get_json()
    top = body["suggestions"][0]
    client.post("/agent/feedback", json={"inquiry_id": body["inquiry_id"], "entry_id": top["entry_id"],
                                         "version": top["version"], "action": "edited",
                                         "sent_text": top["answer"].replace("{fee}", "99 NIS") + " Sorry!"},
                headers={"X-CSRFToken": token})
    client.post("/logout", data={"csrf_token": token})
    auth.login("editor")
    page = client.get(f"/admin/entries/{top['entry_id']}").get_data(as_text=True)
    assert "How agents edited it before sending" in page
    assert "<del>{fee}.</del>" in page and "<ins>99 NIS. Sorry!</ins>" in page


def test_no_match_names_whom_to_ask_and_can_go_to_pr(client, auth, approved, session) -> None:
    from kb import owners

    owners.add_contact(session=session, department="customer-service", name="Dana Levi", on_call=True)
    auth.login("agent")
    token = auth.csrf()
    body = _ask(client, token, "Quel temps fera-t-il demain à Paris ?").get_json()
    assert body["outcome"] == "no_match"
    assert body["fallback"]["department"] == "Customer service"
    assert body["fallback"]["contacts"][0]["name"] == "Dana Levi"
    sent = client.post("/agent/send-to-pr", json={"inquiry_id": body["inquiry_id"]}, headers={"X-CSRFToken": token})
    assert sent.get_json() == {"inquiry_id": body["inquiry_id"], "sent_to_pr": True}


def test_escalation_reaches_the_page(client, auth, approved) -> None:
    auth.login("agent")
    body = _ask(client, auth.csrf(), "אני עיתונאית בהארץ ומבקשת תגובה לכתבה").get_json()
    assert body["outcome"] == "escalate" and body["escalation"]["kind"] == "press"
    assert body["escalation"]["department"] == "Spokesperson's office"


def test_page_calls_refuse_a_missing_csrf_token(client, auth, approved) -> None:
    auth.login("agent")
    response = client.post("/agent/suggest", json={"question": "restart router"})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"


def test_page_calls_validate_like_the_api(client, auth) -> None:
    auth.login("agent")
    token = auth.csrf()
    assert _ask(client, token, "").status_code == 422
    assert _ask(client, token, "hi", channel="fax").get_json()["error"]["code"] == "invalid_value"
    other = client.post("/agent/feedback", json={"inquiry_id": 123456, "action": "used"},
                        headers={"X-CSRFToken": token})
    assert other.status_code == 404


def test_agents_cannot_touch_others_inquiries(client, auth, approved, session) -> None:
    auth.login("agent")
    body = _ask(client, auth.csrf(), "restart router").get_json()
    client.post("/logout", data={"csrf_token": auth.csrf()})
    auth.login("editor")
    response = client.post("/agent/feedback", json={"inquiry_id": body["inquiry_id"], "action": "used"},
                           headers={"X-CSRFToken": auth.csrf()})
    assert response.status_code == 404
    assert session.scalar(select(Inquiry.feedback).where(Inquiry.id == body["inquiry_id"])) is None


def _page_field(page: str, name: str) -> str:
    import re

    return re.search(rf'name="{name}"[^>]*value="([^"]+)"', page).group(1)


def test_extension_keys_are_the_agents_own_to_list_and_revoke(client, auth, session, users) -> None:
    from kb import accounts
    from kb.models import ApiKey

    others = accounts.create_api_key(session=session, user=users["editor"], scopes=["suggest"], name="editor's")[0]
    auth.login("agent")
    page = client.get("/extension").get_data(as_text=True)
    form = {"create-csrf_token": _page_field(page, "create-csrf_token"), "action": "create",
            "once": _page_field(page, "once")}
    created = client.post("/extension", data=form).get_data(as_text=True)
    assert 'class="new-key"' in created
    # The browser sends the same form again on reload: no second key.
    again = client.post("/extension", data=form).get_data(as_text=True)
    assert 'class="new-key"' not in again
    mine = session.scalars(select(ApiKey).where(ApiKey.user_id == users["agent"].id)).all()
    assert len(mine) == 1 and "editor&#39;s" not in again
    revoke = {"revoke-csrf_token": _page_field(again, "revoke-csrf_token"), "action": "revoke",
              "revoke-key_id": str(others.id)}
    client.post("/extension", data=revoke)
    session.refresh(others)
    assert others.revoked_at is None  # an agent cannot revoke somebody else's key
    client.post("/extension", data={**revoke, "revoke-key_id": str(mine[0].id)})
    session.refresh(mine[0])
    assert mine[0].revoked_at is not None
