"""Issue 4's yardstick: are blocked people caught behind new accounts, and strangers left alone?

    .venv/bin/python bench/personas.py [FOLDER]     (default: data/personas)

A persona folder holds invented blocked people written independently of the
code (each a folder with persona.json, history.jsonl and later.jsonl, the
messages they sent later from new accounts) and benign.jsonl, ordinary
messages from many other senders. For each persona, screens its later
messages and the benign messages addressed to the same user, with that persona
configured as blocked (history included). Then once more with all of them
blocked in one config, to see whether attribution picks the right person.
Each folder gets its own section in docs/benchmarks.md.

Then the public benign corpora in ../shared/data (when present), each message
from a stranger writing for the first time, with every persona of the folder
blocked at once: the false-quarantine rate on ordinary people's mail and SMS.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections import Counter
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import write_section  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PERSONAS = ROOT / "data" / "personas"
SHARED = ROOT.parent / "shared" / "data"
if not SHARED.is_dir():
    SHARED = Path("/work/shared/data")
PUBLIC_LIMIT = 400   # messages per public corpus


def load(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def addresses(values, region: str) -> set[str]:
    """Addresses and numbers in one written form, so '07700 900954' and '+447700900954' meet."""
    from screener.normalize import normalize_sender

    return {normalize_sender(v, region) for v in ([values] if isinstance(values, str) else values)}


def user_region(persona: dict, later: list[dict]) -> str:
    """The user's own region: `user.region` if given, else the region of the international numbers
    the persona's later messages were sent to (an Irish user, +353, whose blocked mother lives in
    Perth), else the persona's."""
    user = persona["user"]
    if user.get("region"):
        return user["region"]
    import phonenumbers

    regions = Counter()
    for record in later:
        for to in record.get("to", []):
            if to.startswith("+"):
                try:
                    regions[phonenumbers.region_code_for_number(phonenumbers.parse(to))] += 1
                except phonenumbers.NumberParseException:
                    pass
    found = [r for r, _ in regions.most_common(1) if r and r != "ZZ"]
    return found[0] if found else persona["region"]


def toml_list(items) -> str:
    return "[" + ", ".join(json.dumps(i) for i in items) + "]"


def config_text(user: dict, region: str, people: list[tuple[dict, Path]]) -> str:
    out = [f'[user]\nname = {json.dumps(user["name"])}\nemails = {toml_list(user.get("emails", []))}\n'
           f'phones = {toml_list(user.get("phones", []))}\nregion = "{region}"\n']
    from screener.normalize import normalize_phone

    for p, folder in people:
        p = dict(p, phones=[normalize_phone(x, p["region"]) for x in p["phones"]])
        out.append(f'[[blocked]]\nname = {json.dumps(p["name"])}\nnicknames = {toml_list(p.get("nicknames", []))}\n'
                   f'emails = {toml_list(p["emails"])}\nphones = {toml_list(p["phones"])}\n'
                   f'history = {json.dumps(str(folder.resolve() / "history.jsonl"))}\n')
    return "\n".join(out)


def screener_for(config: str):
    from screener.config import load_config
    from screener.model import TacticModel
    from screener.screening import Screener

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "c.toml"
        path.write_text(config)
        return Screener(load_config(path), TacticModel.load())


def screen(config: str, records: list[dict]) -> list[dict]:
    from screener.message import Message

    screener = screener_for(config)
    records = sorted(records, key=lambda r: r.get("date", ""))
    verdicts = screener.screen([Message.from_dict(r) for r in records])
    return [dict(v.as_dict(), expected=r.get("expected_person"), sender=r["sender"]) for v, r in zip(verdicts, records)]


# Sets whose misses have been studied to improve the code; the others are the honest figures.
DEVELOPMENT = ("personas", "personas2", "personas3", "personas4", "personas5", "personas7", "personas8", "personas9", "personas10",
               "personas11", "personas12", "personas13", "personas14", "personas15", "personas16", "personas17",
               "personas18", "personas19", "personas20", "personas22")
# Sets independent for their new-account messages, whose benign messages were read for a rule.
BENIGN_READ = ("personas6", "personas21")


def title(folder: Path) -> str:
    name = folder.resolve().name
    kind = "development set" if name in DEVELOPMENT else \
        "independent new-account messages, benign messages read" if name in BENIGN_READ else "independent"
    return f"new accounts ({folder.name}, {kind})"


def persona_section(folder_root: Path, personas: list) -> str:
    benign = load(folder_root / "benign.jsonl")
    rows, caught, total, fp, nb, hard, held_all_benign, afterwards = [], 0, 0, 0, 0, [], [], 0
    laters, regions = [], []   # each persona's later messages and the user's region, read once
    for persona, folder in personas:
        user = persona["user"]
        later = load(folder / "later.jsonl")
        region = user_region(persona, later)
        laters.append(later)
        regions.append(region)
        mine = addresses(user.get("emails", []) + user.get("phones", []), region)
        own_benign = [b for b in benign if addresses(b.get("to", []), region) & mine]
        results = screen(config_text(user, region, [(persona, folder)]), later + own_benign)
        bad = [r for r in results if r["expected"] and not (r["action"] == "quarantine" and r["blocked_person"] == r["expected"])]
        held_benign = [r for r in results if not r["expected"] and r["action"] == "quarantine"]
        held_all_benign += held_benign
        afterwards += sum(1 for r in results if r["expected"] and r["action"] == "quarantine"
                          and r["blocked_person"] == r["expected"] and _afterwards(r))
        n_later = sum(1 for r in results if r["expected"])
        n_benign = len(results) - n_later
        caught += n_later - len(bad)
        total += n_later
        fp += len(held_benign)
        nb += n_benign
        rows.append(f"| {persona['name']} ({persona['relation']}) | {n_later - len(bad)}/{n_later} | "
                    f"{len(held_benign)}/{n_benign} |")
        hard += [f"{r['id']}: {r['sender_status']}" for r in bad] + [f"{r['id']}: held" for r in held_benign]
    # all of them blocked at once: attribution among several people
    all_later = [r for later in laters for r in later]
    joint = []
    for (persona, _), later, region in zip(personas, laters, regions):
        joint += screen(config_text(persona["user"], region, personas), later)
    held_by_content = sum(1 for r in held_all_benign if "manipulative (" in r["reasons"][-1]["detail"])
    benign_afterwards = sum(1 for r in held_all_benign if _afterwards(r))
    right = sum(1 for r in joint if r["action"] == "quarantine" and r["blocked_person"] == r["expected"])
    held_any = sum(1 for r in joint if r["action"] == "quarantine")
    print("missed or wrongly held:", ", ".join(hard))
    return ("| persona | new-account messages held and attributed | benign messages held |\n|---|---|---|\n"
            + "\n".join(rows)
            + f"\n| **all** | **{caught}/{total} = {100 * caught / max(1, total):.1f}%** (target >= 90%) | "
              f"**{fp}/{nb} = {100 * fp / max(1, nb):.1f}%** (target <= 2%) |\n\n"
            f"Of the new-account messages held, {afterwards} were held afterwards (delivered when they came, held "
            "when a later message from the same sender showed who it was; see docs/policy.md).\n\n"
            f"Of the benign messages held, {held_by_content} by manipulative content from a first contact (the "
            f"tactic model's false alarms), {benign_afterwards} afterwards with a later one from the same sender, "
            f"{fp - held_by_content - benign_afterwards} by identity evidence adding up.\n\n"
            f"With all {len(personas)} people blocked in one config: {held_any}/{len(all_later)} new-account "
            f"messages held, {right}/{len(all_later)} = {100 * right / max(1, len(all_later)):.1f}% attributed to "
            "the right person.\n")


def _afterwards(result: dict) -> bool:
    return result["reasons"][-1]["detail"].startswith("held afterwards")


def public_section(personas: list) -> str | None:
    """Ordinary people's messages, each from a first-time stranger, with every persona blocked."""
    from screener.public_data import benign_sets

    sets = {name: msgs for name, msgs in benign_sets(SHARED, PUBLIC_LIMIT).items() if msgs}
    if not sets:
        return None
    persona, folder = personas[0]
    region = user_region(persona, load(folder / "later.jsonl"))
    screener = screener_for(config_text(persona["user"], region, personas))
    rows, held_all, n_all = [], 0, 0
    for n, (name, msgs) in enumerate(sets.items()):
        # A fresh sender for each message: nobody is established, the harshest case.
        strangers = [replace(m, sender=(f"+1312{n}55{i:04d}" if m.channel == "sms" else f"stranger{n}.{i}@gmail.com"),
                             sender_name="") for i, m in enumerate(msgs)]
        verdicts = screener.screen(strangers)
        held = [v for v in verdicts if v.action == "quarantine"]
        by_identity = [v for v in held if "adds up" in v.reasons[-1].detail]
        rows.append(f"| {name} | {len(held)}/{len(msgs)} = {100 * len(held) / len(msgs):.1f}% | "
                    f"{len(by_identity)} | {len(held) - len(by_identity)} |")
        held_all += len(held)
        n_all += len(msgs)
    return (f"Each message screened as a first contact from a new free-mail address or number, with all "
            f"{len(personas)} personas blocked (histories loaded):\n\n"
            "| corpus | held | by identity evidence adding up | by manipulative content from a first contact |\n"
            "|---|---|---|---|\n"
            + "\n".join(rows) + f"\n| **all** | **{held_all}/{n_all} = {100 * held_all / n_all:.1f}%** | | |\n")


def main(argv: list[str]) -> None:
    """One persona folder if given; otherwise every set in data/ (personas, personas2, ...)."""
    if not argv:
        for folder in sorted(PERSONAS.parent.glob("personas*")):
            if folder.is_dir() and not (folder / "benign.jsonl").is_file():
                print(f"skipping {folder.relative_to(ROOT)}: no benign.jsonl (a set still being written?)",
                      file=sys.stderr)
            elif folder.is_dir():
                main([str(folder.relative_to(ROOT))])
        return
    folder_root = Path(argv[0]) if Path(argv[0]).is_absolute() else ROOT / argv[0]
    folders = sorted(p for p in folder_root.iterdir() if (p / "persona.json").is_file())
    personas = [(json.loads((f / "persona.json").read_text()), f) for f in folders]
    name = title(folder_root)
    command = ".venv/bin/python bench/personas.py" + (f" {argv[0]}" if argv else "")
    body = persona_section(folder_root, personas)
    write_section(name, body, command)
    print(f"## {name}\n{body}")
    public = public_section(personas)
    if public:
        write_section(f"{name}: public benign corpora", public, command)
        print(public)


if __name__ == "__main__":
    main(sys.argv[1:])
