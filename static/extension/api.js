// Talks to the Vetted API with the key kept in extension storage; turns every failure into words.
import { DEFAULT_SERVER } from "./config.js";
import { chooseLanguage } from "./i18n.js";

export async function loadSettings() {
  const stored = await chrome.storage.local.get(["server", "apiKey", "lang"]);
  return {
    server: (stored.server || DEFAULT_SERVER || "").replace(/\/+$/, ""),
    apiKey: stored.apiKey || "",
    langSetting: stored.lang || "auto",
    lang: chooseLanguage(stored.lang),
  };
}

export class ApiFailure extends Error {
  constructor(kind, detail, seconds) {
    super(detail || kind);
    this.kind = kind; // notConfigured | unreachable | unauthorized | forbidden | rateLimited | failed
    this.detail = detail || "";
    this.seconds = seconds || 0;
  }
}

export async function call(settings, path, { method = "GET", body } = {}) {
  if (!settings.server || !settings.apiKey) throw new ApiFailure("notConfigured");
  let response;
  try {
    response = await fetch(settings.server + path, {
      method,
      // Accept-Language: the server names categories and departments in the extension's language.
      headers: Object.assign({ Authorization: "Bearer " + settings.apiKey, "Accept-Language": settings.lang || "en" },
        body === undefined ? {} : { "Content-Type": "application/json" }),
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
    });
  } catch (err) {
    throw new ApiFailure("unreachable");
  }
  const data = await response.json().catch(() => ({}));
  if (response.ok) return data;
  const detail = (data.error && data.error.message) || response.statusText;
  if (response.status === 401) throw new ApiFailure("unauthorized", detail);
  if (response.status === 403) throw new ApiFailure("forbidden", detail);
  if (response.status === 429) {
    throw new ApiFailure("rateLimited", detail, Number(response.headers.get("Retry-After")) || 60);
  }
  throw new ApiFailure("failed", detail);
}

export function channelFor(url) {
  let host = "";
  try { host = new URL(url).hostname.replace(/^www\./, ""); } catch (err) { return "web"; }
  if (host === "x.com" || host === "twitter.com" || host.endsWith(".x.com") || host.endsWith(".twitter.com")) return "x";
  if (host.endsWith("facebook.com") || host.endsWith("messenger.com")) return "facebook";
  if (host.endsWith("instagram.com")) return "instagram";
  if (host === "mail.google.com" || host.startsWith("outlook.")) return "email";
  return "web";
}
