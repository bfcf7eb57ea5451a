"""The tactic model's held-out figures, written beside their targets in docs/benchmarks.md.

Runs `screener evaluate` (which also refreshes the model card) and copies the
headline figures.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import write_section  # noqa: E402


def main() -> None:
    from screener.evaluate import evaluate_model
    from screener.model import DEFAULT_MODEL_DIR, META

    print(evaluate_model(write=True))
    meta = json.loads((DEFAULT_MODEL_DIR / META).read_text())
    ev = meta["evaluation"]
    t = ev["test"]

    def ok(value, goal, higher=True):
        return "meets" if (value >= goal if higher else value <= goal) else "**misses**"

    rows = [
        f"| macro-F1, 11 tactics | {t['macro_f1_tactics']:.3f} | >= 0.85 | {ok(t['macro_f1_tactics'], 0.85)} |",
        f"| any-tactic F1 | {t['any_tactic']['f1']:.3f} | >= 0.92 | {ok(t['any_tactic']['f1'], 0.92)} |",
        f"| safety recall | {t['safety_recall']:.3f} | >= 0.95 | {ok(t['safety_recall'], 0.95)} |",
        f"| logistics F1 | {t['logistics_f1']:.3f} | >= 0.85 | {ok(t['logistics_f1'], 0.85)} |",
    ]
    for name, r in ev.get("benign", {}).items():
        rows.append(f"| any tactic tag on {name} | {100 * r['any_tactic_rate']:.2f}% of {r['n']} | <= 2% | "
                    f"{ok(r['any_tactic_rate'], 0.02, higher=False)} |")
    body = (f"Held-out split: {t['n']} messages by writers who never saw the training data "
            f"({', '.join(f'{g}: {f[chr(110)]}' for g, f in ev.get('by_test_file', {}).items())}).\n\n"
            "| figure | measured | target | |\n|---|---|---|---|\n" + "\n".join(rows) +
            "\n\nPer-label figures: `models/tactics/MODEL_CARD.md`.\n")
    write_section("tactic model", body, "make evaluate (or: .venv/bin/python bench/model.py)")


if __name__ == "__main__":
    main()
