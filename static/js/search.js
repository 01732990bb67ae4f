// The agent search page: ask, show vetted answers, fill placeholders, copy, send feedback, keyboard shortcuts.
// The cards and boxes come from suggestions.js; the words come from the server's table in the page language.
import { renderEscalation, renderNoMatch, renderSuggestion } from "./suggestions.js";

const csrf = document.querySelector('meta[name="csrf-token"]').content;
const page = document.getElementById("search");
const form = document.getElementById("ask");
const box = document.getElementById("question");
const channel = document.getElementById("channel");
const signature = document.getElementById("signature");
const statusEl = document.getElementById("status");
const results = document.getElementById("results");
const TEXT = JSON.parse(page.dataset.text);
let current = null; // {inquiryId, cards}
let selected = 0;

function t(key, values = {}) {
  const text = TEXT[key] || key;
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in values ? String(values[name]) : m));
}

async function post(url, body) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
    body: JSON.stringify(body),
    credentials: "same-origin",
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new Error((data.error && data.error.message) || t("requestFailed", { status: response.status }));
  }
  return data;
}

function setStatus(text, kind) {
  statusEl.textContent = text;
  statusEl.className = "status " + (kind || "");
}

function withSignature(text) {
  const sig = signature.value.trim();
  return sig ? text + "\n" + sig : text;
}

async function copy(card) {
  if (card.copyButton.disabled) {
    setStatus(card.copyButton.title || t("cannotCopyYet"), "warn");
    return false;
  }
  try {
    await navigator.clipboard.writeText(card.text());
    setStatus(t("copiedAnswer", { n: current.cards.indexOf(card) + 1 }), "ok");
    card.state.textContent = t("copiedState");
    return true;
  } catch (err) {
    setStatus(t("copyRefused"), "warn");
    return false;
  }
}

async function copyHolding(text) {
  try {
    await navigator.clipboard.writeText(text);
    setStatus(t("copiedHolding"), "ok");
    return true;
  } catch (err) {
    setStatus(t("copyRefusedShort"), "warn");
    return false;
  }
}

function select(index) {
  if (!current || !current.cards.length) return;
  selected = Math.max(0, Math.min(index, current.cards.length - 1));
  current.cards.forEach((c, i) => c.el.classList.toggle("selected", i === selected));
}

function showSuggestions(data) {
  data.suggestions.forEach((s, i) => {
    const card = renderSuggestion(s, {
      t, index: i, isX: () => channel.value === "x", finish: withSignature, copyKey: "c", onCopy: copy,
      onFeedback: (action, sentText) => post("/agent/feedback", {
        inquiry_id: data.inquiry_id, entry_id: s.entry_id, version: s.version, action, sent_text: sentText,
      }),
    });
    card.el.addEventListener("focusin", () => select(current.cards.indexOf(card)));
    current.cards.push(card);
    results.appendChild(card.el);
  });
  select(0);
}

async function ask() {
  const question = box.value.trim();
  if (!question) {
    setStatus(t("emptyQuestion"), "warn");
    return;
  }
  setStatus(t("searching"));
  results.replaceChildren();
  try {
    const data = await post("/agent/suggest", { question, channel: channel.value, include_low: false });
    current = { inquiryId: data.inquiry_id, cards: [] };
    if (data.outcome === "escalate") {
      const escalation = results.appendChild(renderEscalation(data.escalation, { t, onCopy: async (text) => {
        // Posting the holding statement is the agency's first reply on the page.
        if (await copyHolding(text)) {
          post("/agent/feedback", { inquiry_id: data.inquiry_id, action: "copied" }).catch(() => {});
        }
      } }));
      setStatus(t("escalateStatus"), "alert");
      escalation.tabIndex = -1;
      escalation.focus();
    } else if (data.outcome === "no_match") {
      results.appendChild(renderNoMatch({ contacts: data.fallback && data.fallback.contacts }, {
        t, onSendToPr: () => post("/agent/send-to-pr", { inquiry_id: data.inquiry_id }),
      }));
      setStatus(t("noMatchStatus"), "warn");
      const send = results.querySelector(".no-match button");
      if (send) send.focus();
    } else {
      showSuggestions(data);
      setStatus(t("answersIn", { n: data.suggestions.length, ms: Math.round(data.took_ms) }), "ok");
      // Hand the keyboard to the answers: from here 1-3, C, / and Escape act on them, not on the message box.
      if (current.cards.length) current.cards[0].el.focus();
    }
  } catch (err) {
    setStatus(t("searchFailed", { detail: err.message }), "error");
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
channel.addEventListener("change", () => { if (box.value.trim()) ask(); });
signature.addEventListener("input", () => current && current.cards.forEach((card) => card.refresh()));
// Shortcuts match the physical key (event.code), so they work on a Hebrew layout too, where the C key sends "ב"
// and the / key sends ".". Digits and Escape are the same on every layout.
const DIGITS = { Digit1: 1, Digit2: 2, Digit3: 3, Digit4: 4, Digit5: 5, Digit6: 6, Digit7: 7, Digit8: 8, Digit9: 9,
  Numpad1: 1, Numpad2: 2, Numpad3: 3, Numpad4: 4, Numpad5: 5, Numpad6: 6, Numpad7: 7, Numpad8: 8, Numpad9: 9 };

function backToBox() {
  box.focus();
  box.select();
}

document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
  const active = document.activeElement;
  const inBox = active === box;
  if (event.code === "Escape" || event.key === "Escape") {
    if (!inBox) {
      event.preventDefault();
      backToBox();
    }
    return;
  }
  // Typing in a field (the message, a placeholder, the signature) keeps every key for the text.
  if (["INPUT", "TEXTAREA", "SELECT"].includes(active.tagName)) return;
  const digit = DIGITS[event.code];
  if (digit && current && current.cards.length >= digit) {
    event.preventDefault();
    select(digit - 1);
    current.cards[selected].el.focus();
  } else if (event.code === "KeyC" && current && current.cards.length) {
    event.preventDefault();
    current.cards[selected].copy();
  } else if (event.code === "Slash" || event.code === "NumpadDivide") {
    event.preventDefault();
    backToBox();
  }
});
