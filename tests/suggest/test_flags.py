"""Red flags: default rules escalate legal, press, safety, privacy, abuse, protest and self-harm in both
languages, while angry routine complaints get ordinary answers."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from kb import redflags
from kb.default_rules import DEFAULT_RULES
from kb.models import RedFlagRule
from suggest import engine as engine_mod
from suggest.escalation import detect as flags
from suggest.service import SuggestRequest, suggest

LABELLED = Path(__file__).resolve().parents[2] / "bench" / "data" / "redflags.jsonl"


def _rule(**kw) -> flags.CompiledRule:
    values = {"id": 1, "kind": "custom", "name": "t", "lang": "he", "keywords": [], "patterns": [], "severity": 2}
    values.update(kw)
    return flags.compile_rule(RedFlagRule(**values))


def _default_rules() -> list:
    return [flags.compile_rule(RedFlagRule(id=i, kind=r["kind"], lang=r["lang"], severity=r["severity"],
                                           keywords=r["keywords"], patterns=r.get("patterns", [])))
            for i, r in enumerate(DEFAULT_RULES)]


def _kind(message: str) -> str | None:
    """Return the kind of the most severe default rule the message trips, or None."""
    hit = flags.detect(message, _default_rules())
    return hit.kind if hit else None


def test_hebrew_keywords_match_through_prefixes_and_final_letters() -> None:
    rule = _rule(keywords=["עורך דין"])
    assert flags.detect("אני הולך לעורך הדין שלי", [rule])
    assert flags.detect("ולעורכי דין", [rule]) is None  # a different word, not a prefix form
    article = _rule(keywords=["הרשות להגנת הצרכן"])
    assert flags.detect("פניתי לרשות להגנת הצרכן", [article])


def test_a_rule_prefix_is_kept() -> None:
    rule = _rule(keywords=["לתקשורת"])
    assert flags.detect("אפנה לתקשורת", [rule])
    assert flags.detect("יש בעיות תקשורת בראוטר", [rule]) is None


def test_english_keywords_are_stemmed_and_patterns_folded() -> None:
    rule = _rule(lang="en", keywords=["lawyer"], patterns=[r"\bsu(e|ing)\b"])
    assert flags.detect("Talk to my LAWYERS", [rule])
    assert flags.detect("I am suing you", [rule])
    assert flags.detect("I'm pursuing a refund", [rule]) is None


def test_the_most_severe_rule_wins() -> None:
    low = _rule(id=1, kind="press", lang="en", keywords=["journalist"], severity=3)
    high = _rule(id=2, kind="self_harm", lang="en", keywords=["end my life"], severity=5)
    assert flags.detect("journalist here, I want to end my life", [low, high]).kind == "self_harm"


def test_an_invalid_stored_pattern_does_not_stop_detection() -> None:
    rule = _rule(lang="en", keywords=["boycott"], patterns=["(unclosed"])
    assert flags.detect("boycott them", [rule]).kind == "custom"
    assert redflags.check_pattern("(unclosed") and redflags.check_pattern(r"\bok\b") is None


def test_default_rules_cover_every_kind_in_both_languages() -> None:
    covered = {(r["kind"], r["lang"]) for r in DEFAULT_RULES}
    kinds = [k for k in redflags.KINDS if k != "custom"]
    assert covered == {(k, lang) for k in kinds for lang in ("en", "he")}


@pytest.mark.parametrize("row", [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines()],
                         ids=lambda r: r["query"][:40])
def test_default_rules_on_the_labelled_messages(app, session, row) -> None:
    result = suggest(session=session, engine=engine_mod.engine(app),
                     request=SuggestRequest(row["query"], lang=row["lang"]), record=False)
    if row["kind"]:
        assert result.outcome == "escalate" and result.escalation.kind == row["kind"]
        assert result.suggestions == [] and result.escalation.holding_statement
        assert result.escalation.department
    else:
        assert result.outcome != "escalate"


def test_example_messages_catch_wordings_no_keyword_foresaw(app, session, users) -> None:
    rule = redflags.save_rule(session=session, actor=users["approver"], rule_id=None, row_version=None, kind="custom",
                           name="Fraud", lang="en", keywords=["zzzz-never-typed"], patterns=[], department="security",
                           holding_statement="Our security team will call you.", severity=4, active=True)
    rule.examples = ["somebody ordered a phone line in my name without asking me"]
    session.commit()  # a change to a rule moves the KB generation by itself
    eng = engine_mod.engine(app)
    hit = suggest(session=session, engine=eng, request=SuggestRequest(
        "somebody ordered a phone line in my name without my permission"), record=False)
    assert hit.outcome == "escalate" and hit.escalation.rule_id == rule.id
    routine = suggest(session=session, engine=eng, request=SuggestRequest("how do I order a new phone line"),
                      record=False)
    assert routine.outcome != "escalate"


def test_the_rule_whose_examples_are_closest_takes_the_message(app, session, users) -> None:
    def rule(name: str, examples: list[str]):
        saved = redflags.save_rule(session=session, actor=users["approver"], rule_id=None, row_version=None,
                                   kind="custom", name=name, lang="en", keywords=[f"zzzz-{name.lower()}"], patterns=[],
                                   department="security", holding_statement="We will call you.", severity=4,
                                   active=True)
        saved.examples = examples
        return saved

    fraud = rule("Fraud", ["somebody ordered a phone line in my name without asking me",
                           "a stranger opened an account using my identity card"])
    stalking = rule("Stalking", ["a man from your shop keeps following me to my car every evening"])
    session.commit()
    eng = engine_mod.engine(app)

    def taken_by(message: str) -> int | None:
        result = suggest(session=session, engine=eng, request=SuggestRequest(message), record=False)
        return result.escalation.rule_id if result.outcome == "escalate" else None

    assert taken_by("a man from your shop keeps following me to my car every single evening") == stalking.id
    assert taken_by("somebody ordered a phone line in my name without asking me first") == fraud.id
    assert taken_by("a stranger opened an account using my identity card number") == fraud.id


def test_a_newspaper_name_that_is_also_a_word_does_not_flag_routine_questions() -> None:
    """"הארץ" is a newspaper, but "בחוץ לארץ" (abroad) is a roaming question, not the press."""
    rules = _default_rules()
    assert flags.detect("שימוש בטלפון בחוץ לארץ", rules) is None
    assert flags.detect("אני כתב הארץ ומבקש תגובה", rules).kind == "press"


def test_a_backtracking_pattern_cannot_hold_a_question() -> None:
    """(x+)+y takes Python's engine seconds on 25 characters and doubles per character; RE2 stays linear."""
    import time

    rule = _rule(lang="en", patterns=["(x+)+y"])
    started = time.perf_counter()
    assert flags.detect("x" * 25, [rule]) is None
    assert flags.detect("x" * 4000, [rule]) is None
    assert time.perf_counter() - started < 0.5
    assert flags.detect("xxxy", [rule]).matched == "xxxy"


def test_word_classes_cover_every_script() -> None:
    rule = _rule(patterns=[r"(עמוד|כבל)\s\w+\sנפל"])
    assert flags.detect("כבל חשמל נפל ליד הבית", [rule])
    assert redflags.check_pattern(r"\bעורך\b")  # RE2's \b is Latin-only: refused, with the alternative named
    assert redflags.check_pattern(r"(^|\W)עורך(\W|$)") is None
    assert flags.detect("פניתי לעורך דין", [_rule(patterns=[r"(^|\W)לעורך(\W|$)"])])


@pytest.mark.parametrize("pattern", [r"(?<=my )lawyer", r"(sue)\1", "a{1000}{1000}", "x" * 501])
def test_patterns_the_linear_engine_cannot_run_are_refused_at_save(session, users, pattern) -> None:
    from kb.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        redflags.save_rule(session=session, actor=users["approver"], rule_id=None, row_version=None, kind="custom",
                        name="Bad", lang="en", keywords=[], patterns=[pattern], department=None,
                        holding_statement="Hold on.", severity=2, active=True)
    from kb import crises as crisis

    with pytest.raises(ValidationFailed):
        crisis.start(session=session, actor=users["approver"], name="Bad", holding_statement="Hold on.",
                     pattern=pattern)


def test_a_stored_pattern_the_engine_refuses_is_skipped(caplog) -> None:
    rule = _rule(lang="en", keywords=["boycott"], patterns=[r"(?<=a)b"])
    assert rule.patterns == () and flags.detect("boycott them", [rule]).kind == "custom"


@pytest.mark.parametrize("message", [
    "My lawyer needs a balance confirmation for the mortgage, how do I get one?",
    "How do I add a power of attorney for my father's account?",
    "I saw your sale in the newspaper, is it still on?",
    "I need a doctor's note for court about my sick days",
    "עורך הדין שמטפל במכירת הדירה צריך אישור שאין חוב, איך מקבלים",
    "איך מוסיפים ייפוי כוח לעורך דין על החשבון של אבא שלי?",
    "העברתי כסף לעורך הדין של הקונים ולא רואה את זה בחשבון",
    "ראיתי פרסומת בעיתון על מבצע, הוא עדיין בתוקף?",
])
def test_a_lawyer_or_a_newspaper_named_in_passing_is_not_a_red_flag_by_the_words(message) -> None:
    # Such words in routine questions are left to the classifier, which reads the whole message.
    assert _kind(message) is None


@pytest.mark.parametrize(("message", "kind"), [
    ("You'll be hearing from my lawyer about this", "legal"),
    ("I'm calling my lawyer right now", "legal"),
    ("My attorney is preparing a demand letter", "legal"),
    ("See you in court", "legal"),
    ("I'm taking this to the newspaper tomorrow", "press"),
    ("אני כבר אצל עורך דין, שיהיה לכם בהצלחה", "legal"),
    ("בודקת עם עורכת דין אם לתבוע אתכם", "legal"),
    ("קיבלתם מכתב מעורך הדין שלי?", "legal"),
    ("פניתי למשרד הבריאות ולעורך דין בנושא", "legal"),
    ("אני הולכת עם זה לעיתון", "press"),
    ("הסיפור שלי יתפרסם בסוף השבוע בעיתון המקומי", "press"),
])
def test_a_lawyer_or_a_newspaper_named_as_a_threat_is(message, kind) -> None:
    assert _kind(message) == kind


@pytest.mark.parametrize(("text", "written_out"), [
    ('פניתי לעו"ד', "פניתי לעורך דין"),
    ("העו״ד שלנו", "העורך דין שלנו"),
    ('נתראה בבימ"ש', "נתראה בבית משפט"),
    ("אני עוד מחכה", "אני עוד מחכה"),  # "more, still": no quote mark, no lawyer
    ('ת"א ודו"ח', 'ת"א ודו"ח'),  # other abbreviations are left as they are
])
def test_hebrew_abbreviations_are_written_out_before_matching(text, written_out) -> None:
    assert flags.expand_abbreviations(text) == written_out


@pytest.mark.parametrize("message", ['כבר פניתי לעו"ד, תחכו למכתב', "העו״ד שלי כבר שולח לכם מכתב"])
def test_a_lawyer_written_as_an_abbreviation_is_met_by_the_rules(message) -> None:
    hit = flags.detect(message, _default_rules())
    assert hit is not None and hit.kind == "legal"
    assert flags.detect("אני עוד מחכה לתשובה", _default_rules()) is None


def test_a_rule_written_with_the_abbreviation_means_a_lawyer_not_more() -> None:
    rule = _rule(keywords=['עו"ד'], patterns=[])
    assert flags.detect("פניתי לעו״ד בעניין", [rule])
    assert flags.detect("פניתי לעורך דין בעניין", [rule])
    assert flags.detect("אני עוד מחכה לתשובה", [rule]) is None


@pytest.mark.parametrize(("message", "kind"), [
    ("פרצו לי לחשבון באפליקציה והחליפו את הסיסמה", "privacy"),
    ("החשבון שלי באתר שלכם נפרץ אתמול בלילה", "privacy"),
    ("אתם הדלפתם את המספר שלי לחברות שיווק", "privacy"),
    ("הפרטים של הלקוחות הודלפו לטלגרם", "privacy"),
    ("קיבלתי בבית המרקחת תרופה לא נכונה", "safety"),
    ("היא קיבלה מינון כפול ממה שהרופא רשם", "safety"),
    ("They gave my son the wrong medication at the pharmacy", "safety"),
    ("אני בכיסא גלגלים ואי אפשר להיכנס לסניף שלכם", "discrimination"),
    ("My wife uses a wheelchair and there's no way to get into your branch", "discrimination"),
    # with the prefixes Hebrew attaches, services by name, and apostrophes as phones type them
    ("גיליתי שפרצו לי לחשבון באפליקציה", "privacy"),
    ("קיבלתי הודעה מוזרה ופרצו לי לחשבון", "privacy"),
    ("שמעתי על הפריצה למערכת שלכם, הפרטים שלי בסכנה?", "privacy"),
    ("נראה לי שהחשבון שלי נפרץ", "privacy"),
    ("גיליתי שהמייל שלי נפרץ אתמול", "privacy"),
    ("פרצו לי לג'ימייל ומשם לחשבון", "privacy"),
    ("פרצו לי לטלגרם", "privacy"),
    ("פרצו לי לטלפון ושלחו הודעות בשמי", "privacy"),
    ("הדליפו את הפרטים שלי לחברת גבייה", "privacy"),
    ("My wife uses a wheelchair and she can’t get into your branch", "discrimination"),
    ("Your branch isn't wheelchair accessible", "discrimination"),
])
def test_red_flags_named_by_their_verbs_and_objects_are_met(message, kind) -> None:
    assert _kind(message) == kind


@pytest.mark.parametrize("message", [
    "פרצו לי לרכב וגנבו את הארנק עם הכרטיסים, איך חוסמים?",
    "הדירה נפרצה בזמן החופשה, צריך אישור מהבנק לביטוח",
    "יש דליפה בתקרה של הסניף, שימו דלי",
    "שלחתי לעורך הדין של המוכרים את אישור המשכנתא",
    "האם הסניף ברחוב הרצל נגיש לכיסא גלגלים?",
    "Is it safe to take a double dose if I missed one?",
    "פרצו לרכב שלי והטלפון נגנב, איך חוסמים את הכרטיס?",
    "המים הדליפו לתוך הראוטר",
    "המזגן בסניף הדליף מים על הרצפה",
    "יש הדלפת מים מהתקרה בסניף",
    "שלחתי לעורך הדין שלי את אישור היתרה שביקשתם, חסרה חתימה",
    "אמא שלי בכיסא גלגלים, אי אפשר לבטל את המנוי בטלפון?",
    "אפשר לקחת מינון כפול ממה שכתוב אם שכחתי מנה?",
    "אפשר לאסוף תרופה של מישהו אחר מבית המרקחת?",
    "My father is in a wheelchair and can't reach the branch, can I pay by phone?",
    "I ordered the wrong medicine by mistake, can I get a refund?",
    "Can I take double the dose the label says if I missed one?",
    "Can I pick up someone else's prescription for my mum?",
])
def test_burglaries_pipes_and_access_questions_are_not_red_flags_by_the_words(message) -> None:
    assert _kind(message) is None
