// The agent search page: ask, show vetted answers, fill placeholders, copy, send feedback.
// All user and knowledge-base text goes in through textContent or value, never as HTML.
(function () {
  "use strict";

  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const form = document.getElementById("ask");
  const box = document.getElementById("question");
  const channel = document.getElementById("channel");
  const signature = document.getElementById("signature");
  const statusEl = document.getElementById("status");
  const results = document.getElementById("results");
  const template = document.getElementById("suggestion-template");
  const CONFIDENCE = { high: "High confidence", medium: "Medium confidence", low: "Low confidence" };
  let current = null; // {inquiryId, cards: [{el, suggestion}]}
  let selected = 0;

  function weightedLength(text) {
    // X counts most scripts as 1, CJK and emoji as 2, and every URL as 23.
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

  async function post(url, body) {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body),
      credentials: "same-origin",
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const message = (data.error && data.error.message) || ("request failed (" + response.status + ")");
      throw new Error(message);
    }
    return data;
  }

  function setStatus(text, kind) {
    statusEl.textContent = text;
    statusEl.className = "status " + (kind || "");
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function contactsText(contacts) {
    return (contacts || []).map((c) => c.name + (c.on_call ? " (on call)" : "") +
      (c.phone ? " · " + c.phone : "") + (c.email ? " · " + c.email : "")).join("; ");
  }

  function slaText(sla) {
    if (!sla) return "";
    return "first response within " + sla.first_response_minutes + " min, resolution within " +
      Math.round(sla.resolution_minutes / 60) + " h";
  }

  function finalText(card) {
    let text = card.suggestion.answer;
    for (const input of card.el.querySelectorAll(".placeholders input")) {
      text = text.split("{" + input.name + "}").join(input.value.trim());
    }
    const sig = signature.value.trim();
    return sig ? text + "\n" + sig : text;
  }

  function refresh(card) {
    const inputs = [...card.el.querySelectorAll(".placeholders input")];
    const missing = inputs.filter((i) => !i.value.trim());
    const text = finalText(card);
    card.el.querySelector(".answer").textContent = text;
    const copy = card.el.querySelector(".copy");
    const length = card.el.querySelector(".length");
    const isX = card.suggestion.channel === "x" || channel.value === "x";
    const count = weightedLength(text);
    length.textContent = isX ? count + " / 280 characters on X" : "";
    length.classList.toggle("over", isX && count > 280);
    copy.disabled = missing.length > 0 || (isX && count > 280);
    copy.title = missing.length ? "Fill in: " + missing.map((i) => i.name).join(", ") : "";
  }

  function renderSuggestion(s, i, inquiryId) {
    const node = template.content.firstElementChild.cloneNode(true);
    const card = { el: node, suggestion: s };
    node.querySelector(".index").textContent = String(i + 1);
    const conf = node.querySelector(".confidence");
    conf.textContent = CONFIDENCE[s.confidence] || s.confidence;
    conf.classList.add(s.confidence);
    node.querySelector(".entry-question").textContent = s.question;
    node.querySelector(".approved").textContent = (s.approved_by || "unknown") + ", version " + s.version +
      (s.approved_at ? ", " + s.approved_at.slice(0, 10) : "");
    const review = node.querySelector(".review-by");
    review.textContent = s.review_by || "none set";
    if (s.review_by && new Date(s.review_by) < new Date(new Date().toDateString())) {
      review.textContent += " · overdue";
      review.classList.add("overdue");
    }
    node.querySelector(".category").textContent = s.category || "-";
    node.querySelector(".route").textContent = s.route
      ? s.route.department + " · " + contactsText(s.route.contacts) + " · " + slaText(s.route.sla)
      : "no hand-over needed";
    const holder = node.querySelector(".placeholders");
    for (const name of s.placeholders || []) {
      const label = el("label", null, name + " ");
      const input = el("input");
      input.name = name;
      input.setAttribute("dir", "auto");
      input.required = true;
      input.addEventListener("input", () => refresh(card));
      label.appendChild(input);
      holder.appendChild(label);
    }
    node.querySelector(".copy").addEventListener("click", () => copy(card));
    for (const button of node.querySelectorAll(".feedback")) {
      button.addEventListener("click", () => feedback(card, inquiryId, button.dataset.action));
    }
    node.addEventListener("focusin", () => select(current.cards.indexOf(card)));
    refresh(card);
    return card;
  }

  async function copy(card) {
    const button = card.el.querySelector(".copy");
    if (button.disabled) {
      setStatus(button.title || "This answer cannot be copied yet.", "warn");
      return;
    }
    try {
      await navigator.clipboard.writeText(finalText(card));
      setStatus("Copied answer " + (current.cards.indexOf(card) + 1) + ".", "ok");
      card.el.querySelector(".feedback-state").textContent = "Copied";
    } catch (err) {
      setStatus("The browser did not allow copying: select the text and copy it by hand.", "warn");
    }
  }

  async function feedback(card, inquiryId, action) {
    const state = card.el.querySelector(".feedback-state");
    try {
      await post("/agent/feedback", {
        inquiry_id: inquiryId, entry_id: card.suggestion.entry_id, version: card.suggestion.version,
        action: action, sent_text: action === "not_helpful" ? undefined : finalText(card),
      });
      state.textContent = "Thanks, recorded: " + action.replace("_", " ");
    } catch (err) {
      state.textContent = "Not recorded: " + err.message;
    }
  }

  function select(index) {
    if (!current || !current.cards.length) return;
    selected = Math.max(0, Math.min(index, current.cards.length - 1));
    current.cards.forEach((c, i) => c.el.classList.toggle("selected", i === selected));
  }

  function renderEscalation(data) {
    const e = data.escalation;
    const banner = el("section", "escalation card");
    banner.setAttribute("role", "alert");
    banner.appendChild(el("h2", null, "Red flag: do not answer from the library"));
    banner.appendChild(el("p", null, "This message looks like: " + e.kind.replace("_", " ") +
      ". Hand it to " + (e.department || "the in-house team") + "."));
    banner.appendChild(el("p", "contacts", contactsText(e.contacts)));
    if (e.sla) banner.appendChild(el("p", "deadline", "They answer: " + slaText(e.sla)));
    const hold = el("blockquote", "holding", e.holding_statement);
    hold.setAttribute("dir", "auto");
    banner.appendChild(el("p", null, "Holding statement you may post:"));
    banner.appendChild(hold);
    const button = el("button", "copy primary", "Copy holding statement");
    button.type = "button";
    button.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(e.holding_statement);
        setStatus("Copied the holding statement.", "ok");
      } catch (err) {
        setStatus("The browser did not allow copying.", "warn");
      }
    });
    banner.appendChild(button);
    results.appendChild(banner);
  }

  function renderNoMatch(data) {
    const box = el("section", "no-match card");
    box.appendChild(el("h2", null, "No approved answer for this question"));
    box.appendChild(el("p", null, "Do not improvise a reply. Ask the in-house team" +
      (data.fallback && data.fallback.contacts.length ? ": " + contactsText(data.fallback.contacts) : ".")));
    const button = el("button", "primary", "Send to PR as a missing answer");
    button.type = "button";
    const state = el("span", "feedback-state");
    button.addEventListener("click", async () => {
      try {
        await post("/agent/send-to-pr", { inquiry_id: data.inquiry_id });
        state.textContent = "Sent to PR's queue.";
        button.disabled = true;
      } catch (err) {
        state.textContent = "Not sent: " + err.message;
      }
    });
    box.appendChild(button);
    box.appendChild(state);
    results.appendChild(box);
  }

  async function ask() {
    const question = box.value.trim();
    if (!question) {
      setStatus("Paste a customer's message first.", "warn");
      return;
    }
    setStatus("Searching approved answers…");
    results.replaceChildren();
    try {
      const data = await post("/agent/suggest", { question: question, channel: channel.value, include_low: false });
      current = { inquiryId: data.inquiry_id, cards: [] };
      if (data.outcome === "escalate") {
        renderEscalation(data);
        setStatus("Red flag: escalate, do not answer from the library.", "alert");
        return;
      }
      if (data.outcome === "no_match") {
        renderNoMatch(data);
        setStatus("No approved answer.", "warn");
        return;
      }
      data.suggestions.forEach((s, i) => {
        const card = renderSuggestion(s, i, data.inquiry_id);
        current.cards.push(card);
        results.appendChild(card.el);
      });
      select(0);
      setStatus(data.suggestions.length + " approved answer(s) in " + Math.round(data.took_ms) + " ms.", "ok");
    } catch (err) {
      setStatus("Search failed: " + err.message, "error");
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
  signature.addEventListener("input", () => current && current.cards.forEach(refresh));
  document.addEventListener("keydown", (event) => {
    const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement.tagName);
    if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
    if (/^[1-9]$/.test(event.key) && current && current.cards.length >= Number(event.key)) {
      select(Number(event.key) - 1);
      current.cards[selected].el.focus();
    } else if (event.key === "c" && current && current.cards.length) {
      copy(current.cards[selected]);
    } else if (event.key === "/") {
      event.preventDefault();
      box.focus();
      box.select();
    }
  });
})();
