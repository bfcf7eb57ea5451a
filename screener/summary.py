"""The protected person's content-free summary.

`render_summary(config, store, since, fmt)` returns the summary as plain text
or as a self-contained HTML page (the weekly chart embedded as a PNG). It
says how many messages were held and how (channel, person, sender status,
tactic), the trend by week, safety alerts raised and whether the friend was
told, releases, and whether the screener kept running. Never any message
text, subject, quote, sender address or paraphrase: the counts come from
`summary_data`, which reads no text at all. In co_parenting mode the digest
of neutral practical facts follows.
"""

from __future__ import annotations

import base64
import html
from datetime import datetime, timedelta

from screener import chart, digest as digest_mod
from screener.summary_data import SummaryData, gather
from screener.timeutil import day, day_time, plural, span

STATUS_WORDS = {
    "blocked": "from an address or number you blocked",
    "suspected_alias": "from a new account that seems to be theirs",
    "intermediary": "passed on by a go-between",
    "unknown": "from a first-time sender",
    "known": "from someone who has written before",
    "trusted": "from a trusted contact",
}
TACTIC_WORDS = {
    "hoovering": "pressing for contact",
    "love_bombing": "flattery or declarations of love",
    "guilt_tripping": "guilt-tripping",
    "gaslighting": "denying or rewriting what happened",
    "future_faking": "promises to change",
    "insult": "insults",
    "threat": "threats",
    "legal_threat": "legal threats",
    "smear": "turning others against you",
    "relay": "asking others to pass things on",
    "children_leverage": "using the children",
}
CHANNEL_WORDS = {"email": "by email", "sms": "by text message"}
CHART_CID = "trend-chart"


def render_summary(config, store, since: timedelta | None = timedelta(days=7), fmt: str = "text", *,
                   now: datetime | None = None) -> str:
    """The summary as text or as a self-contained HTML page (`now`: the end of the period, default now)."""
    data = gather(config, store, since, now=now)
    dig = digest_mod.collect(config, store, since, now=data.end) if config.policy.mode == "co_parenting" else None
    if fmt == "html":
        png = chart.png_chart(data.weeks)
        return to_html(data, dig, "data:image/png;base64," + base64.b64encode(png).decode("ascii"))
    return to_text(data, dig)


def period(data: SummaryData) -> str:
    if data.start is None:
        return f"everything up to {day(data.end)}"
    return f"{day(data.start)} to {day(data.end)}"


def sections(data: SummaryData) -> list[tuple[str, list[str], list[tuple[str, int]]]]:
    """(heading, sentences, rows of (label, count)) for each part of the summary."""
    out = []
    if data.screened:
        sentences = [f"{plural(data.screened, 'message')} screened: {data.delivered} delivered to you, "
                     f"{data.held} held back."]
    else:
        sentences = ["No messages came in during this period."]
    if data.held:
        sentences.append("You do not need to read or answer them. Your trusted friend can look through them.")
    if data.held_older:
        sentences.append(f"Also held: {plural(data.held_older, 'older message')} sent before this period, "
                         "screened for the first time now.")
    if data.unreadable:
        sentences.append(f"{plural(data.unreadable, 'message')} could not be read by the screener; "
                         "your trusted friend can check them.")
    out.append(("Overview", sentences, []))
    if data.held:
        out.append(("How they arrived", [], [(CHANNEL_WORDS.get(c, c), n) for c, n in data.by_channel.most_common()]))
        people = [(name, n) for name, n in data.by_person.most_common()]
        if data.no_person:
            people.append(("not linked to anyone you blocked", data.no_person))
        out.append(("Who they were from", [], people))
        out.append(("How they were sent", [],
                    [(STATUS_WORDS.get(s, s or "unknown"), n) for s, n in data.by_status.most_common()]))
        notes = ["A message can show more than one of these."]
        tactic_rows = [(TACTIC_WORDS.get(t, t.replace("_", " ")), n) for t, n in data.by_tactic.most_common()]
        if data.untagged:
            tactic_rows.append(("none of these", data.untagged))
        out.append(("Tactics noticed", notes, tactic_rows))
    out.append(("Safety alerts", [alert_sentence(data)], []))
    out.append(("Your trusted friend", friend_sentences(data), []))
    out.append(("The screener itself", daemon_sentences(data), []))
    return out


def alert_sentence(data: SummaryData) -> str:
    if not data.alerts:
        return "No safety alerts were raised."
    raised = (f"{plural(data.alerts, 'message')} raised a safety alert." if data.alerts > 1
              else "One message raised a safety alert.")
    if data.alerts_told == data.alerts:
        told = "Your trusted friend was told at the time." if data.alerts == 1 else \
            f"Your trusted friend was told about all {data.alerts} at the time."
    elif not data.alert_routes:
        told = ("No way to reach your trusted friend is set up ([alerts] in the config), so they were not told. "
                "Please ask them to check the held messages.")
    else:
        told = (f"Your trusted friend was told about {data.alerts_told} of {data.alerts}; "
                "the screener keeps trying to reach them about the rest.")
    return f"{raised} {told}"


def friend_sentences(data: SummaryData) -> list[str]:
    out = []
    if data.released:
        out.append(f"Released to you after checking: {plural(data.released, 'message')}.")
    else:
        out.append("No messages were released to you in this period.")
    if data.releases_waiting:
        out.append(f"Waiting to be released: {data.releases_waiting}.")
    if data.attention:
        out.append(f"Marked as needing your attention: {plural(data.attention, 'held message')}. "
                   "Ask your trusted friend about them when it suits you.")
    return out


def daemon_sentences(data: SummaryData) -> list[str]:
    d = data.daemon
    if not d.ever:
        return ["The screener has not run in the background yet, so only imported messages are counted."]
    out = []
    if d.running and not d.gaps:
        out.append(f"Running without a break since {day_time(d.since)}.")
    elif d.running:
        out.append(f"Running now, without a break since {day_time(d.since)}.")
    else:
        out.append(f"NOT running now. Last seen {day_time(d.last_seen)}. New messages are not being screened "
                   "until it is started again.")
    gaps = [g for g in d.gaps if d.running or g is not d.gaps[-1]]
    if gaps:
        longest = max(gaps, key=lambda g: g[1] - g[0])
        out.append(f"It stopped {plural(len(gaps), 'time')} in this period; the longest break lasted "
                   f"{span(longest[1] - longest[0])}, from {day_time(longest[0])}. Email that came in during "
                   "a break is screened when it starts again.")
    return out


def _rows_text(rows: list[tuple[str, int]], bars: bool) -> list[str]:
    if not rows:
        return []
    width = max(len(label) for label, _ in rows)
    most = max(n for _, n in rows)
    return [f"  {label:<{width}}  {n:>4}" + (f"  {chart.bar(n, most, 16)}" if bars else "") for label, n in rows]


def to_text(data: SummaryData, dig=None) -> str:
    out = ["Your screener summary", f"Period: {period(data)}", ""]
    for heading, sentences, rows in sections(data):
        out.append(heading)
        out.extend(digest_mod.wrap(s) for s in sentences)
        out.extend(_rows_text(rows, bars=heading == "Tactics noticed"))
        out.append("")
        if heading == "Tactics noticed" or (heading == "Overview" and not data.held):
            out.append(f"Held messages per week, by the week they were sent ({len(data.weeks)} weeks)")
            out.extend(f"  {line}" for line in chart.text_chart(data.weeks))
            out.append("")
    if dig is not None:
        out.append("Co-parenting digest")
        out.extend(digest_mod.wrap(line) for line in digest_mod.text_lines(dig))
        out.append("")
    out.append("This summary never shows what any held message says.")
    return "\n".join(out) + "\n"


CSS = ("body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:42em;margin:2em auto;padding:0 1em;"
       "line-height:1.5;color:#222;background:#fff}h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.6em}"
       "table{border-collapse:collapse}td{padding:.15em .8em .15em 0}td.n{text-align:right}"
       "img{max-width:100%;height:auto}.muted{color:#666}")


def to_html(data: SummaryData, dig, image_src: str) -> str:
    """The summary as an HTML page; `image_src` is a data: URI or a cid: reference to the chart PNG."""
    e = html.escape
    body = ["<h1>Your screener summary</h1>", f"<p class=\"muted\">Period: {e(period(data))}</p>"]
    for heading, sentences, rows in sections(data):
        body.append(f"<h2>{e(heading)}</h2>")
        body.extend(f"<p>{e(s)}</p>" for s in sentences)
        if rows:
            body.append("<table>" + "".join(f"<tr><td>{e(label)}</td><td class=\"n\">{n}</td></tr>"
                                            for label, n in rows) + "</table>")
        if heading == "Tactics noticed" or (heading == "Overview" and not data.held):
            body.append(f"<h2>Held messages per week, by the week they were sent ({len(data.weeks)} weeks)</h2>")
            body.append(f"<img src=\"{e(image_src)}\" alt=\"{e(chart.alt_text(data.weeks))}\" width=\"700\">")
    if dig is not None:
        body.append("<h2>Co-parenting digest</h2>")
        body.append(digest_mod.html_fragment(dig))
    body.append("<p class=\"muted\">This summary never shows what any held message says.</p>")
    return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
            f"<title>Your screener summary</title><style>{CSS}</style></head>\n<body>\n"
            + "\n".join(body) + "\n</body></html>\n")
