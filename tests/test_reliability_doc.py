"""docs/reliability.md names the tests behind each guarantee: every one must exist."""

import re

from conftest import ROOT

DOC = ROOT / "docs" / "reliability.md"


def test_every_test_named_in_reliability_md_exists():
    text = DOC.read_text(encoding="utf-8")
    named = set(re.findall(r"`(tests/[\w/]+\.py)::(test_\w+)`", text))
    assert len(named) >= 100
    missing = [f"{path}::{name}" for path, name in sorted(named)
               if not (ROOT / path).is_file() or f"def {name}(" not in (ROOT / path).read_text(encoding="utf-8")]
    assert missing == []
    for section in ("Nothing is lost", "Nothing leaks", "Bad input gets a clear error", "Local only"):
        assert f". {section}" in text
    assert text.count("(daemon: see tests/test_daemon_*.py)") >= 6
