// The popup (and the window the context menu opens): ask, show vetted answers exactly as the API returns them,
// fill placeholders, copy, send feedback. All text goes in as text, never as HTML.
import { call, channelFor, loadSettings } from "./api.js";
import { applyLanguage, t } from "./i18n.js";
import { explain } from "./explain.js";

const form = document.getElementById("ask");
const box = document.getElementById("question");
const channel = document.getElementById("channel");
const status = document.getElementById("status");
const results = document.getElementById("results");
let settings = null;

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function button(label, onClick, className) {
  const node = el("button", className, label);
  node.type = "button";
  node.addEventListener("click", onClick);
  return node;
}

function setStatus(text, kind) {
  status.textContent = text;
  status.className = kind || "";
}

function weightedLength(text) {
  const light = [[0, 4351], [8192, 8205], [8208, 8223], [8242, 8247]];
  const urls = text.match(/https?:\/\/\S+/gi) || [];
  let total = 23 * urls.length;
  for (const part of text.split(/https?:\/\/\S+/i)) {
    for (const ch of part) {
      const cp = ch.codePointAt(0);
      total += light.some(([lo, hi]) => cp >= lo && cp <= hi) ? 1 : 2;
    }
  }
  return total;
}

function appendContacts(node, list) {
  // Each contact is isolated so a phone number keeps its order inside right-to-left text.
  (list || []).forEach((c, i) => {
    if (i) node.appendChild(document.createTextNode(", "));
    const bdi = el("bdi", null, c.name + (c.phone ? " " + c.phone : ""));
    node.appendChild(bdi);
  });
}

async function copyText(text) {
  await navigator.clipboard.writeText(text);
  setStatus(t(settings.lang, "copied"), "ok");
}

function renderSuggestion(s, inquiryId) {
  const card = el("article", "card suggestion");
  const head = el("div", "head");
  head.appendChild(el("span", "conf " + s.confidence, t(settings.lang, s.confidence)));
  const q = el("span", "q", s.question);
  q.dir = "auto";
  head.appendChild(q);
  card.appendChild(head);
  const inputs = [];
  const holder = el("div", "placeholders");
  for (const name of s.placeholders || []) {
    const label = el("label", null, name + " ");
    const input = el("input");
    input.name = name;
    input.dir = "auto";
    label.appendChild(input);
    holder.appendChild(label);
    inputs.push(input);
  }
  card.appendChild(holder);
  const answer = el("p", "answer");
  answer.dir = "auto";
  card.appendChild(answer);
  const count = el("p", "meta count");
  card.appendChild(count);
  const meta = el("p", "meta", t(settings.lang, "approvedBy", { who: s.approved_by || "?", version: s.version }));
  if (s.review_by) {
    meta.appendChild(document.createTextNode(" · " + t(settings.lang, "reviewBy", { date: s.review_by })));
    if (new Date(s.review_by) < new Date(new Date().toDateString())) {
      meta.appendChild(el("span", "overdue", " · " + t(settings.lang, "overdue")));
    }
  }
  if (s.route) {
    meta.appendChild(document.createTextNode(" · " + s.route.department + ": "));
    appendContacts(meta, s.route.contacts);
  }
  card.appendChild(meta);
  const actions = el("div", "actions");
  const finalText = () => inputs.reduce((text, i) => text.split("{" + i.name + "}").join(i.value.trim()), s.answer);
  const copy = button(t(settings.lang, "copy"), () => copyText(finalText()), "primary copy");
  actions.appendChild(copy);
  const state = el("span", "state");
  for (const [action, key] of [["used", "used"], ["edited", "edited"], ["not_helpful", "notHelpful"]]) {
    actions.appendChild(button(t(settings.lang, key), async () => {
      try {
        await call(settings, "/api/v1/feedback", { method: "POST", body: {
          inquiry_id: inquiryId, entry_id: s.entry_id, version: s.version, action,
          sent_text: action === "not_helpful" ? undefined : finalText() } });
        state.textContent = t(settings.lang, "recorded", { action: t(settings.lang, key) });
      } catch (err) {
        state.textContent = explain(settings, err);
      }
    }, "feedback"));
  }
  actions.appendChild(state);
  card.appendChild(actions);
  const refresh = () => {
    const text = finalText();
    answer.textContent = text;
    const missing = inputs.filter((i) => !i.value.trim()).map((i) => i.name);
    const n = weightedLength(text);
    const isX = s.channel === "x" || channel.value === "x";
    count.textContent = isX ? t(settings.lang, "xCount", { n }) : "";
    count.classList.toggle("over", isX && n > 280);
    copy.disabled = missing.length > 0 || (isX && n > 280);
    copy.title = missing.length ? t(settings.lang, "fill", { names: missing.join(", ") }) : "";
  };
  inputs.forEach((i) => i.addEventListener("input", refresh));
  refresh();
  return card;
}

function renderEscalation(e) {
  const card = el("section", "card escalation");
  card.setAttribute("role", "alert");
  card.appendChild(el("h2", null, t(settings.lang, "escalate")));
  const hand = el("p", null, t(settings.lang, "handTo", { dept: e.department || "?" }) + " ");
  appendContacts(hand, e.contacts);
  card.appendChild(hand);
  card.appendChild(el("p", "meta", t(settings.lang, "holding")));
  const hold = el("p", "holding", e.holding_statement);
  hold.dir = "auto";
  card.appendChild(hold);
  card.appendChild(button(t(settings.lang, "copy"), () => copyText(e.holding_statement), "primary copy"));
  return card;
}

function renderNoMatch(data) {
  const card = el("section", "card no-match");
  card.appendChild(el("h2", null, t(settings.lang, "noMatch")));
  card.appendChild(el("p", null, t(settings.lang, "noMatchHint")));
  const state = el("span", "state");
  card.appendChild(button(t(settings.lang, "sendToPr"), async (event) => {
    try {
      await call(settings, "/api/v1/send-to-pr", { method: "POST", body: { inquiry_id: data.inquiry_id } });
      state.textContent = t(settings.lang, "sentToPr");
      event.target.disabled = true;
    } catch (err) {
      state.textContent = explain(settings, err);
    }
  }, "primary"));
  card.appendChild(state);
  return card;
}

async function ask() {
  const question = box.value.trim();
  results.replaceChildren();
  if (!question) {
    setStatus(t(settings.lang, "empty"), "warn");
    return;
  }
  setStatus(t(settings.lang, "searching"));
  try {
    const data = await call(settings, "/api/v1/suggest", { method: "POST",
      body: { question, channel: channel.value } });
    if (data.outcome === "escalate") {
      results.appendChild(renderEscalation(data.escalation));
      setStatus(t(settings.lang, "escalate"), "error");
    } else if (data.outcome === "no_match") {
      results.appendChild(renderNoMatch(data));
      setStatus(t(settings.lang, "noMatch"), "warn");
    } else {
      data.suggestions.forEach((s) => results.appendChild(renderSuggestion(s, data.inquiry_id)));
      setStatus(t(settings.lang, "answers", { n: data.suggestions.length }), "ok");
    }
  } catch (err) {
    setStatus(explain(settings, err), "error");
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  ask();
});
box.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    ask();
  }
});

async function init() {
  settings = await loadSettings();
  applyLanguage(settings.lang);
  const { pending } = await chrome.storage.session.get("pending");
  if (pending && new URLSearchParams(location.search).get("from") === "selection") {
    await chrome.storage.session.remove("pending");
    box.value = pending.text;
    channel.value = channelFor(pending.pageUrl);
    ask();
  }
}

init();
