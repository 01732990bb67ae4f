// Interface text by key and language, from the one message catalogue (catalogue.js is generated from the .po files
// by `python -m web.catalogue js` and copied in by the build). The chosen language also sets the page direction.
import { CATALOGUE } from "./catalogue.js";

export const TEXT = CATALOGUE;
export const LANGUAGES = ["he", "en"];
const RTL = ["he", "ar"];

/** Return the language to show: the extension's own setting, else the browser's language. */
export function chooseLanguage(setting) {
  if (LANGUAGES.includes(setting)) return setting;
  const browser = (navigator.language || "").slice(0, 2);
  return LANGUAGES.includes(browser) ? browser : "en";
}

export function t(lang, key, values = {}) {
  const table = TEXT[lang] || TEXT.en;
  const text = table[key] || TEXT.en[key] || key;
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in values ? String(values[name]) : m));
}

export function applyLanguage(lang) {
  document.documentElement.lang = lang;
  document.documentElement.dir = RTL.includes(lang) ? "rtl" : "ltr";
  for (const node of document.querySelectorAll("[data-t]")) node.textContent = t(lang, node.dataset.t);
  for (const node of document.querySelectorAll("[data-t-placeholder]")) {
    node.placeholder = t(lang, node.dataset.tPlaceholder);
  }
  for (const node of document.querySelectorAll("[data-t-label]")) {
    node.setAttribute("aria-label", t(lang, node.dataset.tLabel));
  }
}
