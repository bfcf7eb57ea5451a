#!/bin/sh
# Debian packages the real-server and browser tests need: Dovecot's IMAP server
# and Chromium. A policy-rc.d that exits 101 keeps apt from starting a system
# Dovecot (each test starts its own private one on 127.0.0.1).
set -e
missing=""
command -v dovecot >/dev/null 2>&1 || [ -x /usr/sbin/dovecot ] || missing="$missing dovecot-imapd"
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
command -v openssl >/dev/null 2>&1 || missing="$missing openssl"   # the TLS tests' throwaway certificate
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
fi
export DEBIAN_FRONTEND=noninteractive
echo "installing$missing (Debian packages, for the real-server and browser tests)" >&2
$SUDO apt-get install -y -q $missing >/dev/null 2>&1 || {
    $SUDO apt-get update -q >/dev/null
    $SUDO apt-get install -y -q $missing >/dev/null
}
