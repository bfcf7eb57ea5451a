"""bench/_report.py rewrites docs/benchmarks.md section by section: a full run replaces every section in
place (never a duplicate), the intro states the machine and `make bench`, and stale sections are named."""

import re
import sys

import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT))
from bench import _report  # noqa: E402


@pytest.fixture
def doc(tmp_path, monkeypatch):
    path = tmp_path / "docs" / "benchmarks.md"
    monkeypatch.setattr(_report, "DOC", path)
    return path


def names(text):
    return re.findall(r"^<!-- (?!/)(.+?) -->$", text, re.MULTILINE)


def test_sections_are_replaced_in_place_and_the_intro_says_how(doc):
    _report.write_section("alpha", "| a | 1 |", "python bench/alpha.py")
    _report.write_section("friend's page (web)", "| b | 2 |", "python bench/b.py")
    _report.write_section("gamma", "| c | 3 |", "python bench/c.py")
    _report.write_section("friend's page (web)", "| b | 20 |", "python bench/b.py")
    text = doc.read_text()
    assert names(text) == ["alpha", "friend's page (web)", "gamma"]          # order kept, no duplicate
    assert "| b | 20 |" in text and "| b | 2 |" not in text
    assert text.startswith("# Benchmarks\n") and "`make bench`" in text.split("<!--")[0]
    assert text.count("# Benchmarks") == 1 and "\n\n\n" not in text
    section = text.split("<!-- gamma -->")[1]
    assert "Reproduce: `python bench/c.py`" in section
    measured = re.search(r"Measured \d{4}-\d\d-\d\d \d\d:\d\d UTC on (.*)\.\n", section).group(1)
    for part in ("cores (", "GB memory", "Python 3.", "load average"):
        assert part in measured


def test_a_damaged_page_is_mended(doc):
    doc.parent.mkdir(parents=True)
    old = "<!-- alpha -->\n## alpha\n\nold figures\n<!-- /alpha -->\n"
    # an old intro, the same section twice (a bad merge), and no newline after the last end marker
    doc.write_text("# Benchmarks\n\nAn old intro.\n\n" + old + "\n" + old + "\n<!-- beta -->\n## beta\nx\n<!-- /beta -->")
    _report.write_section("alpha", "new figures", "cmd")
    _report.write_section("beta", "beta figures", "cmd")
    text = doc.read_text()
    assert names(text) == ["alpha", "beta"]
    assert "old figures" not in text and "new figures" in text and "beta figures" in text
    assert "An old intro." not in text and text.endswith("<!-- /beta -->\n")


def test_full_run_is_recorded_and_stale_sections_named(doc, monkeypatch):
    doc.parent.mkdir(parents=True)
    doc.write_text("# Benchmarks\n\n<!-- old one -->\n## old one\n\nMeasured 2020-01-01 10:00 UTC on x.\n"
                   "figures\n<!-- /old one -->\n")
    _report.write_section("fresh", "figures", "cmd")
    stale = _report.finish_full_run("2026-01-01 00:00 UTC")
    assert stale == ["old one"]
    text = doc.read_text()
    intro = text.split("<!--")[0]
    assert "Last full run (`make bench`): 2026-01-01 00:00 UTC to" in intro
    assert "load average" in intro and 'Not rewritten by it (older figures): "old one".' in intro
    _report.write_section("old one", "new", "cmd")                       # rewriting keeps the full-run line
    assert "Last full run (`make bench`)" in doc.read_text().split("<!--")[0]
    assert _report.finish_full_run("2026-01-01 00:00 UTC") == []


def test_make_bench_runs_every_script_then_records_the_run():
    recipe = (ROOT / "Makefile").read_text().split("\nbench:", 1)[1].split("\n\n")[0]
    assert "bench/[!_]*.py" in recipe and "_report.py --full-run" in recipe
    scripts = sorted(p.name for p in (ROOT / "bench").glob("*.py") if not p.name.startswith("_"))
    assert {"classify.py", "daemon.py", "web.py", "sms.py", "reports.py"} <= set(scripts)
