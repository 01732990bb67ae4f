"""The default red-flag rules, English and Hebrew. Written so that angry but routine complaints do not trip them."""
from __future__ import annotations

_HOLD_EN = {
    "legal": "Thank you for your message. We take it seriously and have passed it to the relevant team, "
             "who will contact you directly.",
    "press": "Thank you for reaching out. Media enquiries are handled by our spokesperson's office, which will "
             "get back to you shortly.",
    "safety": "Thank you for telling us. Your safety comes first: if anyone is in danger, please call 101 or "
              "100 now. Our team is contacting you right away.",
    "privacy": "Thank you for letting us know. We are looking into this as a priority, and our security team "
               "will contact you directly.",
    "discrimination": "Thank you for your message. We take this very seriously and a senior team member will "
                      "contact you directly.",
    "protest": "Thank you for your message. We have passed it to the relevant team, who will respond to you "
               "directly.",
    "self_harm": "We're really sorry you're feeling this way. You are not alone: ERAN's emotional first-aid line "
                 "is available 24/7 at 1201. A member of our team will reach out to you personally.",
}
_HOLD_HE = {
    "legal": "תודה על פנייתך. אנחנו מתייחסים אליה ברצינות והעברנו אותה לגורם המתאים, שייצור איתך קשר ישירות.",
    "press": "תודה על הפנייה. פניות תקשורת מטופלות על ידי דוברות החברה, שתחזור אליך בהקדם.",
    "safety": "תודה שעדכנת אותנו. הבטיחות שלך קודמת לכל: אם מישהו בסכנה, התקשר/י עכשיו ל-101 או ל-100. "
              "הצוות שלנו יוצר איתך קשר מיד.",
    "privacy": "תודה שעדכנת אותנו. אנחנו בודקים את הנושא בעדיפות עליונה, וצוות אבטחת המידע ייצור איתך קשר ישירות.",
    "discrimination": "תודה על פנייתך. אנחנו מתייחסים לכך בחומרה רבה, ונציג בכיר ייצור איתך קשר ישירות.",
    "protest": "תודה על פנייתך. העברנו אותה לגורם המתאים, שישיב לך ישירות.",
    "self_harm": "אנחנו מצטערים מאוד שאת/ה מרגיש/ה כך. את/ה לא לבד: קו הסיוע של ער\"ן זמין 24/7 במספר 1201. "
                 "נציג שלנו ייצור איתך קשר אישית.",
}

_DEPARTMENT = {
    "legal": "legal", "press": "spokesperson", "safety": "technical-support", "privacy": "security",
    "discrimination": "spokesperson", "protest": "spokesperson", "self_harm": "customer-service",
}
_SEVERITY = {"self_harm": 5, "safety": 5, "privacy": 4, "legal": 4, "press": 3, "discrimination": 3,
             "protest": 3}

_KEYWORDS_EN = {
    # A lawyer, a court or a newspaper named in passing is as often routine ("my lawyer needs a balance
    # confirmation", "I saw your ad in the newspaper"): the words here name a threat; the classifier reads the rest.
    "legal": ["lawsuit", "sue you", "sue galim", "suing", "legal action", "legal steps", "class action",
              "small claims", "see you in court", "meet in court", "demand letter", "cease and desist",
              "consumer protection authority", "file a complaint with the ministry", "ombudsman"],
    "press": ["journalist", "reporter", "to the newspaper", "to a newspaper", "to the papers", "going to the press",
              "tell the press", "contact the press", "talk to the press", "speak to the press",
              "go to the media", "talk to the media",
              "press release", "media enquiry", "media inquiry", "news channel",
              "tv programme", "tv program", "for an article", "for a story", "comment for an article",
              "investigative"],
    "safety": ["electric shock", "electrocuted", "caught fire", "on fire", "smoke coming", "sparks", "exploded",
               "explosion", "burning smell", "fell from", "pole fell", "cable fell", "live wire", "exposed wire",
               "gas leak", "injured", "emergency call failed", "couldn't call emergency"],
    "privacy": ["data breach", "data leak", "hacked", "hacker", "someone accessed my account",
                "my personal details were exposed", "see other customers", "other customer's details",
                "another customer", "someone else's account", "someone else's details",
                "identity theft", "sim swap", "phishing", "privacy breach", "sold my data"],
    "discrimination": ["racist", "racism", "discriminated", "discrimination", "sexual harassment", "harassed me",
                       "sexist", "homophobic", "antisemitic", "because i am arab", "because i'm arab",
                       "because of my disability"],
    "protest": ["boycott", "boycotting", "protest", "demonstration outside", "petition against", "everyone should "
                "leave galim", "spread the word", "going viral", "#boycott"],
    "self_harm": ["kill myself", "end my life", "suicide", "suicidal", "want to die", "hurt myself",
                  "self harm", "no reason to live"],
}
_PATTERNS_EN = {
    "legal": [r"\b(sue|suing|sued)\b", r"\btake (you|this|it) to court\b",
              r"\b(my|our) (lawyer|attorney|solicitor)s? (will|is going to|is preparing|is drafting|says|is already"
              r"|is involved|sent)\b",
              r"\b(call|calling|get|getting|hire|hiring|consult|consulting|speak to|speaking to|talk to|talking to"
              r"|contact|contacting|going to) (a|my|our) (lawyer|attorney|solicitor)\b",
              r"\bhear(ing)? from (my|our) (lawyer|attorney|solicitor)s?\b"],
    "press": [r"\b(channel \d+|haaretz|ynet|times of israel|calcalist|globes)\b"],
    "self_harm": [r"\b(kill|hurt|harm) my ?self\b"],
    "safety": [r"\b(pole|cable|wire|antenna|mast)s?\b[^.!?]{0,30}\bfell\b",
               # A medicine or a dose given wrong; "I ordered the wrong medicine" or "can I take double the dose?"
               # is a customer's own question.
               r"\b(gave|given|give|dispensed|sold|handed|prescribed)\b[^.!?]{0,25}\b(the )?wrong "
               r"(medication|medicine|dose|dosage|pills?|drug|prescription)\b",
               r"\b(gave|given|got|received|dispensed|handed)\b[^.!?]{0,25}\bsomeone else[’']?s "
               r"(prescription|medication|medicine|pills)\b",
               r"\b(took|taken|been taking|gave|given|got)\b[^.!?]{0,25}\b(twice|double|triple|ten times) the "
               r"(dose|dosage)\b"],
    # "leaked" alone is as often a pipe or a meter; data leaks are named with what leaked.
    "privacy": [r"\b(data|database|details|information|info|records|numbers?|passwords?)\b[^.!?]{0,25}\bleak",
                r"\bleaked (my|our|customer|personal|the)\b"],
    # A wheelchair named in passing is as often a question about access; shut out is the complaint.
    "discrimination": [r"\bwheelchair\b[^.!?]{0,60}\b(can[’']?t|cannot|can not|couldn[’']?t|no way to|unable to) "
                       r"(get in|get into|enter|get up)\b",
                       r"\b(not|isn[’']?t|aren[’']?t) (wheelchair|disabled) accessible\b"],
}
_KEYWORDS_HE = {
    "legal": ["עם עורך דין", "עם עורכת דין", "אצל עורך דין", "יש לי עורך דין", "מעורך הדין", "מעורך דין",
              "מעורכת הדין", "תביעה ייצוגית", "אתבע", "נתבע אתכם", "לתבוע",
              "בית משפט", "תביעות קטנות", "מכתב התראה", "הרשות להגנת הצרכן", "המועצה לצרכנות", "משרד התקשורת",
              "נציב תלונות"],
    "press": ["עיתונאי", "עיתונאית", "לכתבה", "בכתבה", "לעיתון", "לעיתונות", "לתקשורת", "תגובה לכתבה", "תחקיר",
              "ערוץ 12", "ערוץ 13", "כאן חדשות", "חדשות 12", "חברת החדשות", "ynet",
              "עיתון הארץ", "כתב הארץ", "כתבת הארץ",
              "ידיעות אחרונות", "מעריב"],
    "safety": ["התחשמלתי", "התחשמל", "מכת חשמל", "שריפה", "עלה באש", "נשרף", "עשן", "ניצוצות", "פיצוץ",
               "התפוצץ", "ריח שרוף", "עמוד נפל", "כבל נפל", "חוט חשוף", "חוטים חשופים", "נפצע", "נפצעתי",
               "פצוע", "לא הצלחתי להתקשר למד\"א", "לא הצלחתי לחייג למשטרה", "מינון שגוי", "טעות במינון",
               "טעות בתרופה"],
    # "פרצו" and "נפרץ" alone are as often a car or a flat broken into: the patterns below name what was hacked.
    # "הדליף", "הדליפו" and "הדליפה" are as often a pipe or an air conditioner: the pattern names what leaked.
    "privacy": ["דליפת מידע", "דלף מידע", "הדלפה", "הדלפת מידע", "הדלפת נתונים", "הדלפת פרטים", "הדלפתם",
                "הודלף", "הודלפו", "הודלפה", "האקר", "האקרים", "מתקפת סייבר", "פריצת סייבר",
                "רואה פרטים של לקוח אחר",
                "פרטים של לקוחות אחרים", "גניבת זהות", "החלפת סים", "פישינג", "מכרתם את המידע",
                "הפרת פרטיות"],
    "discrimination": ["גזען", "גזענות", "גזענית", "אפליה", "הפלייה", "הפלו אותי", "הטרדה מינית", "הטריד",
                       "סקסיסט", "הומופוב", "אנטישמי", "כי אני ערבי", "כי אני ערביה", "בגלל הנכות"],
    "protest": ["חרם", "להחרים", "מחרימים", "החרימו", "הפגנה", "מחאה", "עצומה נגד", "כולם לעזוב את גלים",
                "תפיצו", "ויראלי"],
    "self_harm": ["להתאבד", "אתאבד", "התאבדות", "לשים קץ לחיי", "לשים סוף לחיים", "לפגוע בעצמי",
                  "אין לי בשביל מה לחיות", "רוצה למות"],
}
# What is hacked: accounts and systems anywhere in the next words; a phone or a computer only as what was broken
# into ("פרצו לי לטלפון"), since a car broken into often held one.
_ACCOUNT = (r"(חשבון|חשבונות|משתמש|מייל|אימייל|גימייל|אפליקציה|אתר|מערכת|מערכות|שרת|שרתים|מאגר|נתונים|מידע|ענן"
            r"|פייסבוק|פייס|אינסטגרם|אינסטה|טיקטוק|טלגרם|וואטסאפ|ווטסאפ|גוגל|סיסמה|סיסמא|פרופיל|אזור האישי)")
_HACKED = r"(פרצו|פרץ|פורץ|פורצים|פריצה|פריצת|נפרץ|נפרצה|נפרצו)"
_PREFIX = r"(^|\W)[ושכהלמב]{0,3}"  # a Hebrew word's prefixes (ו, ש, כש, ה, ל, מ, ב and their pairs)
_PATTERNS_HE: dict[str, list[str]] = {
    # A medicine or a dose given or stated wrong; "can I take a double dose?" is a customer's own question.
    "safety": [r"(עמוד|כבל|חוט|אנטנה|תורן)[^.!?]{0,30}נפל",
               r"(לקחה|לקח|לקחתי|נתנו|קיבלה|קיבל|קיבלתי|כתוב|רשום|מופיע|לוקחת|לוקח)\W([^.!?]{0,30}\W)?מינון "
               r"(כפול|משולש|גבוה|פי \S+)( \S+)? ממה ש",
               r"(נתנו|נתנה|נתן|קיבלתי|קיבלה|קיבל|ניפקו|סיפקו|מכרו|רשמו|רשם|רשמה)\W([^.!?]{0,25}\W)?"
               r"(תרופה לא נכונה|התרופה הלא נכונה|מינון לא נכון|תרופה של (מטופל|מישהו|מישהי) (אחר|אחרת)"
               r"|מרשם של (מטופל|מישהו|מישהי) (אחר|אחרת))"],
    "privacy": [_PREFIX + _HACKED + r"\W(\S+\W){0,2}[ולבמשה]{0,3}" + _ACCOUNT,
                _PREFIX + _HACKED + r"\W(לי\W|לנו\W)?ל(טלפון|פלאפון|נייד|סלולרי|מחשב|לפטופ)",
                _PREFIX + _ACCOUNT + r"\W(\S+\W){0,3}(נפרץ|נפרצה|נפרצו|פרצו)",
                r"(^|\W)(הדליפו|הדליף|הדליפה|דלפו)\W(\S+\W){0,2}(ה)?(פרטים|פרטי|נתונים|מידע|סיסמאות|מספר|מספרי"
                r"|כתובת|תעודת|תיק|מסמכים)"],
    # Shut out in a wheelchair; a wheelchair named in passing is as often a question about access.
    "discrimination": [r"(כיסא|כסא) גלגלים[^.!?]{0,60}(אין (דרך|אפשרות|גישה)|אי אפשר|לא (יכול|יכולה|יכולים"
                       r"|מצליח|מצליחה)) (להיכנס|לעלות|להגיע ל(סניף|מרפאה|קומה|דלפק))",
                       r"לא (נגיש|נגישה|מונגש|מונגשת) ל(נכים|כיסא|כסא)"],
    # "עו"ד" is written out as "עורך דין" before matching (detect.expand_abbreviations), so rules name it in full.
    # A bare "תביעה" is as often an insurance or warranty claim, so only its legal senses are listed.
    "legal": [r"תביעה (משפטית|נגד)", r"כתב תביעה",
              r"(^|\W)(פונה|פניתי|אפנה|נפנה|לפנות|מעביר|מעבירה|אעביר|נעביר|נשלחת|הולך|הולכת|אלך|נלך)\W"
              r"([^.!?]{0,25}\W)?ו?לעורכת? (ה)?דין",
              r"עורכת? (ה)?דין (שלי|שלנו) (כבר )?(מכין|מכינה|שולח|שולחת|ישלח|תשלח|יתבע|תתבע)"],
    "press": [r"(יתפרסם|פרסום|יופיע|תופיע|תהיה|יהיה)(\W[^.!?]{0,20})?\Wבעיתון"],
}

# Example messages are matched by meaning, for wordings no keyword foresaw.
_EXAMPLES_EN = {
    "legal": ["You will be hearing from my attorney about this", "I'm taking legal steps against your company"],
    "press": ["I write for a newspaper and would like your response", "This story is going on the evening news"],
    "safety": ["Your equipment nearly burned my house down", "Someone could get electrocuted by that cable"],
    "privacy": ["Strangers know my account details, who leaked them?", "I received someone else's invoice"],
    "discrimination": ["Your employee insulted me because of where I come from"],
    "protest": ["We are calling on everyone to cancel their Galim subscriptions"],
    "self_harm": ["I don't see a point in going on living"],
}
_EXAMPLES_HE = {
    "legal": ["תשמעו מהעורך דין שלי בקרוב", "אני נוקט צעדים משפטיים נגד החברה"],
    "press": ["אני כותב לעיתון ומבקש את תגובתכם", "הסיפור הזה יעלה בחדשות הערב"],
    "safety": ["הציוד שלכם כמעט שרף לי את הבית", "מישהו עלול להתחשמל מהכבל הזה"],
    "privacy": ["זרים יודעים את פרטי החשבון שלי, מי הדליף?", "קיבלתי חשבונית של מישהו אחר"],
    "discrimination": ["העובד שלכם העליב אותי בגלל המוצא שלי"],
    "protest": ["אנחנו קוראים לכולם לבטל את המנוי בגלים"],
    "self_harm": ["אני לא רואה טעם להמשיך לחיות"],
}

_NAMES = {
    "legal": ("Legal threat", "איום משפטי"), "press": ("Press or media", "עיתונות ותקשורת"),
    "safety": ("Physical safety", "בטיחות"), "privacy": ("Privacy or data incident", "אירוע פרטיות ומידע"),
    "discrimination": ("Discrimination or abuse", "אפליה או התעמרות"),
    "protest": ("Public protest or boycott", "מחאה או חרם"), "self_harm": ("Self-harm", "פגיעה עצמית"),
}

DEFAULT_RULES: list[dict] = []
for _kind in _NAMES:
    DEFAULT_RULES.append({
        "kind": _kind, "lang": "en", "name": _NAMES[_kind][0], "keywords": _KEYWORDS_EN[_kind],
        "patterns": _PATTERNS_EN.get(_kind, []), "examples": _EXAMPLES_EN[_kind], "department": _DEPARTMENT[_kind],
        "holding": _HOLD_EN[_kind],
        "severity": _SEVERITY[_kind],
    })
    DEFAULT_RULES.append({
        "kind": _kind, "lang": "he", "name": _NAMES[_kind][1], "keywords": _KEYWORDS_HE[_kind],
        "patterns": _PATTERNS_HE.get(_kind, []), "examples": _EXAMPLES_HE[_kind], "department": _DEPARTMENT[_kind],
        "holding": _HOLD_HE[_kind],
        "severity": _SEVERITY[_kind],
    })
