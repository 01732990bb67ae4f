"""The words the scripts show (agent page, shared card module, extension), by key; English is the msgid."""
from __future__ import annotations

from web.labels import N_

# Keys are the ones static/js/*.js and static/extension/*.js ask for; {name} is filled in by the script.
JS_MESSAGES: dict[str, str] = {
    "high": N_("High confidence"), "medium": N_("Medium confidence"), "low": N_("Low confidence"),
    "approvedLabel": N_("Approved"), "approvedValue": N_("{who}, version {version}"),
    "unknownApprover": N_("unknown"), "reviewByLabel": N_("Review by"), "noReviewBy": N_("none set"),
    "overdue": N_("overdue"), "categoryLabel": N_("Category"), "routeLabel": N_("Route to"),
    "noRoute": N_("no hand-over needed"), "onCall": N_("on call"),
    "sla": N_("first response within {first} min, resolution within {hours} h"),
    "xCount": N_("{n} / 280 characters on X"), "fill": N_("Fill in: {names}"), "copy": N_("Copy"),
    "used": N_("Used"), "edited": N_("Edited before sending"), "notHelpful": N_("Not helpful"),
    "recorded": N_("Thanks, recorded: {action}"), "notRecorded": N_("Not recorded: {detail}"),
    "escalate": N_("Red flag: do not answer from the library"), "looksLike": N_("This message looks like: {kind}."),
    "handTo": N_("Hand it to {dept}."), "inHouseTeam": N_("the in-house team"), "theyAnswer": N_("They answer: {sla}"),
    "holding": N_("Holding statement you may post:"), "copyHolding": N_("Copy holding statement"),
    "noMatch": N_("No approved answer for this question"),
    "noMatchHint": N_("Do not improvise a reply. Ask the in-house team."),
    "sendToPr": N_("Send to PR as a missing answer"), "sentToPr": N_("Sent to PR's queue."),
    "notSent": N_("Not sent: {detail}"),
    "kind_legal": N_("legal"), "kind_press": N_("press"), "kind_safety": N_("safety"), "kind_privacy": N_("privacy"),
    "kind_discrimination": N_("discrimination"), "kind_protest": N_("protest"), "kind_self_harm": N_("self harm"),
    "kind_custom": N_("custom"),
    "fillOne": N_("Fill in {name}"), "emptyPlaceholder": N_("{name} is empty: fill it in before copying."),
    # The agent page's own status lines.
    "requestFailed": N_("request failed ({status})"), "cannotCopyYet": N_("This answer cannot be copied yet."),
    "copiedAnswer": N_("Copied answer {n}."), "copiedState": N_("Copied"),
    "copyRefused": N_("The browser did not allow copying: select the text and copy it by hand."),
    "copiedHolding": N_("Copied the holding statement."), "copyRefusedShort": N_("The browser did not allow copying."),
    "emptyQuestion": N_("Paste a customer's message first."), "searching": N_("Searching approved answers…"),
    "escalateStatus": N_("Red flag: escalate, do not answer from the library."),
    "noMatchStatus": N_("No approved answer."), "answersIn": N_("{n} approved answer(s) in {ms} ms."),
    "searchFailed": N_("Search failed: {detail}"),
    # The extension's own words.
    "title": N_("Vetted"), "ask": N_("Find answer"), "question": N_("Customer's message"),
    "paste": N_("Paste the message here"), "settings": N_("Settings"), "server": N_("Server address"),
    "key": N_("API key"), "language": N_("Interface language"), "langAuto": N_("As the browser"),
    "save": N_("Save"), "saved": N_("Saved."), "test": N_("Test connection"), "testing": N_("Testing…"),
    "connected": N_("Connected as {user} ({scopes})."), "answers": N_("{n} approved answer(s)."),
    "copied": N_("Copied."),
    "notConfigured": N_("Set the server address and API key in the settings first."),
    "unreachable": N_("The Vetted server at {server} cannot be reached. Check the address and your connection."),
    "unauthorized": N_("The API key was refused: it is wrong or has been revoked. Ask an admin for a new one."),
    "forbidden": N_("This API key may not do that ({detail})."),
    "rateLimited": N_("Too many requests. Try again in {seconds} seconds."), "failed": N_("The server said: {detail}"),
    "channel": N_("Channel"), "empty": N_("Paste or select a customer's message first."),
    "ch_web": N_("Web"), "ch_x": N_("X / Twitter"), "ch_facebook": N_("Facebook"), "ch_instagram": N_("Instagram"),
    "ch_email": N_("Email"), "scope_suggest": N_("suggest"), "scope_feedback": N_("feedback"),
    "scope_read": N_("read"),
    "keysHint": N_("Enter searches, Shift+Enter starts a new line. When answers arrive the first one is selected: "
                   "1–3 pick an answer, C copies it, / or Escape go back to the message box."),
}
