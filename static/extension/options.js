// Options: server address, API key (kept in extension storage only), interface language, connection test.
import { call, loadSettings } from "./api.js";
import { explain } from "./explain.js";
import { applyLanguage, chooseLanguage, t } from "./i18n.js";

const form = document.getElementById("settings-form");
const server = document.getElementById("server");
const apiKey = document.getElementById("api-key");
const lang = document.getElementById("lang");
const status = document.getElementById("status");

function current() {
  return { server: server.value.trim().replace(/\/+$/, ""), apiKey: apiKey.value.trim(), lang: lang.value };
}

// What is stored is the setting ("auto" follows the browser); what is shown is the language it resolves to.
const shown = (setting) => chooseLanguage(setting);

async function init() {
  const settings = await loadSettings();
  server.value = settings.server;
  apiKey.value = settings.apiKey;
  lang.value = settings.langSetting;
  applyLanguage(settings.lang);
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const settings = current();
  await chrome.storage.local.set(settings);
  applyLanguage(shown(settings.lang));
  status.className = "ok";
  status.textContent = t(shown(settings.lang), "saved");
});

lang.addEventListener("change", () => applyLanguage(shown(lang.value)));

document.getElementById("test").addEventListener("click", async () => {
  const settings = current();
  status.className = "";
  const words = shown(settings.lang);
  status.textContent = t(words, "testing");
  try {
    const me = await call(settings, "/api/v1/keys/current");
    status.className = "ok";
    const scopes = me.scopes.map((s) => t(words, "scope_" + s)).join(", ");
    status.replaceChildren();
    // The user name is the account's own word: isolated and not translated; the rest is in the interface language.
    t(words, "connected", { scopes }).split("{user}").forEach((part, i) => {
      if (i) {
        const who = document.createElement("bdi");
        who.textContent = me.user;
        who.setAttribute("translate", "no");
        status.appendChild(who);
      }
      status.appendChild(document.createTextNode(part));
    });
  } catch (err) {
    status.className = "error";
    status.textContent = explain({ ...settings, lang: words }, err);
  }
});

init();
