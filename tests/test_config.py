"""Bad config: one line naming the file, the key and the problem."""

import pytest

from screener.config import iter_settings, load_config
from screener.errors import ConfigError

GOOD = """
[user]
name = "Sam"
region = "GB"
[[blocked]]
name = "Jo"
phones = ["07700 900482"]
"""


def write(tmp_path, text, name="c.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_good_config_is_frozen_and_resolves_paths(tmp_path):
    write(tmp_path, "{}", "h.jsonl")
    cfg = load_config(write(tmp_path, GOOD + 'history = "h.jsonl"\n'))
    assert cfg.user.region == "GB"
    assert cfg.blocked[0].history == (tmp_path / "h.jsonl").resolve()
    assert cfg.policy.mode == "no_contact" and cfg.policy.quarantine_unknown_manipulative is True
    with pytest.raises(Exception):
        cfg.user.name = "other"


@pytest.mark.parametrize("text, key, words", [
    ("[user]\nname = 'x'\nregoin = 'US'\n", "user.regoin", "unknown key (did you mean 'region'?)"),
    ("[polcy]\nmode = 'no_contact'\n", "polcy", "unknown table"),
    ("[policy]\nmode = 'nocontact'\n", "policy.mode", "must be one of"),
    ("[policy]\nquarantine_unknown_manipulative = 'yes'\n", "policy.quarantine_unknown_manipulative", "true or false"),
    ("[user]\nregion = 'XX'\n", "user.region", "not a known region"),
    ("[[blocked]]\nname = 'Jo'\nphones = ['555']\n", "blocked[0].phones", "not a phone number for region US"),
    ("[[blocked]]\nname = 'Jo'\nemails = ['jo at example.com']\n", "blocked[0].emails", "not an email address"),
    ("[[blocked]]\nname = 'Jo'\nhistory = 'missing.jsonl'\n", "blocked[0].history", "file not found"),
    ("[[blocked]]\nnicknames = ['J']\n", "blocked[0].name", "is required"),
    ("[[trusted]]\nname = 'Dee'\nphones = '07700 900482'\n", "trusted[0].phones", "list of strings"),
    ("[user]\nname = 'x'\n[user]\n", "", "invalid TOML"),
    ("blocked = 3\n", "blocked", "[[blocked]]"),
])
def test_errors_name_file_key_and_problem(tmp_path, text, key, words):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    assert key in message
    assert words in message


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "absent.toml")


def test_phone_checked_against_region(tmp_path):
    # A UK mobile in national form is fine for GB but not for US.
    load_config(write(tmp_path, "[user]\nregion = 'GB'\n[[blocked]]\nname='Jo'\nphones=['07700 900482']\n"))
    with pytest.raises(ConfigError, match="region US"):
        load_config(write(tmp_path, "[[blocked]]\nname='Jo'\nphones=['07700 900482']\n"))


def test_every_setting_has_help_and_is_documented():
    docs = (__import__("pathlib").Path(__file__).resolve().parent.parent / "docs" / "config.md").read_text()
    for section, key, _default, help_text in iter_settings():
        assert help_text.strip()
        assert f"`{key}`" in docs, f"docs/config.md does not document {section}.{key}"
