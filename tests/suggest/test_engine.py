"""The engine keeps its index in step with the KB, incrementally, and only ever suggests approved versions."""
from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from sqlalchemy import func, select

from kb import service
from kb.models import EmbeddingCache
from suggest import engine as engine_mod
from suggest.engine import Engine
from suggest.matching.encoders import FakeEncoder, parse_lang_encoders
from suggest.service import SuggestRequest, suggest
from tests.factories import approved_entry, make_draft

ROUTER = "How do I restart my router?"


def _ask(session, eng, question: str, **kw):
    return suggest(session=session, engine=eng, request=SuggestRequest(question, include_low=True, **kw),
                   record=False)


def test_approval_edit_and_retirement_reach_a_running_engine(app, session, users) -> None:
    eng = engine_mod.engine(app)
    eng.sync(session)
    assert _ask(session, eng, ROUTER).suggestions == []
    v1 = approved_entry(session, users)
    first = _ask(session, eng, ROUTER)
    assert first.outcome == "answer" and first.suggestions[0].entry_id == v1.entry_id
    assert first.suggestions[0].version == 1 and first.suggestions[0].approved_by == "Approver"

    v2 = service.edit(session=session, actor=users["editor"], entry_id=v1.entry_id, base_version_id=v1.id,
                      base_row_version=v1.row_version, draft=make_draft(answer="Hold the reset button."))
    assert _ask(session, eng, ROUTER).suggestions[0].version == 1  # the draft does not serve yet
    service.submit(session=session, actor=users["editor"], version_id=v2.id)
    service.approve(session=session, actor=users["approver"], version_id=v2.id)
    after = _ask(session, eng, ROUTER)
    assert [(s.version, s.answer) for s in after.suggestions] == [(2, "Hold the reset button.")]

    service.retire(session=session, actor=users["approver"], entry_id=v1.entry_id, reason="Gone.")
    assert _ask(session, eng, ROUTER).suggestions == []
    assert eng.stats()["versions"] == 0


def test_sync_is_incremental(app, session, users, monkeypatch) -> None:
    eng = engine_mod.engine(app)
    approved_entry(session, users)
    eng.sync(session)
    encoded: list[int] = []
    fake = eng.encoder_for("en")
    original = fake.encode_passages
    monkeypatch.setattr(fake, "encode_passages", lambda texts: encoded.append(len(texts)) or original(texts))
    approved_entry(session, users, question="How do I pay my bill?", answer="In the app.", alternates=[])
    eng.sync(session)
    assert encoded == [2]  # only the new version's question and answer, nothing re-encoded


def test_index_hits_are_refiltered_against_the_database(app, session, users) -> None:
    eng = engine_mod.engine(app)
    approved_entry(session, users, review_by=dt.date(2030, 1, 1))
    eng.sync(session)
    assert _ask(session, eng, ROUTER).suggestions
    late = suggest(session=session, engine=eng, request=SuggestRequest(ROUTER, include_low=True), record=False,
                   today=dt.date(2030, 6, 1))
    assert late.suggestions == [] and late.outcome == "no_match"


def test_embeddings_are_cached_so_a_new_worker_never_reencodes(app, session, users) -> None:
    approved_entry(session, users)
    engine_mod.engine(app).sync(session)
    cached = session.scalar(select(func.count()).select_from(EmbeddingCache))
    assert cached == 3  # question, one alternate, answer
    fresh = Engine(lang_encoders={"*": "fake"})
    calls: list[int] = []
    enc = fresh.encoder_for("en")
    enc.encode_passages = lambda texts: calls.append(len(texts)) or FakeEncoder().encode_passages(texts)
    fresh.sync(session)
    assert calls == [] and fresh.stats()["versions"] == 1


def test_duplicate_hits_of_one_entry_are_collapsed(app, session, users) -> None:
    v = approved_entry(session, users, alternates=["restart the router", "router restart how"])
    result = _ask(session, engine_mod.engine(app), ROUTER, k=5)
    assert [s.entry_id for s in result.suggestions].count(v.entry_id) == 1


def test_repeated_questions_come_from_a_cache_the_generation_invalidates(app, session, users, monkeypatch) -> None:
    eng = engine_mod.engine(app)
    approved_entry(session, users)
    retrievals: list[str] = []
    original = eng.retrieve
    monkeypatch.setattr(eng, "retrieve", lambda q, lang, **kw: retrievals.append(q) or original(q, lang, **kw))
    _ask(session, eng, ROUTER)
    _ask(session, eng, ROUTER)
    assert len(retrievals) == 1  # the second time came from the cache
    approved_entry(session, users, question="How do I pay my bill?", answer="In the app.", alternates=[])
    _ask(session, eng, ROUTER)
    assert len(retrievals) == 2  # the KB moved, so the question was matched again


def test_no_match_when_nothing_is_close(app, session, users) -> None:
    approved_entry(session, users)
    result = suggest(session=session, engine=engine_mod.engine(app),
                     request=SuggestRequest("Quelle heure est-il à Tokyo?"), record=False)
    assert result.outcome == "no_match" and result.suggestions == []


def test_channel_variant_is_chosen_when_present(app, session, users) -> None:
    approved_entry(session, users, variants={"x": "Unplug it, wait 30s, plug in."})
    eng = engine_mod.engine(app)
    assert _ask(session, eng, ROUTER, channel="twitter").suggestions[0].answer == "Unplug it, wait 30s, plug in."
    web = _ask(session, eng, ROUTER, channel="facebook").suggestions[0]
    assert web.channel == "web" and web.answer.startswith("Unplug the router")


def test_language_routing_settings() -> None:
    assert parse_lang_encoders("", "auto") == {"en": "minilm+e5", "*": "e5"}
    assert parse_lang_encoders("he=e5,en=fake", "minilm") == {"*": "minilm", "he": "e5", "en": "fake"}


def test_an_ensemble_scores_the_weighted_mean_of_its_models() -> None:
    import numpy as np

    from suggest.matching.encoders import EnsembleEncoder, FakeEncoder
    from suggest.matching.fusion import dense_scale

    a, b = FakeEncoder(dim=64), FakeEncoder(dim=128)
    b.cosine_range = (0.5, 0.9)
    ens = EnsembleEncoder([(a, 1.0), (b, 3.0)])
    q, p = "restart the router", "how do I restart my router"
    expected = 0.25 * dense_scale(float(a.encode_queries([q])[0] @ a.encode_passages([p])[0]), a.cosine_range) + \
        0.75 * ((float(b.encode_queries([q])[0] @ b.encode_passages([p])[0]) - 0.5) / 0.4)
    got = float(ens.encode_queries([q])[0] @ ens.encode_passages([p])[0])
    assert np.isclose(got - ens.cosine_range[0], expected, atol=1e-5)
    assert ens.encode_queries([q]).shape == (1, 192)


def test_a_learned_wording_is_encoded_as_a_question_and_only_its_entry_again(app, session, users, monkeypatch) -> None:
    from kb import phrasings

    eng = engine_mod.engine(app)
    v = approved_entry(session, users)
    approved_entry(session, users, question="How do I pay my bill?", answer="In the app.", alternates=[])
    eng.sync(session)
    fake = eng.encoder_for("en")
    as_passages: list[list[str]] = []
    as_questions: list[list[str]] = []
    passages, queries = fake.encode_passages, fake.encode_queries
    monkeypatch.setattr(fake, "encode_passages", lambda texts: as_passages.append(list(texts)) or passages(texts))
    monkeypatch.setattr(fake, "encode_queries", lambda texts: as_questions.append(list(texts)) or queries(texts))
    candidate = phrasings.propose(session=session, actor=users["editor"], entry_id=v.entry_id, text="wifi box dead")
    phrasings.accept(session=session, actor=users["approver"], phrasing_id=candidate.id)
    eng.sync(session)  # in the same long-lived session that indexed the entry before it had the phrasing
    # The entry's own texts come from the cache; the new wording is encoded once, the way questions are.
    assert as_passages == [] and as_questions == [["wifi box dead"]]
    assert _ask(session, eng, "wifi box dead").suggestions[0].entry_id == v.entry_id
    assert eng.stats()["versions"] == 2


def test_a_wording_pr_also_made_an_alternate_is_matched_as_pr_wrote_it(app, session, users, monkeypatch) -> None:
    from kb import phrasings

    eng = engine_mod.engine(app)
    v = approved_entry(session, users)
    candidate = phrasings.propose(session=session, actor=users["editor"], entry_id=v.entry_id, text="wifi box dead")
    phrasings.accept(session=session, actor=users["approver"], phrasing_id=candidate.id)
    # PR later writes the same wording into the entry itself: from then on it is PR's text, at full weight.
    edited = service.edit(session=session, actor=users["editor"], entry_id=v.entry_id, base_version_id=v.id,
                          base_row_version=v.row_version, draft=make_draft(alternates=["wifi box dead"]))
    service.submit(session=session, actor=users["editor"], version_id=edited.id)
    service.approve(session=session, actor=users["approver"], version_id=edited.id)
    fake = eng.encoder_for("en")
    as_questions: list[list[str]] = []
    queries = fake.encode_queries
    monkeypatch.setattr(fake, "encode_queries", lambda texts: as_questions.append(list(texts)) or queries(texts))
    eng.sync(session)
    assert as_questions == []


def test_a_retired_answer_is_never_served_again_even_from_the_answer_cache(app, session, users) -> None:
    eng = engine_mod.engine(app)
    v = approved_entry(session, users)
    eng.sync(session)
    assert _ask(session, eng, ROUTER).suggestions[0].entry_id == v.entry_id  # now cached, head and answer
    service.retire(session=session, actor=users["approver"], entry_id=v.entry_id, reason="Offer over.")
    again = _ask(session, eng, ROUTER)
    assert again.suggestions == [] and again.outcome == "no_match"


def test_what_a_suggestion_shows_comes_from_the_index_at_its_generation(app, session, users, monkeypatch) -> None:
    """A question that read the generation the index holds finds its head in the worker's copy of each version,
    read by sync at that generation: no database read per question. A change to what a suggestion shows without
    a new version (here a new draft files the entry under another category) reaches the next question."""
    from kb import suggestable

    eng = engine_mod.engine(app)
    eng._cache_size = 0  # no answer cache: every question is matched and its head looked up
    v = approved_entry(session, users)
    reads: list[list[int]] = []
    original = suggestable.suggestable_rows
    monkeypatch.setattr(suggestable, "suggestable_rows",
                        lambda **kw: reads.append(list(kw["version_ids"])) or original(**kw))
    first = _ask(session, eng, ROUTER)
    again = _ask(session, eng, "router restart please")
    assert reads == [] and first.suggestions[0].entry_id == again.suggestions[0].entry_id == v.entry_id
    assert (first.suggestions[0].approved_by, first.suggestions[0].category) == ("Approver", "technical")
    service.edit(session=session, actor=users["editor"], entry_id=v.entry_id, base_version_id=v.id,
                 base_row_version=v.row_version, draft=make_draft(category="billing"))
    moved = _ask(session, eng, ROUTER)
    assert reads == [] and (moved.suggestions[0].version, moved.suggestions[0].category) == (1, "billing")


def test_a_question_on_another_generation_than_the_index_reads_its_head_itself(app, session, users) -> None:
    """The worker's copy answers only for the generation the index holds: a question whose session read another
    (the index already caught up with a withdrawal it cannot see, say) reads its head from its own session."""
    from kb import suggestable

    eng = engine_mod.engine(app)
    eng._cache_size = 0
    v = approved_entry(session, users)
    held = eng.sync(session)
    assert eng.served(held, [v.id]) == {v.id: suggestable.Served.of(v)}
    eng.generation = held + 1  # as if another thread had applied a change this session cannot see yet
    assert eng.served(held, [v.id]) is None
    got = _ask(session, eng, ROUTER)
    assert got.suggestions[0].entry_id == v.entry_id and got.suggestions[0].approved_by == "Approver"


def test_a_question_that_read_an_older_generation_fills_no_cache(app, session, users) -> None:
    # On SQLite a question's transaction may have begun before another thread caught the index up: what it reads
    # belongs to the older generation and must not be kept under the newer one.
    eng = engine_mod.engine(app)
    approved_entry(session, users)
    held = eng.sync(session)
    eng.kept(held, "shown", dict)["probe"] = "kept"
    assert eng.kept(held, "shown", dict)["probe"] == "kept"
    older = held - 1
    eng.kept(older, "shown", dict)["stale"] = "not kept"
    eng.remember(older, ("q",), "stale answer")
    assert "stale" not in eng.kept(held, "shown", dict) and eng.cached(older, ("q",)) is None
    eng.generation = held + 1  # as if another thread had caught up with a change this session cannot see yet
    assert eng.sync(session) == held and eng.generation == held + 1  # the index never steps back


def test_the_words_are_searched_while_the_question_is_encoded(app, session, users, monkeypatch) -> None:
    """The encode runs on an encode thread: the asking thread reads the red-flag words and searches the lexical
    index before it waits for the vector, and the answer is the one it would be otherwise."""
    asked = "My router needs a restart, how?"
    eng = engine_mod.engine(app)
    entry = approved_entry(session, users)
    encoder = eng.encoder_for("en")
    searched = threading.Event()
    seen_while_encoding: list[bool] = []
    encode, lexical_hits = encoder.encode_queries, eng.lexical_hits

    def held_encode(texts):
        if list(texts) == [asked]:  # not the red-flag rules' examples, encoded once per generation
            seen_while_encoding.append(searched.wait(5))  # True only if the words were searched meanwhile
        return encode(texts)

    def search_words(question, lang, k=20):
        hits = lexical_hits(question, lang, k)
        searched.set()
        return hits

    monkeypatch.setattr(encoder, "encode_queries", held_encode)
    monkeypatch.setattr(eng, "lexical_hits", search_words)
    result = _ask(session, eng, asked)
    assert seen_while_encoding == [True]
    assert result.suggestions and result.suggestions[0].entry_id == entry.entry_id


def test_a_question_whose_database_read_fails_costs_no_encode(app, session, users, monkeypatch) -> None:
    eng = engine_mod.engine(app)
    approved_entry(session, users)
    _ask(session, eng, ROUTER)
    batcher = eng.queries_for("en").batcher
    encoded = batcher.encoded

    def gone(_session, progress=None):
        raise RuntimeError("database went away")

    monkeypatch.setattr(eng, "sync", gone)
    for i in range(3):
        with pytest.raises(RuntimeError, match="went away"):
            _ask(session, eng, f"a question never asked before, number {i}")
    time.sleep(0.2)  # an encode started on an encode thread would have finished by now
    assert batcher.encoded == encoded


def test_a_sync_just_after_a_retrieval_leaves_its_evidence_whole(app, session, users) -> None:
    """What a retrieval read under the engine's lock is its own: another worker thread's sync that retires a
    candidate the moment the lock is released takes none of its per-text scores away."""
    eng = engine_mod.engine(app)
    version = approved_entry(session, users, question=ROUTER, answer="Unplug it.", alternates=["router reboot"])
    eng.sync(session)
    words = eng.lexical_hits(ROUTER, "en")
    qvec, _ = eng.encode_query(ROUTER, "en")

    class SyncAfterRelease:
        """The engine's lock, with another thread's sync landing right after the first release."""

        def __init__(self) -> None:
            self.lock, self.armed = threading.RLock(), True

        def __enter__(self) -> None:
            self.lock.__enter__()

        def __exit__(self, *exc: object) -> None:
            self.lock.__exit__(*exc)
            if self.armed:
                self.armed = False
                eng._remove(version.id)  # what sync does for a retired version, under the lock

    eng._lock = SyncAfterRelease()  # type: ignore[assignment]
    retrieval = eng.retrieve(ROUTER, "en", words=words, query=qvec)
    cand = {c.version_id: c for c in retrieval.candidates}[version.id]
    texts = retrieval.text_scores(version.id)
    assert len(texts) == 3  # question, alternate, question + answer: in the order the confidence model reads them
    assert cand.dense == pytest.approx(max(texts))  # a candidate's dense score is its best text's
