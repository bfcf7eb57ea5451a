"""The daemon over TLS against a real Dovecot: implicit TLS and STARTTLS with a
certificate the config trusts (`ca_file`), and a certificate nobody trusts, which
is refused before the password is sent."""

import pytest
from conftest_dovecot import PASSWORD_ENV, config_text, wait_until
from dovecot import Dovecot, available, make_message

from screener.config import load_config
from screener.daemon.mailbox import CommandFailed, ConnectionLost, Mailbox

QUARANTINE = "Screener/Quarantine"
BLOCKED = make_message(1, sender="alex.morgan@gmail.com", name="Alex Morgan",
                       body="You think you can just ignore me? After everything I did for you. Answer me.")


@pytest.fixture
def tls_server(monkeypatch):
    if not available():
        pytest.fail("Dovecot is not installed: run `make test-deps` (Debian's dovecot-imapd)")
    server = Dovecot.start(users={"sam": "correct horse battery"}, tls=True)
    monkeypatch.setenv(PASSWORD_ENV, server.users["sam"])
    yield server
    server.close()


def tls_config(server, tmp_path, **imap):
    path = tmp_path / "config.toml"
    path.write_text(config_text(server, tmp_path / "data" / "screener.db", **imap))
    return load_config(path)


def logins(server) -> list[str]:
    return [line for line in server.log().splitlines() if "Login: user=<sam>" in line]


@pytest.mark.parametrize("tls", ["ssl", "starttls"])
def test_the_daemon_screens_over_tls_with_a_trusted_certificate(tls_server, tmp_path, run_daemon, tls):
    port = tls_server.tls_port if tls == "ssl" else tls_server.port
    config = tls_config(tls_server, tmp_path, tls=tls, port=port, ca_file=str(tls_server.cert))
    tls_server.append("sam", "INBOX", BLOCKED)
    daemon = run_daemon(config)
    wait_until(lambda: len(tls_server.messages("sam", QUARANTINE)) == 1, message="quarantined over TLS")
    daemon.stop()
    assert tls_server.messages("sam", "INBOX") == []
    # The test's own helpers log in without TLS on loopback ("secured"); the daemon's logins are over TLS.
    assert any(", TLS," in line for line in logins(tls_server))


@pytest.mark.parametrize("tls", ["ssl", "starttls"])
def test_a_certificate_nobody_trusts_is_refused_before_the_password_is_sent(tls_server, tmp_path, tls):
    port = tls_server.tls_port if tls == "ssl" else tls_server.port
    config = tls_config(tls_server, tmp_path, tls=tls, port=port)
    before = len(logins(tls_server))
    with pytest.raises(ConnectionLost, match="TLS failed \\(CERTIFICATE_VERIFY_FAILED\\)"):
        Mailbox(config.imap[0], tls_server.users["sam"]).connect()
    assert len(logins(tls_server)) == before


def test_a_ca_file_that_is_not_a_certificate_is_a_clear_error(tls_server, tmp_path):
    bad = tmp_path / "ca.pem"
    bad.write_text("not a certificate\n")
    config = tls_config(tls_server, tmp_path, tls="ssl", port=tls_server.tls_port, ca_file=str(bad))
    with pytest.raises(CommandFailed, match="ca_file .*ca.pem is not a PEM certificate"):
        Mailbox(config.imap[0], tls_server.users["sam"]).connect()
