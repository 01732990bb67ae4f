// The popup (and the window the context menu opens): ask, show vetted answers exactly as the API returns them,
// fill placeholders, copy, send feedback. The cards and boxes come from suggestions.js, which the extension's build
// copies from the site's static/js; the words from i18n.js.
import { call, channelFor, loadSettings } from "./api.js";
import { applyLanguage, t } from "./i18n.js";
import { explain } from "./explain.js";
import { renderEscalation, renderNoMatch, renderSuggestion } from "./suggestions.js";

const form = document.getElementById("ask");
const box = document.getElementById("question");
const channel = document.getElementById("channel");
const status = document.getElementById("status");
const results = document.getElementById("results");
let settings = null;

function setStatus(text, kind) {
  status.textContent = text;
  status.className = kind || "";
}

const say = (key, values) => t(settings.lang, key, values);

async function copyText(text) {
  await navigator.clipboard.writeText(text);
  setStatus(say("copied"), "ok");
}

function suggestionCard(s, inquiryId) {
  return renderSuggestion(s, {
    t: say, isX: () => channel.value === "x", onCopy: (card) => copyText(card.text()),
    explain: (err) => explain(settings, err),
    onFeedback: (action, sentText) => call(settings, "/api/v1/feedback", { method: "POST", body: {
      inquiry_id: inquiryId, entry_id: s.entry_id, version: s.version, action, sent_text: sentText } }),
  }).el;
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
      results.appendChild(renderEscalation(data.escalation, { t: say, onCopy: async (text) => {
        await copyText(text);
        call(settings, "/api/v1/feedback", { method: "POST", body: { inquiry_id: data.inquiry_id, action: "copied" } })
          .catch(() => {});
      } }));
      setStatus(t(settings.lang, "escalate"), "error");
    } else if (data.outcome === "no_match") {
      results.appendChild(renderNoMatch({}, { t: say, explain: (err) => explain(settings, err),
        onSendToPr: () => call(settings, "/api/v1/send-to-pr", { method: "POST", body: { inquiry_id: data.inquiry_id } }),
      }));
      setStatus(t(settings.lang, "noMatch"), "warn");
    } else {
      data.suggestions.forEach((s) => results.appendChild(suggestionCard(s, data.inquiry_id)));
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
