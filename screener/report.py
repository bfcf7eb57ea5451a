"""Content-free reports: counts, tactics, alerts and neutral logistics facts.

Nothing here may print message text, subjects, quotes or paraphrase. The only
text that comes from a message is a logistics fact, which the extractor builds
from dates, times, amounts, capitalised place names and a fixed list of
document names.
"""

from __future__ import annotations

import json
from collections import Counter

from screener.config import Config
from screener.signals.content import NO_FACTS

STATUS_WORDS = {
    "blocked": "from a blocked person's known address or number",
    "suspected_alias": "from a new account that looks like a blocked person",
    "intermediary": "from someone relaying for a blocked person",
    "unknown": "from first-time senders",
    "known": "from people who wrote before",
    "trusted": "from your trusted contacts",
}


def _bar(n: int, most: int, width: int = 24) -> str:
    return "█" * max(1, round(width * n / most)) if n and most else ""


def scan_summary(result_lines: list[str], config: Config, stats) -> str:
    results = [json.loads(line) for line in result_lines]
    results = [r for r in results if "error" not in r]
    held = [r for r in results if r["action"] == "quarantine"]
    delivered = [r for r in results if r["action"] == "deliver"]
    out = [f"screener: {len(results)} messages screened"
           + (f", {stats.errors} could not be read" if stats.errors else "")]
    out.append(f"  delivered to you: {len(delivered)}")
    out.append(f"  held back for your trusted friend: {len(held)}")
    out.append("")
    out.append("Who the held messages came from:")
    for status, n in Counter(r["sender_status"] for r in held).most_common():
        out.append(f"  {n:>4}  {STATUS_WORDS.get(status, status)}")
    people = Counter(r["blocked_person"] for r in held if r["blocked_person"])
    if people:
        out.append("")
        out.append("Held, by person:")
        for name, n in people.most_common():
            out.append(f"  {n:>4}  {name}")
    tactics = Counter(t for r in held for t in r["tags"])
    if tactics:
        out.append("")
        out.append("Tactics in held messages (a message can carry several):")
        most = max(tactics.values())
        for tactic, n in tactics.most_common():
            out.append(f"  {tactic.replace('_', ' '):<18} {n:>4}  {_bar(n, most)}")
    alerts = [r for r in results if r["alert"]]
    out.append("")
    if alerts:
        out.append(f"Safety alerts: {len(alerts)} raised; your trusted friend is told at once.")
        for status, n in Counter(r["sender_status"] for r in alerts).most_common():
            out.append(f"  {n:>4}  {STATUS_WORDS.get(status, status)}")
    else:
        out.append("Safety alerts: none.")
    if config.policy.mode == "co_parenting":
        facts = []
        for r in held:
            if r["blocked_person"]:
                for f in r["logistics"]:
                    if f == NO_FACTS:
                        continue
                    line = f"{f['kind'].capitalize()}: {f['text']}"
                    if line not in facts:
                        facts.append(line)
        out.append("")
        if facts:
            out.append("Practical facts from held messages (co-parenting digest):")
            out.extend(f"  - {f}" for f in facts)
        else:
            out.append("Practical facts from held messages: none.")
    out.append("")
    out.append("No message text is shown here. Your trusted friend can review every held message.")
    return "\n".join(out)
