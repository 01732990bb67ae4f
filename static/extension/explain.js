// Failures of the API in the agent's words.
import { ApiFailure } from "./api.js";
import { t } from "./i18n.js";

export function explain(settings, err) {
  if (!(err instanceof ApiFailure)) return t(settings.lang, "failed", { detail: String(err) });
  return t(settings.lang, err.kind, { server: settings.server, detail: err.detail, seconds: err.seconds });
}
