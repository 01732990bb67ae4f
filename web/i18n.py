"""Interface language (Hebrew or English) for the console and the agent page; Hebrew mirrors the layout."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, redirect, request, session, url_for

from web.auth import is_local_path, public

LANGUAGES = ("he", "en")
RTL = frozenset({"he"})

bp = Blueprint("i18n", __name__)

HE: dict[str, str] = {
    # The agent page's script (suggest/agent/page_text.py).
    "High confidence": "ביטחון גבוה", "Medium confidence": "ביטחון בינוני", "Low confidence": "ביטחון נמוך",
    "{who}, version {version}": "{who}, גרסה {version}", "unknown": "לא ידוע", "none set": "לא נקבע",
    "overdue": "באיחור", "Route to": "העברה אל", "no hand-over needed": "אין צורך בהעברה", "on call": "תורן",
    "first response within {first} min, resolution within {hours} h":
    "מענה ראשון תוך {first} דק׳, פתרון תוך {hours} שע׳",
    "{n} / 280 characters on X": "{n} / 280 תווים ב-X", "Fill in: {names}": "יש למלא: {names}", "Copy": "העתקה",
    "Used": "השתמשתי", "Edited before sending": "ערכתי לפני השליחה", "Not helpful": "לא עזר",
    "Thanks, recorded: {action}": "תודה, נרשם: {action}", "Not recorded: {detail}": "לא נרשם: {detail}",
    "Red flag: do not answer from the library": "דגל אדום: לא עונים מהמאגר",
    "This message looks like: {kind}.": "ההודעה נראית כעניין של: {kind}.",
    "Hand it to {dept}.": "העבירו אל {dept}.",
    "the in-house team": "הצוות הפנימי", "They answer: {sla}": "הם עונים: {sla}",
    "Holding statement you may post:": "הודעת ביניים שאפשר לפרסם:", "Copy holding statement": "העתקת הודעת הביניים",
    "No approved answer for this question": "אין תשובה מאושרת לשאלה הזו",
    "Do not improvise a reply. Ask the in-house team.": "אל תאלתרו תשובה. פנו לצוות הפנימי.",
    "Send to PR as a missing answer": "שליחה לדוברות כתשובה חסרה", "Sent to PR's queue.": "נשלח לתור של הדוברות.",
    "Not sent: {detail}": "לא נשלח: {detail}", "legal": "משפטי", "press": "עיתונות", "safety": "בטיחות",
    "privacy": "פרטיות", "discrimination": "אפליה", "protest": "מחאה", "self harm": "פגיעה עצמית",
    "custom": "כלל מותאם",
    "request failed ({status})": "הבקשה נכשלה ({status})",
    "This answer cannot be copied yet.": "עדיין אי אפשר להעתיק את התשובה הזו.",
    "Copied answer {n}.": "תשובה {n} הועתקה.",
    "Copied": "הועתק", "The browser did not allow copying: select the text and copy it by hand.":
    "הדפדפן לא איפשר העתקה: סמנו את הטקסט והעתיקו ידנית.", "Copied the holding statement.": "הודעת הביניים הועתקה.",
    "The browser did not allow copying.": "הדפדפן לא איפשר העתקה.",
    "Paste a customer's message first.": "הדביקו קודם הודעה של לקוח.",
    "Searching approved answers…": "מחפש תשובות מאושרות…",
    "Red flag: escalate, do not answer from the library.": "דגל אדום: מעבירים הלאה, לא עונים מהמאגר.",
    "No approved answer.": "אין תשובה מאושרת.",
    "{n} approved answer(s) in {ms} ms.": "{n} תשובות מאושרות תוך {ms} אלפיות שנייה.",
    "Search failed: {detail}": "החיפוש נכשל: {detail}",
    # The console.
    "The questions": "השאלות",
    "Search": "חיפוש", "Extension": "תוסף", "Entries": "רשומות", "Review": "אישורים", "Unanswered": "ללא מענה",
    "Dashboard": "לוח מחוונים", "Audit": "יומן ביקורת", "API keys": "מפתחות API", "Owners": "בעלי תחום",
    "Users": "משתמשים", "Crisis": "מצב חירום", "Red flags": "דגלים אדומים", "Response times": "זמני תגובה",
    "Sign out": "יציאה", "Sign in": "כניסה", "Username": "שם משתמש", "Password": "סיסמה",
    "Customer's message": "הודעת הלקוח", "Channel": "ערוץ", "Signature": "חתימה", "optional": "לא חובה",
    "Find answer": "חיפוש תשובה", "Knowledge base": "מאגר התשובות", "New entry": "רשומה חדשה",
    "Import / export": "ייבוא / ייצוא", "Status": "סטטוס", "Language": "שפה", "Category": "קטגוריה",
    "Owner": "אחראי", "Missing variant": "חסרה גרסת ערוץ", "Sort": "מיון", "Review overdue": "עבר מועד הבדיקה",
    "Filter": "סינון", "entries": "רשומות", "Question": "שאלה", "Review by": "לבדיקה עד", "any": "הכול",
    "No entries match.": "אין רשומות מתאימות.", "Previous": "הקודם", "Next": "הבא", "draft": "טיוטה",
    "in review": "בבדיקה", "approved": "מאושר", "rejected": "נדחה", "superseded": "הוחלף", "retired": "הוצא משימוש",
    "serving": "בשימוש", "id": "מספר", "question": "שאלה", "review by": "מועד בדיקה", "updated": "עדכון אחרון",
    "Edit": "עריכה", "Approved": "מאושר", "Version": "גרסה", "History": "היסטוריה", "Submit": "שליחה לאישור",
    "Withdraw": "משיכה מאישור", "Approve": "אישור", "Reject": "דחייה", "Retire": "הוצאה משימוש",
    "Reason for retiring": "סיבת ההוצאה משימוש", "Why it goes back to the author": "למה זה חוזר לכותב",
    "Changes against the approved version": "שינויים מול הגרסה המאושרת", "When (UTC)": "מתי (UTC)",
    "Who": "מי", "What": "מה", "Comment": "הערה", "Also asked as": "נשאל גם כך", "Answer": "תשובה",
    "Placeholders": "שדות למילוי", "Author": "כותב", "Approved by": "אושר על ידי", "Save draft": "שמירת טיוטה",
    "Channel variants": "גרסאות לפי ערוץ", "Review queue": "תור אישורים", "Nothing waits for review.":
    "אין פריטים הממתינים לאישור.", "Approve selected": "אישור הנבחרים", "Unanswered questions": "שאלות ללא מענה",
    "Draft an entry from this": "טיוטת רשומה מזה", "Add as phrasing of entry": "הוספה כניסוח לרשומה",
    "Dismiss": "התעלמות", "Asked": "נשאל", "Sent by agents": "נשלח על ידי נציגים",
    "No unanswered questions.": "אין שאלות ללא מענה.", "Departments and contacts": "מחלקות ואנשי קשר",
    "Categories and response times": "קטגוריות וזמני תגובה", "Add contact": "הוספת איש קשר", "On call": "תורן",
    "Remove": "הסרה", "Save": "שמירה", "Create user": "יצירת משתמש", "Role": "תפקיד", "Active": "פעיל",
    "Questions per day": "שאלות ביום", "No approved answer": "אין תשובה מאושרת", "Most-used answers":
    "התשובות השימושיות ביותר", "Past their review-by date": "עבר מועד הבדיקה", "Median time to approval":
    "זמן חציוני עד אישור", "Preview": "תצוגה מקדימה", "Apply import": "ביצוע הייבוא", "Export": "ייצוא",
    "Import": "ייבוא", "File": "קובץ", "Import as approved": "ייבוא כמאושר", "Start crisis mode": "הפעלת מצב חירום",
    "End crisis mode": "סיום מצב חירום", "Holding statement": "הודעת ביניים", "Name": "שם", "Alerts": "התראות",
    "Acknowledge": "אישור קריאה", "Overdue": "באיחור", "Due": "יעד", "Met": "עמד ביעד", "Missed": "לא עמד ביעד",
    "Keywords": "מילות מפתח", "Patterns": "תבניות", "Examples": "דוגמאות", "Holding": "הודעת ביניים",
    "Someone else saved first": "מישהו אחר שמר קודם", "Other ways customers ask it (one per line)":
    "ניסוחים נוספים של לקוחות (אחד בכל שורה)", "Approved answer": "תשובה מאושרת",
    "X / Twitter (280 weighted characters)": "X / טוויטר (280 תווים משוקללים)", "Facebook": "פייסבוק",
    "Instagram": "אינסטגרם", "Email": "דואר אלקטרוני", "Placeholders (comma-separated names used as {name})":
    "שדות למילוי (שמות מופרדים בפסיקים, בשימוש כ-{name})", "Owner department": "מחלקה אחראית",
    "Tags (comma-separated)": "תגיות (מופרדות בפסיקים)", "Category:": "קטגוריה:",
    "Alternates": "ניסוחים נוספים",
    "Variants": "גרסאות ערוץ", "Review_by": "מועד בדיקה", "Severity": "חומרה", "Kind": "סוג",
    "Department": "מחלקה", "Rule": "כלל", "Add rule": "הוספת כלל",
    "met": "עמדו בזמן", "missed": "חרגו", "open": "פתוחות", "in time": "בזמן", "late": "באיחור",
    "no reply yet": "טרם נענו", "Resolved in time, per department": "טופלו בזמן, לפי מחלקה",
    "First reply on the page, per agency rep": "תגובה ראשונה בעמוד, לפי נציג הסוכנות",
    "Owed an in-house answer": "ממתינות לתשובה מהארגון", "Taken": "נלקחה", "Take": "לקיחה לטיפול",
    "Answered": "נענתה", "Only overdue": "רק באיחור", "All": "הכול", "Last 7 days": "7 הימים האחרונים",
    "Last 30 days": "30 הימים האחרונים", "Agency rep": "נציג סוכנות",
    "Median reply (min)": "חציון תגובה (דק׳)", "Median (min)": "חציון (דק׳)", "Handed over as": "הועברה כ",
    "escalation": "הסלמה", "no_match": "ללא תשובה מאושרת", "sales_lead": "ליד מכירות",
    "service_case": "פניית שירות", "other": "אחר", "Total": "סה״כ", "Open": "פתוחות",
    "Create a key for my extension": "יצירת מפתח לתוסף שלי", "Scopes": "הרשאות", "Created": "נוצר",
    "Last used": "שימוש אחרון", "State": "מצב", "never": "אף פעם", "revoked": "בוטל", "active": "פעיל",
    "Revoke": "ביטול", "Revoke key": "ביטול מפתח",
    "Key revoked: it stops working at once.": "המפתח בוטל ומפסיק לעבוד מיד.",
    "That form was sent already; no new key was made.": "הטופס כבר נשלח; לא נוצר מפתח חדש.",
    'Messages that trip a rule are never answered from the library: the agent gets '
    'the holding statement and the department is told at once.':
        'הודעות שמפעילות כלל לעולם אינן נענות מהמאגר: הנציג מקבל הודעת המתנה והמחלקה מקבלת התראה מיד.',
    'Words and phrases': 'מילים וביטויים',
    'Words and phrases (one per line)': 'מילים וביטויים (אחד בכל שורה)',
    'yes': 'כן',
    'no': 'לא',
    'Switch off': 'כיבוי',
    'Switch on': 'הפעלה',
    'Edit rule': 'עריכת כלל',
    'A word matches its forms with a Hebrew prefix (ו, ה, ב, ל, מ, ש, כ); a phrase matches its words in order.':
        'מילה מתאימה גם עם אותיות השימוש (ו, ה, ב, ל, מ, ש, כ); ביטוי מתאים כשמילותיו מופיעות ברצף.',
    'Advanced: regular expressions': 'מתקדם: ביטויים רגולריים',
    'Regular expressions (one per line)': 'ביטויים רגולריים (אחד בכל שורה)',
    'Regular expression': 'ביטוי רגולרי',
    'Cancel': 'ביטול', 'How agents edited it before sending': 'איך נציגים ערכו אותה לפני השליחה', 'Sent': 'נשלח',
    'Notifiers': 'ערוצי התראה',
    'How': 'אופן',
    'Address': 'כתובת',
    'Webhook secret': 'סוד ה-webhook',
    'Each department is told of its escalations and alerts in the console, and by '
    'these webhooks and e-mail addresses.':
        'כל מחלקה מקבלת את ההסלמות וההתראות שלה במערכת, וגם בכתובות ה-webhook והדואר האלה.',
    'webhook': 'webhook',
    'email': 'דואר אלקטרוני',
    'Covers': 'חל על',
    'Since': 'מאז',
    'languages': 'שפות',
    'Find entries this crisis covers': 'חיפוש רשומות שמצב החירום חל עליהן',
    'Holding statement in Hebrew': 'הודעת המתנה בעברית',
    'Holding statement in English': 'הודעת המתנה באנגלית',
    'Holding statement in Arabic': 'הודעת המתנה בערבית',
    'Holding statement in Russian': 'הודעת המתנה ברוסית',
    'More languages': 'שפות נוספות',
    'Categories': 'קטגוריות',
    'Words and phrases in the message (one per line)': 'מילים וביטויים בהודעה (אחד בכל שורה)',
    'Contacts and owners': 'אנשי קשר ובעלי תחום',
    'Forbidden': 'אין הרשאה',
    'Red-flag rules are changed by approvers.': 'כללי דגל אדום משתנים בידי מאשרים.',
    'Rule saved; it applies to the next question.': 'הכלל נשמר; הוא חל מהשאלה הבאה.',
    'Rule removed.': 'הכלל הוסר.',
    'Rule switched on.': 'הכלל הופעל.',
    'Rule switched off.': 'הכלל כובה.',
    'Notifier added.': 'ערוץ ההתראה נוסף.',
    'Crisis mode is on: matching questions now get the holding statement.':
        'מצב חירום פעיל: שאלות מתאימות יקבלו את הודעת ההמתנה.',
    'Crisis mode is off.': 'מצב החירום הסתיים.',
    'self_harm': 'פגיעה עצמית',
    "You wrote or changed this version; another approver decides.":
    "כתבת או שינית את הגרסה הזו; מאשר אחר יחליט.",
    "Send for approval (another approver approves)": "שליחה לאישור (מאשר אחר מאשר)",
    "Imported versions land as": "הגרסאות המיובאות יישמרו כ",
    "The imported versions wait in the review queue: another approver approves them.":
    "הגרסאות המיובאות ממתינות בתור האישורים: מאשר אחר יאשר אותן.",
    "This version changed since you opened it, or the page did not say which version you saw; "
    "reload and try again.": "הגרסה השתנתה מאז שפתחת אותה, או שהדף לא ציין איזו גרסה ראית; טענו מחדש ונסו שוב.",
    "wrong username or password (after too many failed logins, signing in from here pauses for a while)":
    "שם משתמש או סיסמה שגויים (אחרי יותר מדי ניסיונות כושלים, הכניסה מכאן מושהית לזמן מה)",
    "Secret": "סוד", "set": "מוגדר", "not set": "לא מוגדר", "Notifier removed.": "ערוץ ההתראה הוסר.",
    "Notifiers are removed by admins.": "רק מנהלי מערכת מסירים ערוצי התראה.",
    "The extension is not available yet": "התוסף עדיין לא זמין",
    "An administrator must set VETTED_PUBLIC_URL to this server's public address before the extension can be "
    "downloaded.": "מנהל המערכת צריך להגדיר את VETTED_PUBLIC_URL לכתובת הציבורית של השרת לפני שאפשר להוריד את התוסף.",
}


def gettext(text: str) -> str:
    """Return the interface text in the current request's language."""
    return translate(text, current_language())


def translate(text: str, lang: str) -> str:
    """Return the interface text in `lang` (English is the source)."""
    return HE.get(text, text) if lang == "he" else text


def current_language() -> str:
    """Return the interface language: the user's choice, else the browser's preference."""
    chosen = session.get("ui_lang")
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES, default="en") if request else "en"


@bp.route("/language/<lang>", methods=["POST"])
@public
def choose(lang: str) -> Any:
    """Switch the interface language (a form post, so it carries CSRF)."""
    if lang in LANGUAGES:
        session["ui_lang"] = lang
    target = request.form.get("next") or ""
    if not is_local_path(target):
        target = url_for("agent.search")
    return redirect(target)


def init_app(app: Flask) -> None:
    """Give templates `_` and the page language and direction."""
    app.register_blueprint(bp)

    @app.context_processor
    def inject_language() -> dict[str, Any]:
        lang = current_language()
        return {"ui_lang": lang, "ui_dir": "rtl" if lang in RTL else "ltr", "_": lambda text: translate(text, lang)}
