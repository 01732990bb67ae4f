"""The words the agent page's script shows, by key, in English; the page gets them in its language."""
from __future__ import annotations

from web.i18n import translate

# Keys are the ones static/js/suggestions.js and static/js/search.js ask for; {name} is filled in by the script.
PAGE_TEXT: dict[str, str] = {
    "high": "High confidence", "medium": "Medium confidence", "low": "Low confidence",
    "approvedLabel": "Approved", "approvedValue": "{who}, version {version}", "unknownApprover": "unknown",
    "reviewByLabel": "Review by", "noReviewBy": "none set", "overdue": "overdue", "categoryLabel": "Category",
    "routeLabel": "Route to", "noRoute": "no hand-over needed", "onCall": "on call",
    "sla": "first response within {first} min, resolution within {hours} h", "xCount": "{n} / 280 characters on X",
    "fill": "Fill in: {names}", "copy": "Copy", "used": "Used", "edited": "Edited before sending",
    "notHelpful": "Not helpful", "recorded": "Thanks, recorded: {action}", "notRecorded": "Not recorded: {detail}",
    "escalate": "Red flag: do not answer from the library", "looksLike": "This message looks like: {kind}.",
    "handTo": "Hand it to {dept}.", "inHouseTeam": "the in-house team", "theyAnswer": "They answer: {sla}",
    "holding": "Holding statement you may post:", "copyHolding": "Copy holding statement",
    "noMatch": "No approved answer for this question",
    "noMatchHint": "Do not improvise a reply. Ask the in-house team.",
    "sendToPr": "Send to PR as a missing answer", "sentToPr": "Sent to PR's queue.", "notSent": "Not sent: {detail}",
    "kind_legal": "legal", "kind_press": "press", "kind_safety": "safety", "kind_privacy": "privacy",
    "kind_discrimination": "discrimination", "kind_protest": "protest", "kind_self_harm": "self harm",
    "kind_custom": "custom",
    # The page's own status lines.
    "requestFailed": "request failed ({status})", "cannotCopyYet": "This answer cannot be copied yet.",
    "copiedAnswer": "Copied answer {n}.", "copiedState": "Copied",
    "copyRefused": "The browser did not allow copying: select the text and copy it by hand.",
    "copiedHolding": "Copied the holding statement.", "copyRefusedShort": "The browser did not allow copying.",
    "emptyQuestion": "Paste a customer's message first.", "searching": "Searching approved answers…",
    "escalateStatus": "Red flag: escalate, do not answer from the library.", "noMatchStatus": "No approved answer.",
    "answersIn": "{n} approved answer(s) in {ms} ms.", "searchFailed": "Search failed: {detail}",
}


def page_text(lang: str) -> dict[str, str]:
    """Return the agent page's words in `lang`."""
    return {key: translate(text, lang) for key, text in PAGE_TEXT.items()}
