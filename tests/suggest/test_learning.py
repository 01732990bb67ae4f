"""The learning loop through the API: an agent uses a lower suggestion, an approver accepts, the entry comes first."""
from __future__ import annotations

from sqlalchemy import select

from kb import accounts, phrasings, service
from kb.models import Entry, EntryVersion, Inquiry, Phrasing
from tests.factories import approved_entry, make_draft

URL = "/api/v1/suggest"
# Shares words with both entries, so both are suggested; which comes first is the matcher's call.
MESSAGE = "router bill: how do I restart it or pay it?"


def _key(session, users, user: str = "agent") -> str:
    return accounts.create_api_key(session=session, user=users[user], scopes=["suggest", "feedback"])[1]


def _ask(client, key: str, question: str = MESSAGE, k: int = 3) -> dict:
    response = client.post(URL, json={"question": question, "k": k, "include_low": True},
                           headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def _feedback(client, key: str, inquiry_id: int, entry_id: int, action: str = "copied") -> None:
    response = client.post("/api/v1/feedback", json={"inquiry_id": inquiry_id, "entry_id": entry_id, "version": 1,
                                                      "action": action},
                           headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200, response.get_data(as_text=True)


def _entries(session, users):
    return [approved_entry(session, users, question="How do I restart my router?", answer="Unplug it for 30 s."),
            approved_entry(session, users, question="How do I pay my bill?", answer="In the app.", alternates=[])]


def test_a_lower_pick_becomes_a_candidate_and_once_accepted_comes_first(client, session, users) -> None:
    _entries(session, users)
    key = _key(session, users)
    body = _ask(client, key)
    assert body["outcome"] == "answer" and len(body["suggestions"]) >= 2
    first, second = body["suggestions"][0]["entry_id"], body["suggestions"][1]["entry_id"]
    _feedback(client, key, body["inquiry_id"], second)
    _feedback(client, key, body["inquiry_id"], second, action="used")  # the same pick, told twice, counts once
    candidate = session.scalar(select(Phrasing))
    assert (candidate.entry_id, candidate.text, candidate.times_picked, candidate.best_rank) == (second, MESSAGE, 1, 2)
    assert candidate.proposed_by_id == users["agent"].id and candidate.status == "candidate"
    # Nothing is learned before an approver accepts it.
    assert _ask(client, _key(session, users, "editor"))["suggestions"][0]["entry_id"] == first
    phrasings.accept(session=session, actor=users["approver"], phrasing_id=candidate.id)
    again = _ask(client, _key(session, users, "editor"))
    assert again["suggestions"][0]["entry_id"] == second


def test_picking_the_first_suggestion_teaches_nothing(client, session, users) -> None:
    _entries(session, users)
    key = _key(session, users)
    body = _ask(client, key)
    _feedback(client, key, body["inquiry_id"], body["suggestions"][0]["entry_id"])
    assert session.scalars(select(Phrasing)).all() == []


def test_an_entry_never_suggested_or_a_red_flag_teaches_nothing(client, session, users) -> None:
    _a, b = _entries(session, users)
    other = approved_entry(session, users, question="Where is my parcel?", answer="Track it online.")
    key = _key(session, users)
    body = _ask(client, key, k=2)
    assert other.entry_id not in [s["entry_id"] for s in body["suggestions"]]
    _feedback(client, key, body["inquiry_id"], other.entry_id)
    flagged = _ask(client, key, "I will sue you, how do I pay my bill?")
    assert flagged["outcome"] == "escalate"
    _feedback(client, key, flagged["inquiry_id"], b.entry_id)
    assert session.scalars(select(Phrasing)).all() == []
    assert session.get(Inquiry, flagged["inquiry_id"]).suggested_entry_ids == []


def test_one_inquiry_counts_once_for_an_entry_however_often_its_pick_is_told(client, session, users) -> None:
    _entries(session, users)
    key = _key(session, users)
    body = _ask(client, key)
    second = body["suggestions"][1]["entry_id"]
    for _ in range(3):  # picking, taking it back and picking again is still one agent's one pick
        _feedback(client, key, body["inquiry_id"], second)
        response = client.post("/api/v1/feedback", json={"inquiry_id": body["inquiry_id"], "action": "not_helpful"},
                               headers={"Authorization": f"Bearer {key}"})
        assert response.status_code == 200, response.get_data(as_text=True)
    assert session.scalar(select(Phrasing.times_picked)) == 1


def test_an_accepted_wording_stays_with_the_next_version_and_goes_with_a_retired_entry(client, session, users) -> None:
    _entries(session, users)
    key, asker = _key(session, users), _key(session, users, "editor")
    body = _ask(client, key)
    second = body["suggestions"][1]["entry_id"]
    _feedback(client, key, body["inquiry_id"], second)
    phrasings.accept(session=session, actor=users["approver"], phrasing_id=session.scalar(select(Phrasing.id)))
    version = session.get(EntryVersion, session.get(Entry, second).approved_version_id)
    edited = service.edit(session=session, actor=users["editor"], entry_id=second, base_version_id=version.id,
                          base_row_version=version.row_version,
                          draft=make_draft(question="Where do I see what I owe?", answer="See the app.", alternates=[]))
    service.submit(session=session, actor=users["editor"], version_id=edited.id)
    service.approve(session=session, actor=users["approver"], version_id=edited.id)
    assert _ask(client, asker)["suggestions"][0]["entry_id"] == second
    service.retire(session=session, actor=users["approver"], entry_id=second, reason="no longer offered")
    assert second not in [s["entry_id"] for s in _ask(client, asker)["suggestions"]]


def test_a_pick_below_the_third_suggestion_teaches_nothing(client, session, users) -> None:
    for n in range(4):
        approved_entry(session, users, question=f"How do I restart or pay router bill number {n}?",
                       answer=f"Answer {n}.", alternates=[])
    key = _key(session, users)
    body = _ask(client, key, "router bill restart pay", k=4)
    assert len(body["suggestions"]) == 4
    _feedback(client, key, body["inquiry_id"], body["suggestions"][3]["entry_id"])
    assert session.scalars(select(Phrasing)).all() == []
    _feedback(client, key, body["inquiry_id"], body["suggestions"][2]["entry_id"])
    assert session.scalar(select(Phrasing.best_rank)) == 3
