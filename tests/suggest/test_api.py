"""The suggest API: contract, keys and scopes, rate limits, CORS, and a precise 4xx for every bad input."""
from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from kb import accounts, owners, rate_limits, service
from tests.factories import approved_entry, make_draft

URL = "/api/v1/suggest"


@pytest.fixture
def kb(session, users):
    """Two approved entries with routing, provenance and a placeholder."""
    return [
        approved_entry(session, users, variants={"x": "Unplug it 30s, plug back in."}),
        approved_entry(session, users, question="How do I pay my bill?", answer="In the app. Fee: {fee}",
                       alternates=[], category="billing", placeholders=["fee"]),
    ]


def _key(session, users, scopes=("suggest", "feedback", "read")) -> str:
    return accounts.create_api_key(session=session, user=users["agent"], scopes=list(scopes))[1]


@pytest.fixture
def key(session, users) -> str:
    return _key(session, users)


def _post(client, body, key, path=URL, **kw):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    headers.update(kw.pop("headers", {}))
    if isinstance(body, (dict, list)):
        return client.post(path, json=body, headers=headers, **kw)
    return client.post(path, data=body, headers=headers, **kw)


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code and body["error"]["message"]
    return body


def test_suggest_answers_with_provenance_and_routing(client, kb, key) -> None:
    response = _post(client, {"question": "how can I pay the bill?", "k": 2}, key)
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"outcome", "suggestions", "escalation", "inquiry_id", "lang", "took_ms"}
    assert body["outcome"] == "answer" and body["lang"] == "en" and body["escalation"] is None
    top = body["suggestions"][0]
    assert top["entry_id"] == kb[1].entry_id and top["version"] == 1
    assert top["approved_by"] == "Approver" and top["approved_at"].endswith("Z")
    assert top["confidence"] in ("high", "medium") and top["placeholders"] == ["fee"]
    assert top["route"]["department"] == "Customer service" and top["route"]["sla"]["first_response_minutes"] == 30
    assert top["category"] == "billing"


def test_channel_variant_and_alias(client, kb, key) -> None:
    body = _post(client, {"question": "restart my router", "channel": "twitter"}, key).get_json()
    assert body["suggestions"][0]["answer"] == "Unplug it 30s, plug back in."
    assert body["suggestions"][0]["channel"] == "x"


def test_escalation_withholds_library_answers(client, kb, key) -> None:
    body = _post(client, {"question": "My lawyer will sue you over the bill"}, key).get_json()
    assert body["outcome"] == "escalate" and body["suggestions"] == []
    esc = body["escalation"]
    assert esc["kind"] == "legal" and esc["department"] == "Legal" and esc["holding_statement"]
    assert set(esc) == {"kind", "kinds", "rule_id", "department", "contacts", "holding_statement", "sla"}
    assert esc["kinds"] == ["legal"]


def test_every_red_flag_in_a_message_counts(client, kb, key, session) -> None:
    """Suing and going to the press: legal takes over, and the spokesperson's office is told as well."""
    from kb.models import Delivery, Notifier

    s = session
    targets = {}
    for slug in ("legal", "spokesperson"):
        dept = owners.get_department(session=s, slug=slug)
        notifier = Notifier(department=dept, kind="email", target=f"{slug}@example.com", secret="")
        s.add(notifier)
        targets[slug] = notifier
    s.commit()
    body = _post(client, {"question": "I'm going to sue you and talk to the press about it"}, key).get_json()
    esc = body["escalation"]
    assert body["outcome"] == "escalate" and esc["kinds"][0] == "legal" and "press" in esc["kinds"]
    assert esc["department"] == "Legal"
    told = {d.notifier.target for d in s.scalars(select(Delivery).where(Delivery.notifier_id.is_not(None)))}
    assert told == {"legal@example.com", "spokesperson@example.com"}


def test_holding_statement_follows_the_message_language(client, kb, key) -> None:
    hebrew = _post(client, {"question": "אני אתבע אתכם בבית משפט"}, key).get_json()["escalation"]
    english = _post(client, {"question": "I will sue you in court"}, key).get_json()["escalation"]
    assert hebrew["kinds"] == english["kinds"] == ["legal"]
    assert any("\u0590" <= ch <= "\u05ff" for ch in hebrew["holding_statement"])
    assert not any("\u0590" <= ch <= "\u05ff" for ch in english["holding_statement"])


def test_no_match_is_plain(client, kb, key) -> None:
    body = _post(client, {"question": "Wie spät ist es in Tokio?"}, key).get_json()
    assert body["outcome"] == "no_match" and body["suggestions"] == []
    low = _post(client, {"question": "Wie spät ist es in Tokio?", "include_low": True}, key).get_json()
    assert all(s["confidence"] == "low" for s in low["suggestions"])


def test_every_call_is_an_inquiry_and_feedback_lands_on_it(client, kb, key, session) -> None:
    from kb.models import Inquiry

    body = _post(client, {"question": "restart my router"}, key).get_json()
    s = body["suggestions"][0]
    fb = _post(client, {"inquiry_id": body["inquiry_id"], "entry_id": s["entry_id"], "version": s["version"],
                        "action": "edited", "sent_text": "Unplug it!"}, key, path="/api/v1/feedback")
    assert fb.status_code == 200 and fb.get_json() == {"inquiry_id": body["inquiry_id"], "feedback": "edited"}
    inquiry = session.get(Inquiry, body["inquiry_id"])
    session.refresh(inquiry)
    assert (inquiry.source, inquiry.outcome, inquiry.feedback, inquiry.sent_text) == ("api", "answer", "edited",
                                                                                      "Unplug it!")
    assert inquiry.first_response_due is not None


def test_entry_endpoint_returns_only_the_approved_version(client, kb, key, session, users) -> None:
    entry_id = kb[0].entry_id
    body = client.get(f"/api/v1/entries/{entry_id}", headers={"Authorization": f"Bearer {key}"}).get_json()
    assert body["version"] == 1 and body["question"] == "How do I restart my router?"
    service.edit(session=session, actor=users["editor"], entry_id=entry_id, base_version_id=kb[0].id,
                 base_row_version=kb[0].row_version, draft=make_draft(answer="Draft text."))
    again = client.get(f"/api/v1/entries/{entry_id}", headers={"Authorization": f"Bearer {key}"}).get_json()
    assert again["answer"] != "Draft text."
    _error(client.get("/api/v1/entries/999", headers={"Authorization": f"Bearer {key}"}), 404, "not_found")


@pytest.mark.parametrize(("body", "kwargs", "status", "code"), [
    ("not json", {"content_type": "application/json"}, 400, "bad_json"),
    ('["a list"]', {"content_type": "application/json"}, 400, "bad_json"),
    (b'{"question": "\xff\xfe"}', {"content_type": "application/json"}, 400, "bad_encoding"),
    ('{"question": "hi"}', {"content_type": "text/plain"}, 415, "unsupported_media_type"),
    ('{"question": "hi"}', {}, 415, "unsupported_media_type"),
    ({}, {}, 400, "missing_field"),
    ({"question": 5}, {}, 400, "bad_field"),
    ({"question": "hi", "k": "3"}, {}, 400, "bad_field"),
    ({"question": "hi", "k": True}, {}, 400, "bad_field"),
    ({"question": "   "}, {}, 422, "invalid_value"),
    ({"question": "x" * 4001}, {}, 422, "invalid_value"),
    ({"question": "hi", "k": 0}, {}, 422, "invalid_value"),
    ({"question": "hi", "k": 11}, {}, 422, "invalid_value"),
    ({"question": "hi", "channel": "fax"}, {}, 422, "invalid_value"),
    ({"question": "hi", "lang": "hebrew!"}, {}, 422, "invalid_value"),
    ('{"question": "' + "x" * 70000 + '"}', {"content_type": "application/json"}, 413, "too_large"),
])
def test_bad_input_gets_a_precise_error(client, kb, key, body, kwargs, status, code) -> None:
    _error(_post(client, body, key, **kwargs), status, code)


def test_keys_are_required_valid_scoped_and_revocable(client, kb, session, users) -> None:
    _error(_post(client, {"question": "hi"}, None), 401, "unauthorized")
    _error(_post(client, {"question": "hi"}, "vt_nope_nope"), 401, "unauthorized")
    _error(client.post(URL, json={"question": "hi"}, headers={"Authorization": "Basic abc"}), 401, "unauthorized")
    read_only = _key(session, users, scopes=("read",))
    _error(_post(client, {"question": "hi"}, read_only), 403, "forbidden")
    _error(_post(client, {"inquiry_id": 1, "action": "used"}, read_only, path="/api/v1/feedback"), 403, "forbidden")
    key, raw = accounts.create_api_key(session=session, user=users["agent"], scopes=["suggest"])
    assert _post(client, {"question": "hi"}, raw).status_code == 200
    session.refresh(key)
    assert key.last_used_at is not None
    accounts.revoke_api_key(session=session, key_id=key.id)
    _error(_post(client, {"question": "hi"}, raw), 401, "unauthorized")


def test_a_key_stops_working_when_its_holder_is_switched_off(client, kb, session, users) -> None:
    key, raw = accounts.create_api_key(session=session, user=users["agent"], scopes=["suggest"])
    assert _post(client, {"question": "hi"}, raw).status_code == 200
    assert client.get("/api/v1/keys/current", headers={"Authorization": f"Bearer {raw}"}).get_json() == {
        "key_id": key.id, "user": "agent", "scopes": ["suggest"], "name": key.name}
    accounts.set_role(session=session, user_id=users["agent"].id, role="agent", active=False, actor=users["admin"])
    _error(_post(client, {"question": "hi"}, raw), 401, "unauthorized")


def test_rate_limit_answers_429_with_retry_after(app, client, kb, session, users, monkeypatch) -> None:
    # Counted per clock minute: the clock is held half-way through one, so the run cannot straddle two.
    monkeypatch.setattr(rate_limits, "time", SimpleNamespace(time=lambda: 1_800_000_030.0))
    app.config["API_RATE_LIMIT"] = 3
    raw = _key(session, users)
    for _ in range(3):
        assert _post(client, {"question": "hi"}, raw).status_code == 200
    response = _post(client, {"question": "hi"}, raw)
    _error(response, 429, "rate_limited")
    assert int(response.headers["Retry-After"]) == 30
    other = _key(session, users)
    assert _post(client, {"question": "hi"}, other).status_code == 200  # the limit is per key


def test_feedback_validation(client, kb, key) -> None:
    inquiry = _post(client, {"question": "restart my router"}, key).get_json()["inquiry_id"]
    path = "/api/v1/feedback"
    _error(_post(client, {"inquiry_id": inquiry, "action": "loved"}, key, path=path), 422, "invalid_value")
    _error(_post(client, {"action": "used"}, key, path=path), 400, "missing_field")
    _error(_post(client, {"inquiry_id": 99999, "action": "used"}, key, path=path), 404, "not_found")


def test_cors_only_for_configured_origins(app, client, kb, key) -> None:
    app.config["CORS_ORIGINS"] = "chrome-extension://abc"
    ok = client.options(URL, headers={"Origin": "chrome-extension://abc", "Access-Control-Request-Method": "POST"})
    assert ok.headers["Access-Control-Allow-Origin"] == "chrome-extension://abc"
    assert "Authorization" in ok.headers["Access-Control-Allow-Headers"]
    evil = _post(client, {"question": "hi"}, key, headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in evil.headers


def test_unknown_routes_and_methods_under_api_are_json(client, key) -> None:
    _error(client.get("/api/v1/nothing"), 404, "not_found")
    _error(client.get(URL), 405, "method_not_allowed")


def test_openapi_describes_every_route_status_and_error_shape(app, client) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.1")
    api_rules = {r.rule.replace("<int:", "{").replace(">", "}") for r in app.url_map.iter_rules()
                 if r.rule.startswith("/api/")}
    assert api_rules == set(spec["paths"])
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            rule = next(r for r in app.url_map.iter_rules()
                        if r.rule.replace("<int:", "{").replace(">", "}") == path)
            assert method.upper() in rule.methods
            for status, response in op["responses"].items():
                if status.startswith(("4", "5")):
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}
    suggest_op = spec["paths"]["/api/v1/suggest"]["post"]
    assert {"200", "400", "401", "403", "413", "415", "422", "429"} <= set(suggest_op["responses"])


def test_responses_match_the_documented_schema(client, kb, key) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    spec = client.get("/api/v1/openapi.json").get_json()
    schema = spec["paths"]["/api/v1/suggest"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    resolver_doc = {**schema, "components": spec["components"]}
    for question in ("restart my router", "I will sue you", "Wie spät ist es?"):
        body = _post(client, {"question": question}, key).get_json()
        jsonschema.validate(body, resolver_doc)
    error = _post(client, {}, key).get_json()
    jsonschema.validate(error, spec["components"]["schemas"]["Error"])


def test_health_and_metrics(app, client, kb, key, auth) -> None:
    _post(client, {"question": "restart my router"}, key)
    health = client.get("/healthz").get_json()
    assert health["status"] == "ok" and health["database"] is True and health["kb_generation"] >= 2
    assert client.get("/metrics").status_code == 401
    app.config["METRICS_TOKEN"] = "s3cret"
    text = client.get("/metrics", headers={"Authorization": "Bearer s3cret"}).get_data(as_text=True)
    assert 'vetted_suggest_requests_total{outcome="answer"}' in text
    assert "vetted_suggest_latency_ms_bucket" in text
    login = auth.login("editor")
    assert login.status_code == 302, login.get_data(as_text=True)
    assert client.get("/metrics").status_code == 403
    auth.login("admin")
    assert client.get("/metrics").status_code == 200


def test_api_keys_never_reach_the_logs(app, client, kb, key, caplog) -> None:
    with caplog.at_level("DEBUG"):
        _post(client, {"question": "restart my router"}, key)
        _post(client, {"question": "hi"}, key + "x")
    assert key not in caplog.text
    assert json.dumps(key) not in caplog.text


def test_handoff_makes_the_conversation_owed_and_refuses_what_is_not_the_callers(client, kb, key, session, users):
    from kb.models import Inquiry

    asked = _post(client, {"question": "I'd like to order ten lines for my business"}, key).get_json()
    other = _key(session, users)  # another key (even of the same agent) may not hand this conversation over
    body = {"inquiry_id": asked["inquiry_id"], "department": "sales", "reason": "sales_lead"}
    assert _post(client, body, other, path="/api/v1/handoff").status_code == 404
    bad = _post(client, {**body, "reason": "gossip"}, key, path="/api/v1/handoff")
    assert bad.status_code == 422 and bad.get_json()["error"]["code"] == "invalid_value"
    assert _post(client, {**body, "department": "nowhere"}, key, path="/api/v1/handoff").status_code == 422
    done = _post(client, body, key, path="/api/v1/handoff")
    assert done.status_code == 200 and done.get_json() == {"inquiry_id": asked["inquiry_id"], "handoff": "sales_lead"}
    inquiry = session.get(Inquiry, asked["inquiry_id"])
    assert inquiry.department_id is not None and inquiry.take_due is not None and inquiry.resolution_due is not None


def test_names_follow_the_reader_and_a_renamed_department_shows_at_once(client, kb, key, session) -> None:
    hebrew = _post(client, {"question": "how can I pay the bill?"}, key, headers={"Accept-Language": "he"})
    top = hebrew.get_json()["suggestions"][0]
    assert top["route"]["department"] == "שירות לקוחות" and top["category_name"] == "חיובים ותשלומים"
    english = _post(client, {"question": "how can I pay the bill?"}, key).get_json()["suggestions"][0]
    assert english["route"]["department"] == "Customer service"
    dept = owners.get_department(session=session, slug="customer-service")
    dept.names = {"he": "מוקד לקוחות", "en": "Customer care"}
    session.commit()
    renamed = _post(client, {"question": "how can I pay the bill?"}, key, headers={"Accept-Language": "he"})
    assert renamed.get_json()["suggestions"][0]["route"]["department"] == "מוקד לקוחות"


def test_a_new_contact_and_a_new_version_show_on_the_next_suggestion(client, kb, key, session, users) -> None:
    """What a card shows is read once per KB generation: any change that moves it shows at once."""
    ask = {"question": "how can I pay the bill?", "channel": "x"}
    before = _post(client, ask, key).get_json()["suggestions"][0]
    assert "Dana on call" not in [c["name"] for c in before["route"]["contacts"]]
    owners.add_contact(session=session, department="customer-service", name="Dana on call", on_call=True)
    after = _post(client, ask, key).get_json()["suggestions"][0]
    assert "Dana on call" in [c["name"] for c in after["route"]["contacts"]]
    edited = service.edit(session=session, actor=users["editor"], entry_id=kb[1].entry_id,
                          base_version_id=kb[1].id, base_row_version=kb[1].row_version,
                          draft=make_draft(question="How do I pay my bill?", answer="Pay in the app or by phone.",
                                           category="billing"))
    service.submit(session=session, actor=users["editor"], version_id=edited.id)
    service.approve(session=session, actor=users["approver"], version_id=edited.id)
    newest = _post(client, ask, key).get_json()["suggestions"][0]
    assert (newest["version"], newest["answer"]) == (2, "Pay in the app or by phone.")


def test_an_answer_retired_between_two_identical_calls_is_not_served_the_second_time(client, kb, key, session,
                                                                                      users) -> None:
    # The second call is the same question from the same key, the one a worker answers from its caches.
    body = {"question": "how can I pay the bill?", "k": 2}
    first = _post(client, body, key).get_json()
    assert kb[1].entry_id in [s["entry_id"] for s in first["suggestions"]]
    service.retire(session=session, actor=users["approver"], entry_id=kb[1].entry_id, reason="Fees changed.")
    second = _post(client, body, key).get_json()
    assert kb[1].entry_id not in [s["entry_id"] for s in second["suggestions"]]
