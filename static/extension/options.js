// Options: server address, API key (kept in extension storage only), interface language, connection test.
import { call, loadSettings } from "./api.js";
import { explain } from "./explain.js";
import { applyLanguage, t } from "./i18n.js";

const form = document.getElementById("settings-form");
const server = document.getElementById("server");
const apiKey = document.getElementById("api-key");
const lang = document.getElementById("lang");
const status = document.getElementById("status");

function current() {
  return { server: server.value.trim().replace(/\/+$/, ""), apiKey: apiKey.value.trim(), lang: lang.value };
}

async function init() {
  const settings = await loadSettings();
  server.value = settings.server;
  apiKey.value = settings.apiKey;
  lang.value = settings.lang;
  applyLanguage(settings.lang);
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const settings = current();
  await chrome.storage.local.set(settings);
  applyLanguage(settings.lang);
  status.className = "ok";
  status.textContent = t(settings.lang, "saved");
});

lang.addEventListener("change", () => applyLanguage(lang.value));

document.getElementById("test").addEventListener("click", async () => {
  const settings = current();
  status.className = "";
  status.textContent = t(settings.lang, "testing");
  try {
    const me = await call(settings, "/api/v1/keys/current");
    status.className = "ok";
    status.textContent = t(settings.lang, "connected", { user: me.user, scopes: me.scopes.join(", ") });
  } catch (err) {
    status.className = "error";
    status.textContent = explain(settings, err);
  }
});

init();
