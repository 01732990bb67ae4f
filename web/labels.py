"""English names (catalogue msgids) for the codes the interface shows: statuses, roles, channels, kinds..."""
from __future__ import annotations


def N_(text: str) -> str:  # noqa: N802 - the gettext convention for "mark for extraction, translate later"
    """Mark `text` for the catalogue without translating it here."""
    return text


LABELS: dict[str, dict[str, str]] = {
    "status": {"draft": N_("draft"), "in_review": N_("in review"), "approved": N_("approved"),
               "rejected": N_("rejected"), "superseded": N_("superseded"), "retired": N_("retired")},
    "role": {"agent": N_("agent"), "editor": N_("editor"), "approver": N_("approver"), "admin": N_("admin")},
    "channel": {"web": N_("Web"), "x": N_("X / Twitter"), "facebook": N_("Facebook"), "instagram": N_("Instagram"),
                "email": N_("Email")},
    "kind": {"legal": N_("legal"), "press": N_("press"), "safety": N_("safety"), "privacy": N_("privacy"),
             "discrimination": N_("discrimination"), "protest": N_("protest"), "self_harm": N_("self harm"),
             "custom": N_("custom")},
    "lang": {"he": N_("Hebrew"), "en": N_("English"), "ar": N_("Arabic"), "ru": N_("Russian")},
    "sort": {"id": N_("number"), "question": N_("question"), "review_by": N_("review by"), "updated": N_("updated")},
    "scope": {"suggest": N_("suggest"), "feedback": N_("feedback"), "read": N_("read")},
    "notifier": {"webhook": N_("webhook"), "email": N_("e-mail")},
    "delivery": {"pending": N_("pending"), "sent": N_("sent"), "failed": N_("failed")},
    "handoff": {"escalation": N_("escalation"), "no_match": N_("no approved answer"), "sales_lead": N_("sales lead"),
                "service_case": N_("service case"), "other": N_("other")},
    "import": {"create": N_("new"), "update": N_("changed"), "unchanged": N_("unchanged")},
    "outcome": {"answer": N_("answered"), "no_match": N_("no match"), "escalate": N_("escalated"),
                "met": N_("met"), "missed": N_("missed"), "open": N_("open"),
                "in_time": N_("in time"), "late": N_("late"), "no_reply": N_("no reply yet")},
    "audit": {"create": N_("created"), "edit": N_("edited"), "submit": N_("submitted"), "withdraw": N_("withdrawn"),
              "approve": N_("approved"), "reject": N_("rejected"), "retire": N_("retired"),
              "supersede": N_("superseded"), "import": N_("imported"), "user_create": N_("user created"),
              "user_update": N_("user changed"), "apikey_create": N_("API key created"),
              "apikey_revoke": N_("API key revoked"), "contact_add": N_("contact added"),
              "contact_on_call": N_("on-call changed"), "contact_remove": N_("contact removed"),
              "category_update": N_("category changed"), "red_flag_rule_save": N_("red-flag rule saved"),
              "crisis_start": N_("crisis started"), "crisis_end": N_("crisis ended"),
              "inquiry_taken": N_("conversation taken"), "inquiry_resolved": N_("conversation resolved"),
              "unanswered_dismiss": N_("unanswered dismissed"), "language": N_("language changed"),
              "phrasing_propose": N_("phrasing proposed"), "phrasing_accept": N_("phrasing accepted"),
              "phrasing_reject": N_("phrasing turned down")},
    "phrasing_source": {"picked": N_("agents picked it"), "unanswered": N_("added from unanswered")},
    "phrasing_status": {"candidate": N_("waiting for a decision"), "accepted": N_("matched"),
                        "rejected": N_("turned down")},
}


def label(group: str, code: str | None) -> str:
    """Return the English name of `code` in `group` (the code itself if it has none)."""
    if code is None:
        return "-"
    return LABELS.get(group, {}).get(str(code), str(code).replace("_", " "))


# Fixed sentences raised or flashed by code that does not translate them itself (domain errors from kb, messages of
# console pages); the templates translate them where they are shown.
KNOWN_MESSAGES = (
    N_("a phrasing needs 1 to 1000 characters"), N_("there is no such entry"),
    N_("this entry has no approved version to match a phrasing to"), N_("the entry already has this phrasing"),
    N_("this wording has been proposed for this entry already"), N_("there is no such phrasing"),
    N_("someone decided on this phrasing first"), N_("proposing a phrasing needs the editor role"),
    N_("deciding on a phrasing needs the approver role"),
    N_("you proposed this phrasing; another approver must accept it"),
    N_("importing as approved needs an approver"), N_("that import is no longer available; upload the file again"),
    N_("that import was prepared by someone else"), N_("the file is larger than 5 MB"),
    N_("the file is not UTF-8 text"), N_("crisis mode needs an approver"),
    N_("nobody approves their own draft; ask another approver"), N_("red-flag rules are changed by approvers"),
    N_("Red-flag rules are changed by approvers."),
    N_("someone else changed this category first; reload to see their change"),
    N_("someone else changed this rule first; reload to see their change"),
    N_("someone else saved this first; reload to see their change"),
    N_("someone else saved this version first; reload to see their change"),
    N_("this version changed since you opened it; reload and try again"), N_("a contact needs a name"),
    N_("a crisis needs a name and a holding statement"), N_("a rule needs at least one keyword or pattern"),
    N_("a username has 2 to 64 letters, digits or . _ @ -"), N_("every alternate phrasing needs 1 to 1000 characters"),
    N_("response times must be between one minute and a few weeks"),
    N_("say what the crisis covers: a category, entries, or a pattern"), N_("severity is 1 to 5"),
    N_("the answer is empty"), N_("the question is empty"), N_("the entry already has this phrasing"),
    N_("you cannot remove your own admin rights; ask another admin"), N_("Crisis mode is off."),
    N_("Crisis mode is on: matching questions now get the holding statement."), N_("Notifier added."),
    N_("Rule saved; it applies to the next question."), N_("Response times per department"),
    N_("This field is required."), N_("not an e-mail address"),
    # Form labels the console shows through _(field.label.text).
    N_("Question"), N_("Other ways customers ask it (one per line)"), N_("Approved answer"),
    N_("X / Twitter (280 weighted characters)"), N_("Facebook"), N_("Instagram"), N_("Email"),
    N_("Placeholders (comma-separated names used as {name})"), N_("Language"), N_("Category"),
    N_("Owner department"), N_("Review by"), N_("Tags (comma-separated)"), N_("Entries (numbers, comma-separated)"),
    N_("Pattern (regular expression)"), N_("Keywords (one per line)"), N_("Patterns (one per line)"),
    N_("For user"), N_("What it is for"), N_("Scopes"), N_("Answer"), N_("Alternates"), N_("Variants"),
    N_("Placeholders"), N_("Tags"), N_("Review_by"), N_("Comment"),
)
