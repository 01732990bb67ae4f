"""Input built to break the server gets its documented 4xx in the one error shape, never a 500."""
from __future__ import annotations

from sqlalchemy import select

from kb import accounts
from kb.models import Inquiry
from tests.conftest import PASSWORD, csrf_from
from tests.suggest.test_api import _error, _post, kb  # noqa: F401 - kb is a fixture

BIG = 2**64


def _key(session, users) -> str:
    return accounts.create_api_key(session=session, user=users["agent"], scopes=["suggest", "feedback", "read"])[1]


def _raw(client, key, text: str, path: str = "/api/v1/suggest"):
    return client.post(path, data=text.encode("utf-8"), content_type="application/json",
                       headers={"Authorization": f"Bearer {key}"})


def test_json_nested_thousands_deep_is_a_400(client, session, users) -> None:
    key = _key(session, users)
    _error(_raw(client, key, '{"question": "hi", "x": ' + "[" * 5000 + "]" * 5000 + "}"), 400, "bad_json")
    _error(_raw(client, key, '{"x": ' + '{"a": ' * 5000 + "1" + "}" * 5000 + "}"), 400, "bad_json")


def test_a_lone_surrogate_is_a_400(client, session, users) -> None:
    key = _key(session, users)
    _error(_raw(client, key, '{"question": "my router \\ud800 is down"}'), 400, "bad_json")
    _error(_raw(client, key, '{"question": "fine", "sent_text": "\\udfff"}'), 400, "bad_json")
    # A proper pair is one character, and welcome.
    assert _raw(client, key, '{"question": "router down \\ud83d\\ude00"}').status_code == 200


def test_a_number_thousands_of_digits_long_is_a_400(client, session, users) -> None:
    key = _key(session, users)
    _error(_raw(client, key, '{"question": "hi", "k": ' + "9" * 5000 + "}"), 400, "bad_json")


def test_ids_past_the_integer_columns_are_refused_not_overflowed(client, session, users) -> None:
    key = _key(session, users)
    auth = {"Authorization": f"Bearer {key}"}
    _error(client.get(f"/api/v1/entries/{BIG}", headers=auth), 404, "not_found")
    _error(client.get(f"/api/v1/entries/{2**31}", headers=auth), 404, "not_found")
    asked = _post(client, {"question": "how do I restart the router"}, key).get_json()
    for field in ("version", "entry_id", "inquiry_id"):
        for big in (BIG, 2**31):
            body = {"inquiry_id": asked["inquiry_id"], "action": "used", field: big}
            _error(_post(client, body, key, path="/api/v1/feedback"), 400, "bad_field")
    _error(_post(client, {"inquiry_id": -BIG}, key, path="/api/v1/send-to-pr"), 400, "bad_field")


def test_whole_floats_count_as_integers(client, kb, session, users) -> None:  # noqa: F811
    key = _key(session, users)
    response = _post(client, {"question": "how can I pay the bill?", "k": 1.0}, key)
    assert response.status_code == 200 and len(response.get_json()["suggestions"]) == 1
    _error(_post(client, {"question": "hi", "k": 1.5}, key), 400, "bad_field")


def test_a_nul_in_a_red_flag_message_is_recorded_and_escalated(client, session, users) -> None:
    key = _key(session, users)
    response = _post(client, {"question": "my lawyer\x00 will sue you"}, key)
    assert response.status_code == 200 and response.get_json()["outcome"] == "escalate"
    inquiry = session.scalar(select(Inquiry).where(Inquiry.id == response.get_json()["inquiry_id"]))
    assert inquiry.text == "my lawyer will sue you" and inquiry.department_id is not None
    _error(_post(client, {"question": "\x00\x00"}, key), 422, "invalid_value")
    fb = _post(client, {"inquiry_id": inquiry.id, "action": "edited", "sent_text": "sorry\x00"}, key,
               path="/api/v1/feedback")
    assert fb.status_code == 200
    session.refresh(inquiry)
    assert inquiry.sent_text == "sorry"


def test_a_nul_in_a_username_is_a_failed_login(client) -> None:
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": "agent\x00", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 401 and "wrong username or password" in response.get_data(as_text=True)


def test_cr_lf_in_next_never_reaches_a_header(client) -> None:
    token = csrf_from(client.get("/login").get_data(as_text=True))
    for target in ("/search\r\nSet-Cookie: a=b", "/\t/evil.example", "/\\evil.example"):
        response = client.post("/login", query_string={"next": target},
                               data={"username": "agent", "password": PASSWORD, "csrf_token": token})
        assert response.status_code == 302 and response.headers["Location"] == "/search"
        assert "Set-Cookie: a" not in str(response.headers)
        token = csrf_from(client.get("/login").get_data(as_text=True))
        response = client.post("/language/en", data={"csrf_token": token, "next": target})
        assert response.status_code == 302 and response.headers["Location"] == "/search"


def test_a_405_names_the_allowed_methods(client, session, users) -> None:
    key = _key(session, users)
    for path, allowed in (("/api/v1/suggest", "POST"), ("/api/v1/entries/1", "GET"),
                          ("/api/v1/openapi.json", "GET"), ("/api/v1/keys/current", "GET")):
        response = client.put(path, headers={"Authorization": f"Bearer {key}"})
        _error(response, 405, "method_not_allowed")
        assert allowed in response.headers["Allow"]
    assert "GET" in client.post("/healthz").headers["Allow"]


def test_stored_markup_is_reduced_to_text_and_never_served(client, session, users) -> None:
    from kb import service
    from kb.models import EntryVersion
    from tests.factories import make_draft

    attack = '<svg/onload=alert(1)>Restart it. <img src=x onerror=alert(1)'
    escaped = "&lt;svg onload=alert(1)&gt;Call us"
    v = service.create_draft(session=session, actor=users["editor"],
                             draft=make_draft(answer=attack, alternates=[escaped], question="Restart? <b>now</b>"))
    assert "<" not in v.answer and v.answer.startswith("Restart it.") and "onerror" not in v.answer
    assert v.alternates == ["Call us"] and v.question == "Restart? now"
    service.submit(session=session, actor=users["editor"], version_id=v.id)
    service.approve(session=session, actor=users["approver"], version_id=v.id)
    # A version stored before answers were cleaned this way is cleaned on the way out.
    session.get(EntryVersion, v.id).answer = attack
    session.commit()
    key = _key(session, users)
    body = client.get(f"/api/v1/entries/{v.entry_id}", headers={"Authorization": f"Bearer {key}"}).get_json()
    assert body["answer"].startswith("Restart it.") and "<" not in body["answer"] and "onerror" not in body["answer"]
    found = _post(client, {"question": "how do I restart my router", "k": 1}, key).get_json()
    assert all("<" not in s["answer"] for s in found["suggestions"])
