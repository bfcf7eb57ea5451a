"""Shared by the benchmarks: rewrite one named section of docs/benchmarks.md.

Each bench script calls `write_section(name, body, command)`: the section
between `<!-- name -->` and `<!-- /name -->` is replaced (or appended the
first time), stamped with the time, the machine (cores, CPU, memory, Python,
load average) and the command that reproduces it. The intro is rewritten
each time too, keeping the line about the last full run.

`make bench` runs every script, then `python bench/_report.py --full-run
--started STAMP`, which records that run in the intro and names any section
it did not rewrite (a script that failed or was renamed): a full run leaves
no figure from an older run unmarked.

    python bench/_report.py --full-run --started "2026-11-21 10:00 UTC"
"""

from __future__ import annotations

import argparse
import os
import platform
import re
from datetime import datetime, timezone
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
STAMP = "%Y-%m-%d %H:%M UTC"
INTRO = ("# Benchmarks\n\n"
         "Figures written by the scripts in `bench/`. `make bench` runs them all and rewrites every section of "
         "this page in one run; each script also runs on its own (the command is under each heading). Each "
         "section says when and on what machine it was measured (cores, CPU, memory, Python, and the load "
         "average, since the machine may be shared), and each figure sits beside its target from the issues, "
         "saying where one misses.\n")
FULL_RUN = "Last full run (`make bench`):"
_SECTION = re.compile(r"<!-- (?!/)(.+?) -->\n.*?<!-- /\1 -->\n?", re.DOTALL)
_MEASURED = re.compile(r"^Measured (\d{4}-\d\d-\d\d \d\d:\d\d UTC)", re.MULTILINE)


def _cpu() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _memory_gb() -> float | None:
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def machine() -> str:
    """The machine in one line: system, cores, CPU, memory, Python, load average now."""
    memory = _memory_gb()
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    text = f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores ({_cpu()})"
    if memory is not None:
        text += f", {memory:.0f} GB memory"
    text += f", Python {platform.python_version()}"
    if load is not None:
        text += f"; load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1, 5, 15 min) when written"
    return text


def _now() -> str:
    return datetime.now(timezone.utc).strftime(STAMP)


def _split(text: str) -> tuple[str, str]:
    """(intro, the rest from the first section on)."""
    first = _SECTION.search(text)
    return (text, "") if first is None else (text[:first.start()], text[first.start():])


def _intro(old_intro: str, full_run: str | None = None) -> str:
    kept = full_run or next((line for line in old_intro.splitlines() if line.startswith(FULL_RUN)), None)
    return INTRO + (f"\n{kept}\n" if kept else "")


def render_section(name: str, body: str, command: str) -> str:
    return (f"<!-- {name} -->\n## {name}\n\nMeasured {_now()} on {machine()}.\n"
            f"Reproduce: `{command}`\n\n{body.strip()}\n<!-- /{name} -->\n")


def replace_section(text: str, name: str, block: str) -> str:
    """`text` with section `name` replaced by `block` where it was (any duplicate removed), or appended."""
    pattern = re.compile(rf"<!-- {re.escape(name)} -->\n.*?<!-- /{re.escape(name)} -->\n?", re.DOTALL)
    found = list(pattern.finditer(text))
    if not found:
        return text.rstrip("\n") + "\n\n" + block
    out, last = [], 0
    for i, match in enumerate(found):
        out.append(text[last:match.start()])
        if i == 0:
            out.append(block)
        last = match.end()
    out.append(text[last:])
    return re.sub(r"\n{3,}", "\n\n", "".join(out))


def write_section(name: str, body: str, command: str) -> None:
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
    intro, rest = _split(text)
    rest = replace_section(rest, name, render_section(name, body, command)) if rest else \
        render_section(name, body, command)
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(_intro(intro) + "\n" + rest.lstrip("\n"), encoding="utf-8")


def sections(text: str) -> dict[str, str | None]:
    """Each section's name and when it was measured (None when it does not say)."""
    out = {}
    for match in _SECTION.finditer(text):
        when = _MEASURED.search(match.group(0))
        out[match.group(1)] = when.group(1) if when else None
    return out


def finish_full_run(started: str) -> list[str]:
    """Record a full run that began at `started` (STAMP format) in the intro; return the sections it did
    not rewrite, which are marked as older in the intro."""
    text = DOC.read_text(encoding="utf-8")
    intro, rest = _split(text)
    begun = datetime.strptime(started, STAMP)
    stale = [name for name, when in sections(rest).items()
             if when is None or datetime.strptime(when, STAMP) < begun]
    line = f"{FULL_RUN} {started} to {_now()} on {machine()}."
    if stale:
        line += " Not rewritten by it (older figures): " + ", ".join(f"\"{s}\"" for s in stale) + "."
    DOC.write_text(_intro(intro, line) + "\n" + rest.lstrip("\n"), encoding="utf-8")
    return stale


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full-run", action="store_true", help="record the end of a full `make bench` run")
    parser.add_argument("--started", default=None, metavar="STAMP", help=f"when the run began ({STAMP})")
    args = parser.parse_args()
    if args.full_run:
        stale = finish_full_run(args.started or _now())
        print("docs/benchmarks.md: every section rewritten" if not stale else
              f"docs/benchmarks.md: NOT rewritten by this run: {', '.join(stale)}")


if __name__ == "__main__":
    main()
