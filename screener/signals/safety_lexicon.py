"""Phrases that signal danger, as evidence beside the model's `safety` score.

Recall matters more than precision for safety: these patterns catch the
classic forms even in wordings the model never saw. Each pattern carries the
plain-words description a friend reads in the alert.
"""

from __future__ import annotations

import re

from screener.signals import AnchorGate, Reason, plain, quote

_P = [
    (r"\bi know (?:when|what time) (?:you|u)\b|\bi know (?:you|u) (?:get off|finish|leave|clock off|start)\b"
     r"|\bi(?: know|'?ve known| knew) (?:your|ur) (?:schedule|routine|timetable|shifts?|rota|movements)\b",
     "says they know the user's routine"),
    (r"\b(?:you|u) left (?:the|your|ur|work|home)\b[^.?!\n]{0,20}\bat \d",
     "says they know when the user came or went"),
    (r"\bbottom of (?:your|ur) (?:stairs|road|street|drive|garden)\b|\bopen (?:the|ur|your) door\b"
     r"|\b(?:i'?m|im|ah'?m|am) (?:sat|sittin|sitting|waiting|parked) (?:outside|ootside|in the car park|at the end)",
     "says they are outside or at the user's place"),
    (r"\bthis (?:isn'?t|isnt|is not|aint|ain'?t) over\b|\btick tock\b",
     "veiled threat"),
    (r"\b(?:life360|find my|snap ?map|strava|location)\b[^.?!\n]{0,40}\b(?:shows|showing|still|says)\b",
     "says they track the user's location"),
    (r"\b(?:post|share|send|forward|show)(?:ing)? (?:the|your|ur|those|all (?:the|your|ur|our)) (?:pictures|pics|photos|videos|nudes|screenshots|chats)\b"
     r"|\b(?:pictures|photos|pics|videos|nudes) (?:you|u) sent me\b",
     "threatens to expose images or private material"),
    (r"\bi know where (?:you|u|ur|she|he|they)\b[^.?!\n]{0,20}\b(?:live|living|work|stay|sleep|park|are|r|go|moved)",
     "says they know where the user lives, works or goes"),
    # not the courtesy "I'll text when I'm outside"
    (r"(?<!when )(?<!once )(?<!if )(?<!till )(?<!until )"
     r"\b(?:i'?m|im|i am|am|i'?ll be|ill be|i'?m sat|i'?m parked|waiting)\s+(?:right\s+)?(?:outside|parked outside|outside ur|outside your|at ur door|at your door|at your (?:house|flat|work|office|place|gym|school)|at the end of your (?:road|street)|across the (?:road|street))",
     "says they are outside or at the user's place"),
    (r"\b(?:(?:i|we) )?(?:saw|seen|spotted|watched|clocked)\s+(?:you|u|ya|your car|ur car|you and|u and)\b[^.?!\n]{0,40}\b(?:at|in|outside|with|leaving|today|yesterday|last night|this morning|on)\b",
     "says they saw the user somewhere (watching or following)"),
    (r"\bnice (?:car|dress|haircut|hair|jacket|coat|outfit|top|shoes|boots|new car|ride|bike|run|workout)\b[^.?!\n]{0,30}\b(?:today|yesterday|this morning|tonight|last night|at the|at|outside|in)\b",
     "comments on what the user wore or did at a place: a sign of watching"),
    (r"\b(?:following|followed|tracking|tracked|been watching|keeping an eye on|watching) (?:you|u|ur|your)\b",
     "says they follow or watch the user"),
    (r"\b(?:find|found|track) (?:you|u)\b[^.?!\n]{0,25}\b(?:wherever|anywhere|eventually|no matter)",
     "says they will find the user"),
    # not the idiom "would it kill you to answer?"
    (r"(?<!would it )(?<!will it )(?<!wouldn't it )(?<!wouldnt it )(?<!it wouldn't )(?<!it wouldnt )(?<!it won't )"
     r"(?<!it wont )\b(?:kill|hurt|stab|shoot|strangle|beat|batter|smash|burn|break)\s+(?:you|u|ya|him|her|them|your|ur)\b",
     "threatens violence"),
    (r"\b(?:still )?(?:have|got|kept) (?:a |the |your |ur )?(?:spare )?keys? (?:to|for) (?:your|ur|the) (?:house|flat|place|door)|\b(?:still )?(?:have|got) (?:a |the )?(?:spare )?key to (?:yours|urs)\b",
     "says they still have a key to the user's home"),
    (r"\bnothing (?:left )?to lose\b",
     "says they have nothing left to lose"),
    (r"\b(?:kill|hurt|harm|cut)\s+myself\b|\b(?:go and|just) die\b|\bnot (?:wanting|want) to be here\b|\b(?:end|take)\s+(?:it all|my (?:own )?life|it tonight)\b|\bend it\b|\bnot (?:be )?(?:here|around) (?:much longer|anymore|tomorrow)\b|\b(?:overdose|pills|jump off|the bridge)\b|\bbetter off without me\b|\bwhen i'?m gone\b|\bdon'?t want to (?:live|be here)\b",
     "mentions self-harm or suicide"),
    (r"\b(?:send|post|share|show|leak|upload|put|spread|email|forward)\b[^.?!\n]{0,25}\b(?:photos|pics|pictures|videos|vids|nudes|images|screenshots|sex tape|tape)\b[^.?!\n]{0,30}\b(?:to (?:your|ur|everyone|every|all)|online|on (?:facebook|insta|instagram|twitter|tiktok|the internet|social)|everywhere|to the world|at your)"
     r"|\b(?:everyone|your (?:boss|family|mum|mom|dad|work|new (?:man|bloke|guy|girlfriend|boyfriend|fella)))\b[^.?!\n]{0,20}\b(?:will )?(?:see|get|receive)s? (?:those|the|your|ur) (?:photos|pics|pictures|videos|nudes)",
     "threatens to expose images or private material"),
    (r"\b(?:you'?ll|you will|u will|ull|you'?re going to|ur gonna|you are going to|youre gonna|you're gonna)\s+(?:regret|pay for|be sorry|get what|wish)\b",
     "warns the user they will regret or pay for it"),
    (r"\bwatch your back\b|\bsleep with one eye\b|\baccidents happen\b|\bwouldn'?t want anything to happen\b|\bbe a shame if\b|\byou'?ve been warned\b|\blast warning\b|\bbe careful (?:out there|walking|at night|going home)\b"
     r"|\blook(?:ing)? (?:behind (?:you|u|ya)|over (?:your|ur|yer) shoulder)\b",
     "veiled threat"),
    (r"\b(?:take|taking|snatch|keep)\s+(?:the|my|our)\s+(?:kids|children|boys|girls|son|daughter|baby)\b[^.?!\n]{0,40}\b(?:never see|away|abroad|and go|and leave|disappear)|\bnever see (?:the|your|ur) (?:kids|children|son|daughter|boys|girls) again\b",
     "threatens to take the children"),
    (r"\b(?:come|coming|came|turn up|turning up|turned up|show up|showing up|showed up|drive|driving|drove|pop|popping|popped|drop|dropping|head|heading)\s+(?:round|over|by|up)?\s*(?:to|at)\s+(?:your|ur)\s+(?:house|place|flat|work|office|school|job|mum'?s|mom'?s|parents'?|door|gym|church)\b",
     "says they will turn up (or turned up) at the user's home or work"),
    (r"\b(?:burn|torch|smash up|trash)\b[^.?!\n]{0,15}\b(?:house|flat|car|place)\b|\bslash(?:ed)? (?:your|ur) tyres\b",
     "threatens property"),
    (r"\b(?:your|ur|ya|yer) (?:car|van|truck|ute|jeep|motor)\b[^.?!\n]{0,30}\b(?:outside|in the drive(?:way)?|on the drive|parked (?:at|on|outside|up)|still (?:on|in|at|outside))\b"
     r"|\bstill (?:in|on) the drive(?:way)?\b[^.?!\n]{0,30}\b(?:so|must)\b",
     "says they watch the user's car or home"),
    (r"\bcheck (?:your|ur|ya|the) (?:porch|doorstep|door ?step|letterbox|mailbox|windscreen|windshield|front door)\b"
     r"|\bleft (?:something|a (?:little )?(?:something|present|gift|note|surprise)) (?:on|at|by|outside) (?:your|ur|the) (?:door|porch|step|doorstep|car|windscreen)\b",
     "says they left something at the user's home or car"),
    (r"\b(?:ask(?:ing|ed|in)\b[^.?!\n]{0,50}|tell me )\bwhere (?:you|u)(?:'re| are| r)? (?:living|live|work|working|staying|moved)\b"
     r"|\bwhat address (?:it|you|u|she|he)\b",
     "someone has been asking where the user lives or works"),
    (r"\b(?:kicked|kicking|smashed|smashing|booted) (?:the |your |ur |her |his |their |my )?(?:front |back |screen |car )?(?:door|window|windscreen)s?\b",
     "violence at a home or car"),
    (r"\bi know (?:people|some people|lads|guys|blokes|a guy|a bloke|some lads|someone|somebody)\b[^.?!\n]{0,40}"
     r"\b(?:do it for|do (?:you|u|ya) over|sort (?:you|u|ya) out|deal with (?:you|u|ya)|pay (?:you|u|ya) a visit"
     r"|teach (?:you|u|ya)|hurt (?:you|u|ya)|break (?:your|ur|yer))",
     "says they know people who would hurt the user"),
    (r"\bi (?:know|kno|knw|no) (?:wer|whr|wea) (?:you|u|ur)\b",
     "says they know where the user lives, works or goes"),
    (r"\b(?:i'?ll|ill|i will|i'?m|im|i am)(?: gonna| going to)? (?:be|come|pop|drop|call) (?:round |roon |over |by )?"
     r"(?:at |to )?(?:yours|urs)\b|\bmake me come (?:round|roon|over|down|up)(?: there| to yours| to urs)?\b"
     r"|\bknock,? knock\b",
     "says they will turn up (or turned up) at the user's home or work"),
    (r"\b(?:the |a )?(?:bottle|pills|tablets|knife|rope|blade)\b[^.?!\n]{0,25}\bin my hand\b",
     "mentions self-harm or suicide"),
    (r"\b(?:a |little )?tile (?:sewn|stitched|hidden|tucked)\b|\b(?:airtag|tracker|tile)\b[^.?!\n]{0,25}\bsewn\b",
     "says they track the user's location"),
    (r"\b(?:is|it'?s|its|left (?:it|them)|waiting|already) (?:already )?(?:on|at|outside) (?:your|ur) "
     r"(?:porch|doorstep|door ?step|front door)\b"
     r"|\b(?:leave|drop|put) (?:it|them|something|a \w+) (?:on|at) (?:your|ur) (?:\w+'?s )?(?:step|doorstep|porch)\b",
     "says they left something at the user's home or car"),
    (r"\b(?:come|get|got) home one day and find\b",
     "veiled threat"),
    (r"\b(?:rang|called|phoned|came (?:in|into|to|by)|turned up at|showed up at|was at|been (?:in|at|to)) "
     r"(?:the |your |ur )?(?:office|reception|work|school|front desk|shop|gym|house|flat|door)\b[^.?!\n]{0,30}"
     r"\b(?:looking|asking) (?:for|after|about) (?:you|u)\b",
     "someone has been asking where the user lives or works"),
    (r"\b(?:asked|tried|trying|attempted|wanted) to (?:collect|take|pick up) (?:her|him|them|the (?:kids|children|boys|girls))\b"
     r" (?:early|from (?:the )?school|out of (?:the )?school|without (?:your|ur|the|a|any))\b"
     r"|\bnot on (?:her|his|their|the) collection list\b",
     "someone tried to take the children from school or care"),
    # "You can have her back when you agree to talk", "I'm not bringing Ruby back till you..."
    (r"\b(?:you|u) (?:can|will|get to) (?:have|get|see) (?:her|him|them|the (?:kids|children|boys|girls)) back "
     r"(?:when|if|once|till|until|unless)\b"
     r"|\bnot (?:bringing|giving|sending|returning) (?:her|him|them|the (?:kids|children|boys|girls)|[a-z]+) back "
     r"(?:till|until|unless|til)\b",
     "keeps the children from the user until the user gives in"),
    (r"\bi know (?:you'?re|youre|ur|you are|u r|u are) (?:home|in there|inside|in ur|in your)\b",
     "says they know the user is at home"),
]
# Forms so plainly dangerous that they are read in every message, whatever the model thinks
# (the patterns above count only with some model support: "open the door" from a courier).
_STRONG = [
    (r"\bif (?:i|he|she) can'?t have (?:you|u|them|her|him)\W+(?:no ?one|nobody|no1|noone|no-one)(?: else)? (?:can|will|gets?|does)\b",
     "says if they (or he, or she) can't have the user (or the children), nobody can"),
    (r"\b(?:i'?m|im|i am) coming for (?:you|u|ya)\b|\bdead (?:woman|man|girl|boy|meat) walking\b"
     r"|\bhope (?:he|she|someone|somebody) (?:hits|kills|hurts|beats) (?:you|u)\b|\bnext time i (?:won'?t|will not) (?:text|call|ask|warn)",
     "threatens violence"),
    (r"\b(?:put|installed|hid|placed|stuck|fitted) (?:a |an )?(?:tracker|tracking device|airtag|gps tracker)\b"
     r"|\bran (?:your|ur) (?:plate|number plate|reg)\b",
     "says they track the user's location"),
    (r"\b(?:took|taken|swallowed|take|taking) (?:a load of|all (?:of )?(?:my|the|her|his)|loads of|the whole (?:bottle|box|packet) of|a (?:bottle|box|packet) of) (?:pills|tablets|meds|paracetamol)\b"
     r"|\bjump (?:from|off) (?:the |a )?(?:roof|bridge|building|balcony|cliff)\b|\b(?:drink|drank|swallow) (?:the )?(?:bleach|phenyl|poison|weedkiller)\b"
     r"|\b(?:sorry|happy) (?:when|wen|once) (?:i'?m|im) gone\b",
     "mentions self-harm or suicide"),
    (r"\bslit (?:my|her|his|their) wrists\b|\b(?:tried|trying) to (?:kill|hang|top) (?:himself|herself|myself|themselves)\b"
     r"|\b(?:nobody|no one|no-one|noone|no1)(?:'d| would| will) (?:miss|notice) (?:me|if i)\b",
     "mentions self-harm or suicide"),
    # "he has expressed thoughts of ending his life", "he say to me he has nothing to live for",
    # "I've sorted my affairs. The flat keys are with my brother"
    (r"\b(?:end|ending|take|taking) (?:his|her|my|their) (?:own )?life\b|\bnothing (?:left )?to live for\b"
     r"|\bno reason to live\b|\b(?:i'?ve |have |i )?sorted (?:out )?(?:all )?my affairs\b",
     "mentions self-harm or suicide"),
    (r"\b(?:found|find|finds|there'?s|there was|discovered) (?:an? |this )?(?:airtag|tracker|tracking device|gps tracker)\b"
     r"|\bairtag (?:found )?moving with you\b|\b(?:airtag|tracker|tracking device)\b[^.?!\n]{0,20}\b(?:taped|stuck|hidden|attached|under (?:the|your|ur))",
     "a tracking device found on the user or their things"),
]
# Words each pattern cannot match without (lower case): a pattern runs only when
# one of its anchors is in the text, which skips most regex work on most messages.
# tests/test_lexicons.py checks every example against both.
_ANCHORS = [
    ("i know", "ve known", "i knew"),
    ("left",),
    ("bottom of", "open", "sat", "sittin", "waiting", "parked"),
    ("over", "tick tock"),
    ("life360", "find my", "snap", "strava", "location"),
    ("pic", "photo", "video", "nude", "screenshot", "chats"),
    ("know where",),
    ("outside", "at ur", "at your", "end of your", "across the"),
    ("saw", "seen", "spotted", "watched", "clocked"),
    ("nice",),
    ("follow", "track", "watching", "keeping an eye"),
    ("find", "found", "track"),
    ("kill", "hurt", "stab", "shoot", "strangle", "beat", "batter", "smash", "burn", "break"),
    ("key",),
    ("nothing",),
    ("myself", "go and die", "just die", "be here", "it all", "it tonight", "my life", "own life", "end it",
     "here much", "here anymore", "here tomorrow", "around much", "around anymore", "around tomorrow", "overdose",
     "pills", "jump off", "bridge", "better off", "m gone", "want to live"),
    ("photo", "pic", "video", "vid", "nude", "image", "screenshot", "tape"),
    ("regret", "pay for", "sorry", "get what", "wish"),
    ("watch your back", "one eye", "accidents happen", "anything to happen", "shame if", "been warned",
     "last warning", "be careful", "look behind", "look over", "looking behind", "looking over"),
    ("kids", "children", "boys", "girls", "son", "daughter", "baby"),
    ("house", "place", "flat", "work", "office", "school", "job", "mum", "mom", "parents", "door", "gym", "church"),
    ("burn", "torch", "smash", "trash", "slash"),
    ("car", "van", "truck", "ute", "jeep", "motor", "drive"),
    ("check", "left"),
    ("ask", "what address", "tell me where"),
    ("kicked", "kicking", "smashed", "smashing", "booted"),
    ("i know",),
    ("wer ", "whr", "wea "),
    ("yours", "urs", "make me come", "knock"),
    ("in my hand",),
    ("tile ", "sewn"),
    ("porch", "doorstep", "door step", "front door", "step"),
    ("home one day",),
    ("looking for", "asking for", "looking after", "asking after", "looking about", "asking about"),
    ("collect", "take", "pick up", "collection list"),
    (" back ",),
    ("i know",),
]
_STRONG_ANCHORS = [   # read in every message: only rare words
    ("can't have", "cant have"),
    ("coming for", "walking", "hope he", "hope she", "hope some", "next time i"),
    ("tracker", "tracking device", "airtag", "ran your", "ran ur"),
    ("pills", "tablets", "meds", "paracetamol", "jump from", "jump off", "bleach", "phenyl", "poison", "weedkiller",
     "m gone"),
    ("wrists", "tried to", "trying to", "miss me", "notice me", "notice if", "miss if"),
    ("life", "live for", "reason to live", "affairs"),
    ("airtag", "tracker", "tracking device"),
]
assert len(_ANCHORS) == len(_P) and len(_STRONG_ANCHORS) == len(_STRONG)
# Patterns are written in lower case and matched against the lower-cased text
# (faster than IGNORECASE); the evidence quoted is the original's same span.
PATTERNS = [(re.compile(p), why, anchors) for (p, why), anchors in zip(_P, _ANCHORS)]
STRONG = [(re.compile(p), why, anchors) for (p, why), anchors in zip(_STRONG, _STRONG_ANCHORS)]
EVERY = STRONG + PATTERNS
_GATE = AnchorGate(anchors for _, _, anchors in EVERY)   # STRONG first: its bits are the low ones


def safety_reasons(text: str, supported: bool = True) -> list[Reason]:
    """Every danger pattern found, each with the matched words as its evidence; without
    model support (`supported` False), only the plainly dangerous forms."""
    text, low = plain(text)
    found = []
    gate = _GATE.open(low)
    for i, (pattern, why, _) in enumerate(EVERY if supported else STRONG):
        if gate >> i & 1 and (m := pattern.search(low)):
            found.append(Reason("safety_phrase", 0.9, f"{why}: '{quote(text, low, m).strip()}'"))
    return found
