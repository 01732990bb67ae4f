// Interface text in English and Hebrew. The chosen language also sets the page direction.
export const TEXT = {
  en: {
    title: "Vetted", ask: "Find answer", question: "Customer's message", paste: "Paste the message here",
    settings: "Settings", server: "Server address", key: "API key", language: "Interface language",
    save: "Save", saved: "Saved.", test: "Test connection", testing: "Testing…",
    connected: "Connected as {user} ({scopes}).", searching: "Searching approved answers…",
    answers: "{n} approved answer(s).", noMatch: "No approved answer for this question.",
    noMatchHint: "Do not improvise a reply. Send it to PR, or ask the in-house team.",
    sendToPr: "Send to PR as a missing answer", sentToPr: "Sent to PR's queue.",
    escalate: "Red flag: do not answer from the library", handTo: "Hand it to {dept}.",
    holding: "Holding statement you may post:", copy: "Copy", copied: "Copied.",
    used: "Used", edited: "Edited before sending", notHelpful: "Not helpful", recorded: "Recorded: {action}",
    fill: "Fill in: {names}", approvedLabel: "Approved by", approvedValue: "{who}, version {version}",
    unknownApprover: "?", reviewByLabel: "Review by", noReviewBy: "none set", categoryLabel: "Category",
    routeLabel: "Route to", noRoute: "no hand-over needed", onCall: "on call",
    sla: "first response within {first} min, resolution within {hours} h", notRecorded: "{detail}",
    looksLike: "This message looks like: {kind}.", inHouseTeam: "the in-house team", theyAnswer: "They answer: {sla}",
    copyHolding: "Copy", notSent: "{detail}", kind_legal: "legal", kind_press: "press", kind_safety: "safety",
    kind_privacy: "privacy", kind_discrimination: "discrimination", kind_protest: "protest",
    kind_self_harm: "self harm", kind_custom: "custom", overdue: "overdue", high: "High confidence", medium: "Medium confidence", low: "Low confidence",
    notConfigured: "Set the server address and API key in the settings first.",
    unreachable: "The Vetted server at {server} cannot be reached. Check the address and your connection.",
    unauthorized: "The API key was refused: it is wrong or has been revoked. Ask an admin for a new one.",
    forbidden: "This API key may not do that ({detail}).",
    rateLimited: "Too many requests. Try again in {seconds} seconds.", failed: "The server said: {detail}",
    channel: "Channel", xCount: "{n} / 280 characters on X", empty: "Paste or select a customer's message first.",
  },
  he: {
    title: "Vetted", ask: "חיפוש תשובה", question: "הודעת הלקוח", paste: "הדביקו כאן את ההודעה",
    settings: "הגדרות", server: "כתובת השרת", key: "מפתח API", language: "שפת הממשק",
    save: "שמירה", saved: "נשמר.", test: "בדיקת חיבור", testing: "בודק…",
    connected: "מחובר בתור {user} ({scopes}).", searching: "מחפש תשובות מאושרות…",
    answers: "נמצאו {n} תשובות מאושרות.", noMatch: "אין תשובה מאושרת לשאלה הזו.",
    noMatchHint: "אל תאלתרו תשובה. שלחו לדוברות, או פנו לצוות הפנימי.",
    sendToPr: "שליחה לדוברות כתשובה חסרה", sentToPr: "נשלח לתור של הדוברות.",
    escalate: "דגל אדום: לא עונים מהמאגר", handTo: "העבירו אל {dept}.",
    holding: "הודעת ביניים שאפשר לפרסם:", copy: "העתקה", copied: "הועתק.",
    used: "השתמשתי", edited: "ערכתי לפני השליחה", notHelpful: "לא עזר", recorded: "נרשם: {action}",
    fill: "יש למלא: {names}", approvedLabel: "אושר על ידי", approvedValue: "{who}, גרסה {version}",
    unknownApprover: "?", reviewByLabel: "לבדיקה עד", noReviewBy: "לא נקבע", categoryLabel: "קטגוריה",
    routeLabel: "העברה אל", noRoute: "אין צורך בהעברה", onCall: "תורן",
    sla: "מענה ראשון תוך {first} דק׳, פתרון תוך {hours} שע׳", notRecorded: "{detail}",
    looksLike: "ההודעה נראית כעניין של: {kind}.", inHouseTeam: "הצוות הפנימי", theyAnswer: "הם עונים: {sla}",
    copyHolding: "העתקה", notSent: "{detail}", kind_legal: "משפטי", kind_press: "עיתונות", kind_safety: "בטיחות",
    kind_privacy: "פרטיות", kind_discrimination: "אפליה", kind_protest: "מחאה",
    kind_self_harm: "פגיעה עצמית", kind_custom: "כלל מותאם", overdue: "באיחור", high: "ביטחון גבוה", medium: "ביטחון בינוני", low: "ביטחון נמוך",
    notConfigured: "הגדירו קודם את כתובת השרת ואת מפתח ה-API בהגדרות.",
    unreachable: "אין גישה לשרת Vetted בכתובת {server}. בדקו את הכתובת ואת החיבור.",
    unauthorized: "מפתח ה-API נדחה: הוא שגוי או שבוטל. בקשו מפתח חדש ממנהל.",
    forbidden: "למפתח הזה אין הרשאה לפעולה ({detail}).",
    rateLimited: "יותר מדי בקשות. נסו שוב בעוד {seconds} שניות.", failed: "השרת השיב: {detail}",
    channel: "ערוץ", xCount: "{n} / 280 תווים ב-X", empty: "הדביקו או סמנו קודם הודעה של לקוח.",
  },
};

export function t(lang, key, values = {}) {
  const table = TEXT[lang] || TEXT.en;
  const text = table[key] || TEXT.en[key] || key;
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in values ? String(values[name]) : m));
}

export function applyLanguage(lang) {
  document.documentElement.lang = lang;
  document.documentElement.dir = lang === "he" ? "rtl" : "ltr";
  for (const node of document.querySelectorAll("[data-t]")) node.textContent = t(lang, node.dataset.t);
  for (const node of document.querySelectorAll("[data-t-placeholder]")) {
    node.placeholder = t(lang, node.dataset.tPlaceholder);
  }
}
