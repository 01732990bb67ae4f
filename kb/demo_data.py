"""A demo knowledge base for a telecom and internet provider ("Galim"), in English and Hebrew."""
from __future__ import annotations

# (id, category, question, alternates, answer, variants)
ENGLISH = [
    ("en-router-reset", "technical", "How do I restart my router?",
     ["my internet stopped working, how do I reboot the modem", "router reset instructions"],
     "Unplug the router's power cable, wait 30 seconds and plug it back in. The lights settle within about two "
     "minutes. If the internet light stays red, reply here and we will check the line for you.",
     {"x": "Unplug the router, wait 30 seconds, plug it back in. Lights settle in ~2 minutes. Still red? DM us "
           "and we'll check the line."}),
    ("en-slow-internet", "technical", "Why is my internet so slow?",
     ["internet speed is much lower than my plan", "wifi is slow in the evening"],
     "Speeds vary with Wi-Fi distance, walls and the number of devices. Please run a test at speed.galim.example "
     "with a cable plugged into the router. If the result is below 80% of your plan, send us the result and we "
     "will open a technical check.", {}),
    ("en-outage-check", "outages", "Is there an outage in my area?",
     ["is the network down right now", "no internet in my whole neighbourhood"],
     "You can see current outages and the expected repair time at status.galim.example. If your area is not "
     "listed, restart your router and tell us your city so we can check.",
     {"x": "Live outage map and repair times: status.galim.example. Not listed? Restart the router and DM us "
           "your city."}),
    ("en-bill-explained", "billing", "Why is my bill higher than usual this month?",
     ["my invoice went up", "unexpected charge on my bill"],
     "A higher bill usually comes from the end of a promotional price, a one-off charge such as a technician "
     "visit, or usage outside your plan. Every line is itemised in the app under Billing. Send us a private "
     "message and we will go through it with you.", {}),
    ("en-double-charge", "billing", "I was charged twice, what do I do?",
     ["double charge on my credit card", "you billed me two times"],
     "Sorry about that. Duplicate charges are refunded automatically within 5 business days once confirmed. "
     "Please send us a private message with the last four digits of the card and the dates, and our billing "
     "team will confirm it today.", {}),
    ("en-payment-method", "billing", "How do I change my payment method?",
     ["update credit card details", "switch to direct debit"],
     "In the Galim app go to Billing, then Payment method, and add the new card or bank account. The change "
     "applies from your next bill.", {}),
    ("en-due-date", "billing", "When is my bill due?",
     ["payment date", "what day do you charge me"],
     "Bills are issued on the 1st of each month and charged on the 10th. You can move the charge date to the "
     "1st, 10th or 20th in the app under Billing.", {}),
    ("en-plans-fiber", "plans", "What fiber plans do you offer?",
     ["fiber internet prices", "how much is fibre 1000"],
     "We offer fiber at 300 Mbps, 600 Mbps and 1 Gbps, with a router included. Current prices are at "
     "galim.example/fiber; a sales representative can check availability at your address.", {}),
    ("en-fiber-availability", "plans", "Is fiber available at my address?",
     ["can I get fibre in my building", "fiber coverage check"],
     "Enter your address at galim.example/fiber to check. If your building is not connected yet, you can "
     "register and we will tell you as soon as it is.", {}),
    ("en-upgrade-plan", "plans", "How do I upgrade my internet plan?",
     ["I want faster internet", "change to a bigger package"],
     "You can upgrade in the app under My plan, and the new speed applies within an hour. A sales "
     "representative can also help you choose; we will pass your details on.", {}),
    ("en-cancel", "account", "How do I cancel my subscription?",
     ["I want to leave Galim", "terminate my contract"],
     "We're sorry to see you go. You can cancel by phone at *1234 or in the app under My plan. Cancellation takes "
     "effect at the end of the billing month; equipment is returned at any Galim store.", {}),
    ("en-moving", "account", "I'm moving house, can I take my service with me?",
     ["transfer internet to new address", "relocation of my line"],
     "Yes. Tell us your new address and moving date at least 7 days ahead in the app under Moving, and we will "
     "schedule the installation for the day you arrive.", {}),
    ("en-contract-end", "account", "When does my contract end?",
     ["commitment period", "how long am I locked in"],
     "Your commitment end date appears in the app under My plan. After it ends the plan continues month to month "
     "with no exit fee.", {}),
    ("en-change-owner", "account", "How do I transfer the account to another person?",
     ["change account holder name", "put the line under my wife's name"],
     "Both the current and the new account holder need to fill in the transfer form at galim.example/transfer "
     "with ID. The change takes up to 3 business days.", {}),
    ("en-technician", "technical", "How do I book a technician visit?",
     ["schedule a technician", "need someone to come fix the line"],
     "After a remote check, our support team books a technician for the first available slot. Visits for line "
     "faults are free; a visit for equipment inside the home is {visit_fee}.", {},),
    ("en-wifi-password", "technical", "How do I change my Wi-Fi password?",
     ["change the wifi name and password", "forgot my wifi password"],
     "Open the Galim app, go to Equipment, then Wi-Fi, and choose a new name and password. Devices will need to "
     "reconnect with the new password.",
     {"x": "App > Equipment > Wi-Fi: set a new name and password, then reconnect your devices."}),
    ("en-mesh", "technical", "Do you have a Wi-Fi extender or mesh?",
     ["weak wifi upstairs", "wifi doesn't reach my bedroom"],
     "Yes, Galim Mesh units extend Wi-Fi to every room. You can add them in the app under Equipment for a "
     "monthly fee; they connect themselves to your router.", {}),
    ("en-return-equipment", "account", "How do I return the router after cancelling?",
     ["where do I return the modem", "equipment return"],
     "Bring the router and its power cable to any Galim store within 30 days of cancelling, or ask for a free "
     "courier pickup in the app.", {}),
    ("en-tv-channels", "plans", "Which TV channels are included?",
     ["tv package channels list", "does the package include sports"],
     "The channel list for each TV package is at galim.example/tv. Sports and film packs can be added "
     "in the app at any time.", {}),
    ("en-mobile-roaming", "plans", "How do I activate roaming abroad?",
     ["using my phone overseas", "roaming package price"],
     "Roaming packages can be bought in the app under Abroad before or during your trip. Without a package, "
     "calls and data abroad are charged by the minute and megabyte.", {}),
    ("en-esim", "technical", "Do you support eSIM?",
     ["can I use esim on my iphone", "switch to esim"],
     "Yes. In the app choose Mobile, then eSIM, and scan the QR code on the phone. Your number stays the same.",
     {}),
    ("en-port-number", "plans", "Can I keep my number when I switch to Galim?",
     ["number porting", "move my number from another provider"],
     "Yes. Number porting is free and usually completes within a day. Our sales team handles it with you when "
     "you join.", {}),
    ("en-store-hours", "general", "What are your store opening hours?",
     ["when are you open", "service centre hours"],
     "Most Galim stores are open Sunday to Thursday 9:00 to 20:00 and Friday 9:00 to 13:00. Each store's hours "
     "are at galim.example/stores.", {}),
    ("en-contact-support", "general", "How can I reach customer service?",
     ["phone number of support", "talk to a human"],
     "Call *1234 (24/7 for technical support), chat in the Galim app, or send us a private message here.",
     {"x": "Call *1234 (tech support 24/7), chat in the Galim app, or DM us."}),
    ("en-invoice-copy", "billing", "How do I get a copy of my invoice?",
     ["download my bill pdf", "need receipt for tax"],
     "All invoices from the last 7 years are in the app under Billing; each can be downloaded as a PDF or sent "
     "to your email.", {}),
    ("en-late-payment", "billing", "What happens if I pay late?",
     ["missed a payment", "overdue bill"],
     "We send a reminder first. If a bill is still unpaid after 30 days a late fee applies, and service may be "
     "limited after 60 days. You can set up a payment plan with our billing team.", {}),
    ("en-static-ip", "plans", "Can I get a static IP address?",
     ["fixed ip", "public static ip for business"],
     "A static IP is available as an add-on to any internet plan. Our sales team can add it for you.", {}),
    ("en-parental", "technical", "How do I set up parental controls?",
     ["block websites for my kids", "content filter"],
     "Galim Safe is free: turn it on in the app under Equipment, then Safe browsing, and choose a profile for "
     "each device.", {}),
    ("en-5g", "plans", "Do you have 5G coverage?",
     ["is 5g available in my city", "5g network"],
     "5G covers most cities; the coverage map is at galim.example/5g. Any current plan uses 5G on a compatible "
     "phone at no extra cost.", {}),
    ("en-data-privacy", "privacy", "What do you do with my personal data?",
     ["privacy policy", "do you sell my data"],
     "We use your data only to provide and bill our services and never sell it. The full privacy policy is at "
     "galim.example/privacy, and you can ask for a copy of your data in the app.", {}),
    ("en-senior-discount", "plans", "Do you offer discounts for seniors or students?",
     ["student discount", "pensioner price"],
     "Yes, seniors and students get a discount on internet plans with proof of eligibility. A sales "
     "representative will check what applies to you.", {}),
    ("en-email-setup", "technical", "How do I set up my Galim email on my phone?",
     ["email settings imap", "configure mail app"],
     "Use IMAP server mail.galim.example, port 993 with SSL, and your full email address as the username.", {}),
]

HEBREW = [
    ("he-router-reset", "technical", "איך מאתחלים את הראוטר?",
     ["האינטרנט הפסיק לעבוד, איך עושים ריסטרט למודם", "הוראות איפוס לנתב"],
     "נתקו את כבל החשמל של הראוטר, המתינו 30 שניות וחברו מחדש. הנורות מתייצבות תוך כשתי דקות. אם נורית "
     "האינטרנט נשארת אדומה, כתבו לנו כאן ונבדוק את הקו.",
     {"x": "נתקו את הראוטר, המתינו 30 שניות וחברו מחדש. הנורות מתייצבות תוך כ-2 דקות. עדיין אדום? שלחו לנו "
           "הודעה פרטית ונבדוק."}),
    ("he-slow-internet", "technical", "למה האינטרנט שלי כל כך איטי?",
     ["מהירות הגלישה נמוכה ממה ששילמתי", "הוויי פיי איטי בערב"],
     "המהירות מושפעת מהמרחק מהראוטר, מקירות וממספר המכשירים. בצעו בדיקה באתר speed.galim.example כשהמחשב "
     "מחובר בכבל לראוטר. אם התוצאה נמוכה מ-80% מהחבילה, שלחו לנו אותה ונפתח בדיקה טכנית.", {}),
    ("he-outage-check", "outages", "יש תקלה באזור שלי?",
     ["הרשת נפלה עכשיו?", "אין אינטרנט בכל השכונה"],
     "תקלות פעילות וזמן התיקון המשוער מופיעים באתר status.galim.example. אם האזור שלכם לא מופיע, אתחלו את "
     "הראוטר וכתבו לנו באיזו עיר אתם גרים.",
     {"x": "מפת תקלות וזמני תיקון: status.galim.example. לא מופיע? אתחלו את הראוטר ושלחו לנו את שם העיר."}),
    ("he-bill-explained", "billing", "למה החשבון שלי גבוה יותר החודש?",
     ["החשבונית עלתה", "חיוב לא צפוי בחשבון"],
     "חשבון גבוה נובע בדרך כלל מסיום מחיר מבצע, מחיוב חד-פעמי כמו ביקור טכנאי, או משימוש מחוץ לחבילה. כל "
     "שורה מפורטת באפליקציה תחת חשבונות. שלחו לנו הודעה פרטית ונעבור על זה יחד.", {}),
    ("he-double-charge", "billing", "חייבו אותי פעמיים, מה עושים?",
     ["חיוב כפול בכרטיס האשראי", "גביתם ממני פעמיים"],
     "מצטערים על כך. חיוב כפול מוחזר אוטומטית תוך 5 ימי עסקים מרגע האימות. שלחו לנו הודעה פרטית עם ארבע "
     "הספרות האחרונות של הכרטיס והתאריכים, וצוות החשבונות יאשר זאת עוד היום.", {}),
    ("he-payment-method", "billing", "איך משנים אמצעי תשלום?",
     ["לעדכן פרטי כרטיס אשראי", "לעבור להוראת קבע"],
     "באפליקציה של גלים היכנסו לחשבונות ואז לאמצעי תשלום, והוסיפו את הכרטיס או החשבון החדש. השינוי חל "
     "מהחשבון הבא.", {}),
    ("he-due-date", "billing", "מתי יורד החיוב החודשי?",
     ["מה תאריך התשלום", "באיזה יום אתם מחייבים"],
     "החשבון מופק ב-1 לחודש והחיוב יורד ב-10 לחודש. אפשר להעביר את מועד החיוב ל-1, ל-10 או ל-20 "
     "באפליקציה תחת חשבונות.", {}),
    ("he-plans-fiber", "plans", "אילו חבילות סיבים יש לכם?",
     ["מחירי אינטרנט בסיבים", "כמה עולה סיב של 1000"],
     "יש לנו סיבים במהירות 300, 600 ו-1000 מגה, כולל ראוטר. המחירים העדכניים באתר galim.example/fiber, "
     "ונציג מכירות יבדוק זמינות בכתובת שלכם.", {}),
    ("he-fiber-availability", "plans", "יש סיבים אופטיים בכתובת שלי?",
     ["אפשר לקבל סיב בבניין שלי", "בדיקת פריסת סיבים"],
     "הזינו את הכתובת באתר galim.example/fiber כדי לבדוק. אם הבניין עוד לא מחובר, אפשר להירשם ונעדכן ברגע "
     "שיחובר.", {}),
    ("he-upgrade-plan", "plans", "איך משדרגים את חבילת האינטרנט?",
     ["אני רוצה אינטרנט מהיר יותר", "לעבור לחבילה גדולה יותר"],
     "אפשר לשדרג באפליקציה תחת החבילה שלי, והמהירות החדשה נכנסת לתוקף תוך שעה. נציג מכירות ישמח לעזור "
     "בבחירה; נעביר אליו את הפרטים.", {}),
    ("he-cancel", "account", "איך מבטלים את המנוי?",
     ["אני רוצה לעזוב את גלים", "ביטול התחייבות וניתוק"],
     "חבל לנו שאתם עוזבים. אפשר לבטל בטלפון *1234 או באפליקציה תחת החבילה שלי. הביטול נכנס לתוקף בסוף "
     "חודש החיוב, ואת הציוד מחזירים בכל חנות של גלים.", {}),
    ("he-moving", "account", "אני עובר דירה, אפשר להעביר את השירות?",
     ["העברת אינטרנט לכתובת חדשה", "מעבר דירה והעברת קו"],
     "כן. עדכנו את הכתובת החדשה ותאריך המעבר לפחות 7 ימים מראש באפליקציה תחת מעבר דירה, ונתאם התקנה ליום "
     "שבו אתם מגיעים.", {}),
    ("he-contract-end", "account", "מתי נגמרת ההתחייבות שלי?",
     ["תקופת התחייבות", "עד מתי אני מחויב"],
     "תאריך סיום ההתחייבות מופיע באפליקציה תחת החבילה שלי. לאחר מכן החבילה ממשיכה מחודש לחודש ללא דמי "
     "יציאה.", {}),
    ("he-change-owner", "account", "איך מעבירים את החשבון לאדם אחר?",
     ["שינוי שם בעל החשבון", "להעביר את הקו על שם אשתי"],
     "בעל החשבון הנוכחי והחדש ממלאים יחד את טופס ההעברה באתר galim.example/transfer עם תעודת זהות. השינוי "
     "נמשך עד 3 ימי עסקים.", {}),
    ("he-technician", "technical", "איך מזמינים טכנאי?",
     ["לתאם ביקור טכנאי", "צריך שמישהו יבוא לתקן את הקו"],
     "אחרי בדיקה מרחוק, צוות התמיכה מתאם טכנאי למועד הפנוי הראשון. ביקור בגלל תקלה בקו הוא ללא עלות; ביקור "
     "לציוד בתוך הבית עולה {visit_fee}.", {}),
    ("he-wifi-password", "technical", "איך משנים את הסיסמה של הוויי פיי?",
     ["לשנות שם וסיסמה לרשת האלחוטית", "שכחתי את סיסמת הוויי פיי"],
     "פתחו את האפליקציה של גלים, היכנסו לציוד ואז ל-Wi-Fi, ובחרו שם וסיסמה חדשים. המכשירים יצטרכו "
     "להתחבר מחדש עם הסיסמה החדשה.",
     {"x": "באפליקציה: ציוד > Wi-Fi, בחרו שם וסיסמה חדשים וחברו את המכשירים מחדש."}),
    ("he-mesh", "technical", "יש לכם מגדיל טווח או מש?",
     ["הוויי פיי חלש בקומה העליונה", "אין קליטה בחדר השינה"],
     "כן, יחידות גלים Mesh מרחיבות את הרשת לכל חדר. אפשר להוסיף אותן באפליקציה תחת ציוד בתשלום חודשי, והן "
     "מתחברות לראוטר לבד.", {}),
    ("he-return-equipment", "account", "איך מחזירים את הראוטר אחרי ביטול?",
     ["לאן מחזירים את המודם", "החזרת ציוד"],
     "הביאו את הראוטר וכבל החשמל לכל חנות של גלים תוך 30 יום מהביטול, או הזמינו שליח חינם באפליקציה.", {}),
    ("he-tv-channels", "plans", "אילו ערוצים כלולים בחבילת הטלוויזיה?",
     ["רשימת ערוצים", "האם החבילה כוללת ספורט"],
     "רשימת הערוצים של כל חבילה נמצאת באתר galim.example/tv. אפשר להוסיף חבילות ספורט וסרטים באפליקציה "
     "בכל עת.", {}),
    ("he-mobile-roaming", "plans", "איך מפעילים גלישה בחו\"ל?",
     ["שימוש בטלפון בחוץ לארץ", "מחיר חבילת חו\"ל"],
     "חבילות חו\"ל נרכשות באפליקציה תחת חו\"ל, לפני הנסיעה או במהלכה. בלי חבילה, שיחות וגלישה בחו\"ל מחויבות "
     "לפי דקה ומגה.", {}),
    ("he-esim", "technical", "אתם תומכים ב-eSIM?",
     ["אפשר להשתמש באיסים באייפון", "מעבר לכרטיס סים דיגיטלי"],
     "כן. באפליקציה בחרו סלולר ואז eSIM, וסרקו את הקוד בטלפון. המספר נשאר אותו מספר.", {}),
    ("he-port-number", "plans", "אפשר לשמור על המספר שלי כשעוברים לגלים?",
     ["ניוד מספר", "להעביר את המספר מחברה אחרת"],
     "כן. ניוד מספר הוא ללא עלות ומסתיים בדרך כלל תוך יום. צוות המכירות מטפל בזה יחד איתכם בהצטרפות.", {}),
    ("he-store-hours", "general", "מה שעות הפתיחה של החנויות?",
     ["מתי אתם פתוחים", "שעות פעילות של מרכז השירות"],
     "רוב חנויות גלים פתוחות בימים א'-ה' בין 9:00 ל-20:00 וביום ו' בין 9:00 ל-13:00. השעות של כל חנות באתר "
     "galim.example/stores.", {}),
    ("he-contact-support", "general", "איך יוצרים קשר עם שירות הלקוחות?",
     ["מספר טלפון של התמיכה", "לדבר עם נציג אנושי"],
     "התקשרו ל-*1234 (תמיכה טכנית 24/7), כתבו בצ'אט באפליקציה של גלים, או שלחו לנו הודעה פרטית כאן.",
     {"x": "חייגו *1234 (תמיכה טכנית 24/7), צ'אט באפליקציה, או הודעה פרטית כאן."}),
    ("he-invoice-copy", "billing", "איך מקבלים העתק של חשבונית?",
     ["להוריד את החשבון כקובץ", "צריך קבלה למס הכנסה"],
     "כל החשבוניות משבע השנים האחרונות נמצאות באפליקציה תחת חשבונות; אפשר להוריד כל אחת כ-PDF או לשלוח "
     "למייל.", {}),
    ("he-late-payment", "billing", "מה קורה אם משלמים באיחור?",
     ["פספסתי תשלום", "חשבון שלא שולם"],
     "קודם נשלחת תזכורת. אם החשבון לא שולם אחרי 30 יום יחולו דמי פיגור, ואחרי 60 יום השירות עלול להיות "
     "מוגבל. אפשר לתאם הסדר תשלומים עם צוות החשבונות.", {}),
    ("he-static-ip", "plans", "אפשר לקבל כתובת IP קבועה?",
     ["איי פי קבוע", "IP סטטי לעסק"],
     "כתובת IP קבועה זמינה כתוספת לכל חבילת אינטרנט. צוות המכירות יוסיף אותה עבורכם.", {}),
    ("he-parental", "technical", "איך מגדירים סינון תוכן לילדים?",
     ["לחסום אתרים לילדים", "בקרת הורים"],
     "גלים Safe ניתן ללא עלות: הפעילו אותו באפליקציה תחת ציוד ואז גלישה בטוחה, ובחרו פרופיל לכל מכשיר.", {}),
    ("he-5g", "plans", "יש לכם כיסוי 5G?",
     ["האם יש דור חמישי בעיר שלי", "רשת 5G"],
     "רשת ה-5G מכסה את רוב הערים; מפת הכיסוי באתר galim.example/5g. כל חבילה עדכנית גולשת ב-5G בטלפון "
     "תומך ללא תוספת תשלום.", {}),
    ("he-data-privacy", "privacy", "מה אתם עושים עם המידע האישי שלי?",
     ["מדיניות פרטיות", "אתם מוכרים את המידע שלי?"],
     "אנחנו משתמשים במידע רק כדי לספק את השירות ולחייב עליו, ולעולם לא מוכרים אותו. מדיניות הפרטיות המלאה "
     "באתר galim.example/privacy, ואפשר לבקש עותק של המידע באפליקציה.", {}),
    ("he-senior-discount", "plans", "יש הנחה לגמלאים או לסטודנטים?",
     ["הנחת סטודנט", "מחיר מיוחד לאזרחים ותיקים"],
     "כן, גמלאים וסטודנטים מקבלים הנחה על חבילות אינטרנט בהצגת אישור זכאות. נציג מכירות יבדוק מה מתאים "
     "לכם.", {}),
    ("he-email-setup", "technical", "איך מגדירים את המייל של גלים בטלפון?",
     ["הגדרות דואר IMAP", "להגדיר את אפליקציית המייל"],
     "השתמשו בשרת IMAP בשם mail.galim.example, פורט 993 עם SSL, וכתובת המייל המלאה כשם משתמש.", {}),
]

# Entries that need a placeholder declared.
PLACEHOLDERS = {"en-technician": ["visit_fee"], "he-technician": ["visit_fee"]}

# One entry waits in review and one has been retired, so the console shows the whole lifecycle.
IN_REVIEW: tuple[str, str, str, list[str], str, dict[str, str]] = (
    "en-gift-card", "general", "Can I buy a Galim gift card?", [], "Gift cards are coming soon to Galim stores.", {})
RETIRED = "en-senior-discount"

CONTACTS = (
    ("customer-service", "Dana Levi", "dana.levi@galim.example", "+972-3-555-0101", True),
    ("customer-service", "Yossi Cohen", "yossi.cohen@galim.example", "+972-3-555-0102", False),
    ("sales", "Noa Ben-David", "noa.bd@galim.example", "+972-3-555-0201", True),
    ("technical-support", "Amir Haddad", "amir.haddad@galim.example", "+972-3-555-0301", True),
    ("spokesperson", "Michal Peretz", "michal.peretz@galim.example", "+972-3-555-0401", True),
    ("legal", "Adv. Ruth Friedman", "legal@galim.example", "+972-3-555-0501", True),
    ("security", "Eitan Shapiro", "security@galim.example", "+972-3-555-0601", True),
)
