// The one rendering of a vetted suggestion, the red-flag box and the no-match box, shared by the agent page and
// the browser extension (whose build copies this file), plus X's weighted length, which kb/content.py mirrors.
// The caller's catalogue decides every word through t(key, values), which fills {name} from values and leaves a
// {name} it was not given as it is. User and knowledge-base text goes in as text (textContent, value), never as
// markup, and every element holding it carries dir="auto".

export const X_LIMIT = 280;
const URL_WEIGHT = 23;
// X counts these code points as one and everything else (CJK, emoji...) as two.
const LIGHT = [[0, 4351], [8192, 8205], [8208, 8223], [8242, 8247]];
// Spelled out, not \S or the i flag: JavaScript and Python disagree on both, and the two counts must agree.
const URL = /[Hh][Tt][Tt][Pp][Ss]?:\/\/[^\t-\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]+/g;

// Every word the renderers ask for; each catalogue (agent page, extension) must hold all of them.
// Also asked for: the confidence levels (high, medium, low) and kind_<red-flag kind>.
export const KEYS = [
  "high", "medium", "low", "approvedLabel", "approvedValue", "unknownApprover", "reviewByLabel", "noReviewBy",
  "overdue", "categoryLabel", "routeLabel", "noRoute", "onCall", "sla", "xCount", "fill", "copy", "used", "edited",
  "notHelpful", "recorded", "notRecorded", "escalate", "looksLike", "handTo", "inHouseTeam", "theyAnswer",
  "holding", "copyHolding", "noMatch", "noMatchHint", "sendToPr", "sentToPr", "notSent", "fillOne",
  "emptyPlaceholder",
];

const FEEDBACK = [["used", "used"], ["edited", "edited"], ["not_helpful", "notHelpful"]];

/** Return the length X gives `text`: NFC first, most scripts 1, CJK and emoji 2, every URL 23. */
export function xLength(text) {
  const normal = String(text).normalize("NFC");
  let total = URL_WEIGHT * (normal.match(URL) || []).length;
  for (const part of normal.split(URL)) {
    for (const ch of part) {
      const cp = ch.codePointAt(0);
      total += LIGHT.some(([lo, hi]) => cp >= lo && cp <= hi) ? 1 : 2;
    }
  }
  return total;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function userText(tag, className, text) {
  const node = el(tag, className, text);
  node.dir = "auto";
  node.setAttribute("translate", "no"); // someone's own words: shown as written, in their language
  return node;
}

// A name the server gives in the interface language (category, department): isolated, but part of the interface.
function nameText(text) {
  const node = el("bdi", null, text);
  node.dir = "auto";
  return node;
}

function button(label, className, onClick) {
  const node = el("button", className, label);
  node.type = "button";
  if (onClick) node.addEventListener("click", onClick);
  return node;
}

function word(t, key, fallback) {
  const text = t(key);
  return text && text !== key ? text : fallback;
}

// Append a catalogue sentence to node with each {name} in `names` filled by user text in its own <bdi>, so a name
// in one script cannot reorder the sentence around it in the other. t leaves placeholders it was not given as-is.
function sentence(node, text, names) {
  text.split(/\{(\w+)\}/).forEach((part, i) => {
    if (i % 2 === 0) {
      if (part) node.appendChild(document.createTextNode(part));
    } else {
      node.appendChild(part in names ? userText("bdi", null, names[part]) : document.createTextNode("{" + part + "}"));
    }
  });
  return node;
}

function reason(err, explain) {
  return explain ? explain(err) : (err && err.message) || String(err);
}

/** Append each contact isolated in its own <bdi>, so a phone number keeps its order inside right-to-left text. */
export function appendContacts(node, contacts, t) {
  (contacts || []).forEach((c, i) => {
    if (i) node.appendChild(document.createTextNode("; "));
    const parts = [c.name + (c.on_call ? " (" + t("onCall") + ")" : "")];
    if (c.phone) parts.push(c.phone);
    if (c.email) parts.push(c.email);
    node.appendChild(userText("bdi", null, parts.join(" · ")));
  });
  return node;
}

// A date (YYYY-MM-DD...) in the page language's short form, kept left to right inside right-to-left text.
function day(iso) {
  const node = el("bdi", "date");
  node.dir = "ltr";
  const [y, m, d] = String(iso).slice(0, 10).split("-").map(Number);
  const date = new Date(Date.UTC(y, m - 1, d));
  node.textContent = Number.isNaN(date.getTime()) ? String(iso) : new Intl.DateTimeFormat(
    document.documentElement.lang || "en", { dateStyle: "short", timeZone: "UTC" }).format(date);
  return node;
}

function slaText(sla, t) {
  return t("sla", { first: sla.first_response_minutes, hours: Math.round(sla.resolution_minutes / 60) });
}

function provenance(s, t) {
  const dl = el("dl", "provenance");
  const row = (label) => {
    dl.appendChild(el("dt", null, t(label)));
    return dl.appendChild(el("dd"));
  };
  const approved = row("approvedLabel");
  approved.className = "approved";
  sentence(approved, t("approvedValue", { version: s.version }), { who: s.approved_by || t("unknownApprover") });
  if (s.approved_at) {
    approved.appendChild(document.createTextNode(", "));
    approved.appendChild(day(s.approved_at));
  }
  const review = row("reviewByLabel");
  review.className = "review-by";
  if (s.review_by) review.appendChild(day(s.review_by));
  else review.textContent = t("noReviewBy");
  if (s.review_by && new Date(s.review_by) < new Date(new Date().toDateString())) {
    review.appendChild(el("span", "overdue", " · " + t("overdue")));
  }
  const category = row("categoryLabel");
  category.className = "category";
  category.appendChild(nameText(s.category_name || s.category || "-"));
  const route = row("routeLabel");
  route.className = "route";
  if (s.route) {
    route.appendChild(nameText(s.route.department));
    if ((s.route.contacts || []).length) {
      route.appendChild(document.createTextNode(": "));
      appendContacts(route, s.route.contacts, t);
    }
    if (s.route.sla) route.appendChild(document.createTextNode(" · " + slaText(s.route.sla, t)));
  } else {
    route.textContent = t("noRoute");
  }
  return dl;
}

/**
 * Build one suggestion card and return {el, suggestion, copyButton, state, text, refresh, copy}.
 * options: t(key, values); index (shown as 1-based when given); isX() whether the reply goes to X;
 * finish(text) the text as sent (e.g. with a signature); copyKey a keyboard hint for the copy button;
 * onCopy(card); onFeedback(action, text) returning a promise; explain(err) an error in words.
 */
export function renderSuggestion(s, { t, index, isX = () => false, finish = (text) => text, copyKey, onCopy,
  onFeedback, explain }) {
  const node = el("article", "suggestion card");
  node.tabIndex = -1;
  const head = el("header");
  if (index !== undefined) head.appendChild(el("span", "index", String(index + 1)));
  head.appendChild(el("span", "confidence " + s.confidence, word(t, s.confidence, s.confidence)));
  head.appendChild(userText("span", "entry-question", s.question));
  node.appendChild(head);

  const holder = node.appendChild(el("div", "placeholders"));
  const inputs = (s.placeholders || []).map((name) => {
    // The name is the knowledge base's own word: shown as written, isolated, inside the catalogue's sentence.
    const label = sentence(el("label"), word(t, "fillOne", "{name}"), { name: name.replace(/_/g, " ") });
    label.lastChild.setAttribute("translate", "no");
    label.appendChild(document.createTextNode(" "));
    const input = el("input");
    input.name = name;
    input.dir = "auto";
    input.required = true;
    label.appendChild(input);
    holder.appendChild(label);
    return input;
  });
  const answer = node.appendChild(userText("p", "answer"));
  const length = node.appendChild(el("p", "length"));
  node.appendChild(provenance(s, t));

  const footer = node.appendChild(el("footer"));
  const copyButton = footer.appendChild(button(t("copy"), "primary copy"));
  if (copyKey) {
    copyButton.appendChild(document.createTextNode(" "));
    copyButton.appendChild(el("kbd", null, copyKey));
  }
  const feedbackButtons = FEEDBACK.map(([action, key]) => {
    const b = footer.appendChild(button(t(key), "feedback"));
    b.dataset.action = action;
    return [b, action, key];
  });
  const state = footer.appendChild(el("span", "feedback-state"));
  state.setAttribute("role", "status");

  const text = () => finish(inputs.reduce((out, i) => out.split("{" + i.name + "}").join(i.value.trim()), s.answer));
  const card = { el: node, suggestion: s, copyButton, state, text };
  // The preview shows an empty placeholder as a marked gap, so it cannot silently vanish from the reply.
  const preview = () => {
    answer.replaceChildren();
    const byName = Object.fromEntries(inputs.map((i) => [i.name, i.value.trim()]));
    s.answer.split(/\{(\w+)\}/).forEach((part, i) => {
      if (i % 2 === 0) answer.appendChild(document.createTextNode(part));
      else if (!(part in byName)) answer.appendChild(document.createTextNode("{" + part + "}"));
      else if (byName[part]) answer.appendChild(document.createTextNode(byName[part]));
      else {
        const gap = el("mark", "missing", "{" + part + "}");
        gap.title = word(t, "emptyPlaceholder", "{name}").replace("{name}", part);
        answer.appendChild(gap);
      }
    });
    const tail = finish("");
    if (tail) answer.appendChild(document.createTextNode(tail));
  };
  card.refresh = () => {
    const full = text();
    preview();
    const missing = inputs.filter((i) => !i.value.trim()).map((i) => i.name);
    const toX = s.channel === "x" || isX();
    const n = xLength(full);
    length.textContent = toX ? t("xCount", { n }) : "";
    length.classList.toggle("over", toX && n > X_LIMIT);
    copyButton.disabled = missing.length > 0 || (toX && n > X_LIMIT);
    copyButton.title = missing.length ? t("fill", { names: missing.join(", ") }) : "";
  };
  inputs.forEach((i) => i.addEventListener("input", card.refresh));
  // Copying is how an answer reaches the customer, so it counts as used; a refused copy (false) does not.
  card.copy = async () => {
    if (!onCopy || (await onCopy(card)) === false) return;
    if (onFeedback) onFeedback("copied", text()).catch(() => {});
  };
  copyButton.addEventListener("click", () => card.copy());
  for (const [b, action, key] of feedbackButtons) {
    b.addEventListener("click", async () => {
      try {
        await onFeedback(action, action === "not_helpful" ? undefined : text());
        state.textContent = t("recorded", { action: t(key) });
      } catch (err) {
        state.textContent = t("notRecorded", { detail: reason(err, explain) });
      }
    });
  }
  card.refresh();
  return card;
}

/** Build the red-flag box: whom to hand the message to, and the holding statement with a copy button. */
export function renderEscalation(e, { t, onCopy }) {
  const box = el("section", "escalation card");
  box.setAttribute("role", "alert");
  box.appendChild(el("h2", null, t("escalate")));
  const kind = word(t, "kind_" + e.kind, String(e.kind || "").replace(/_/g, " "));
  box.appendChild(el("p", "kind", t("looksLike", { kind })));
  const handTo = sentence(box.appendChild(el("p", "hand-to")), t("handTo"), { dept: e.department || t("inHouseTeam") });
  for (const b of handTo.querySelectorAll("bdi")) b.removeAttribute("translate"); // a department, in the page language
  if ((e.contacts || []).length) appendContacts(box.appendChild(el("p", "contacts")), e.contacts, t);
  if (e.sla) box.appendChild(el("p", "deadline", t("theyAnswer", { sla: slaText(e.sla, t) })));
  box.appendChild(el("p", null, t("holding")));
  box.appendChild(userText("blockquote", "holding", e.holding_statement));
  box.appendChild(button(t("copyHolding"), "primary copy", () => onCopy(e.holding_statement)));
  return box;
}

/** Build the no-match box: do not improvise, whom to ask, and one button that sends the question to PR. */
export function renderNoMatch({ contacts }, { t, onSendToPr, explain }) {
  const box = el("section", "no-match card");
  box.appendChild(el("h2", null, t("noMatch")));
  box.appendChild(el("p", null, t("noMatchHint")));
  if ((contacts || []).length) appendContacts(box.appendChild(el("p", "contacts")), contacts, t);
  const state = el("span", "feedback-state");
  state.setAttribute("role", "status");
  const send = button(t("sendToPr"), "primary", async () => {
    try {
      await onSendToPr();
      state.textContent = t("sentToPr");
      send.disabled = true;
    } catch (err) {
      state.textContent = t("notSent", { detail: reason(err, explain) });
    }
  });
  box.appendChild(send);
  box.appendChild(state);
  return box;
}
