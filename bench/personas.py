"""Issue 4's yardstick: are blocked people caught behind new accounts, and strangers left alone?

Reads data/personas/ (five invented blocked people written independently of
the code: each a history and ~23 later messages from new accounts, plus 220
ordinary messages from 166 other senders). For each persona, screens its later
messages and the benign messages addressed to the same user, with that persona
configured as blocked (history included). Then once more with all five
blocked in one config, to see whether attribution picks the right person.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import write_section  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PERSONAS = ROOT / "data" / "personas"


def load(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


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
                   f'history = {json.dumps(str(folder / "history.jsonl"))}\n')
    return "\n".join(out)


def screen(config: str, records: list[dict]) -> list[dict]:
    from screener.config import load_config
    from screener.message import Message
    from screener.model import TacticModel
    from screener.screening import Screener

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "c.toml"
        path.write_text(config)
        screener = Screener(load_config(path), TacticModel.load())
    records = sorted(records, key=lambda r: r.get("date", ""))
    verdicts = screener.screen([Message.from_dict(r) for r in records])
    return [dict(v.as_dict(), expected=r.get("expected_person"), sender=r["sender"]) for v, r in zip(verdicts, records)]


def main() -> None:
    folders = sorted(p for p in PERSONAS.iterdir() if (p / "persona.json").is_file())
    personas = [(json.loads((f / "persona.json").read_text()), f) for f in folders]
    benign = load(PERSONAS / "benign.jsonl")
    rows, caught, total, fp, nb, hard = [], 0, 0, 0, 0, []
    for persona, folder in personas:
        user = persona["user"]
        mine = set(user.get("emails", [])) | set(user.get("phones", []))
        own_benign = [b for b in benign if set(b.get("to", [])) & mine]
        later = load(folder / "later.jsonl")
        results = screen(config_text(user, persona["region"], [(persona, folder)]), later + own_benign)
        bad = [r for r in results if r["expected"] and not (r["action"] == "quarantine" and r["blocked_person"] == r["expected"])]
        held_benign = [r for r in results if not r["expected"] and r["action"] == "quarantine"]
        n_later = sum(1 for r in results if r["expected"])
        n_benign = len(results) - n_later
        caught += n_later - len(bad)
        total += n_later
        fp += len(held_benign)
        nb += n_benign
        rows.append(f"| {persona['name']} ({persona['relation']}) | {n_later - len(bad)}/{n_later} | "
                    f"{len(held_benign)}/{n_benign} |")
        hard += [f"{r['id']}: {r['sender_status']}" for r in bad]
    # all five blocked at once: attribution among several people
    all_later = [r for _, f in personas for r in load(f / "later.jsonl")]
    joint = []
    for persona, folder in personas:
        user = persona["user"]
        cfg = config_text(user, persona["region"], personas)
        joint += [r for r in screen(cfg, [x for x in load(folder / "later.jsonl")])]
    right = sum(1 for r in joint if r["action"] == "quarantine" and r["blocked_person"] == r["expected"])
    held_any = sum(1 for r in joint if r["action"] == "quarantine")
    body = ("| persona | new-account messages held and attributed | benign messages held |\n|---|---|---|\n"
            + "\n".join(rows)
            + f"\n| **all** | **{caught}/{total} = {100 * caught / total:.1f}%** (target >= 90%) | "
              f"**{fp}/{nb} = {100 * fp / nb:.1f}%** (target <= 2%) |\n\n"
            f"With all five people blocked in one config: {held_any}/{len(all_later)} new-account messages held, "
            f"{right}/{len(all_later)} = {100 * right / len(all_later):.1f}% attributed to the right person.\n")
    write_section("new accounts (personas)", body, ".venv/bin/python bench/personas.py")
    print(body)
    print("missed:", ", ".join(hard))


if __name__ == "__main__":
    main()
