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
    assert "daemon: see" not in text and "placeholder" not in text.lower()
    assert "## 5. The mailbox daemon when things go wrong" in text
    daemon_tests = {path for path, _ in named if "daemon" in path}
    assert {f"tests/test_daemon{part}.py" for part in ("", "_crash", "_faults", "_move_faults", "_recovery",
                                                       "_store_faults")} <= daemon_tests
