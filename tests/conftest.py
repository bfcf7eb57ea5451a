import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest_plugins = ["conftest_dovecot"]    # real-Dovecot fixtures: dovecot, imap_config, run_daemon

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"

CONFIG = """
[user]
name = "Sam Rivera"
emails = ["sam.rivera@example.org"]
phones = ["+1 415 555 0100"]
region = "US"

[policy]
mode = "{mode}"
quarantine_unknown_manipulative = true

[[blocked]]
name = "Alex Morgan"
nicknames = ["Al", "Lexi"]
emails = ["alex.morgan@gmail.com", "amorgan@corp.example"]
phones = ["(415) 555-0142"]

[[trusted]]
name = "Dana Lee"
emails = ["dana@example.net"]
phones = ["+1 415 555 0199"]
"""


@pytest.fixture
def config_path(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(CONFIG.format(mode="no_contact"))
    return path


@pytest.fixture(scope="session")
def config():
    import tempfile

    from screener.config import load_config

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "config.toml"
        path.write_text(CONFIG.format(mode="no_contact"))
        return load_config(path)


@pytest.fixture(scope="session")
def model():
    from screener.model import TacticModel

    return TacticModel.load()


@pytest.fixture(scope="session")
def screen(config, model):
    """Screen a list of dicts (contract records) as one batch, with fresh state."""
    from screener.message import Message
    from screener.screening import Screener

    def run(records):
        screener = Screener(config, model)
        msgs = [Message.from_dict({"id": str(i), **r}) for i, r in enumerate(records)]
        return screener.screen(msgs)

    return run


def run_cli(*args, input_text=None, cwd=None):
    env = dict(os.environ)
    return subprocess.run([sys.executable, "-m", "screener", *map(str, args)], input=input_text,
                          capture_output=True, text=True, cwd=cwd or ROOT, env=env, timeout=300)


def write_jsonl(path, records):
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records))
    return path
