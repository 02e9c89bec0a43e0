#!/usr/bin/env bash
# Install the system packages the tests use: headless Chromium and its driver
# (tests/test_ui_browser.py, marker `browser`) and strace (tests/test_network.py
# checks at the system-call level that nothing connects outward). Idempotent:
# does nothing when all are installed. Run as root on Debian/Ubuntu:
#   sudo scripts/install_browser.sh
set -euo pipefail

if [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver && -x /usr/bin/strace ]]; then
    echo "chromium, chromedriver and strace are already installed: $(/usr/bin/chromium --version 2>/dev/null || true)"
    exit 0
fi

if [[ "$(id -u)" -ne 0 ]]; then
    echo "Run as root (for example: sudo $0); apt-get installs system packages." >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y chromium chromium-driver strace
echo "Installed: $(/usr/bin/chromium --version 2>/dev/null || echo chromium), $(/usr/bin/chromedriver --version) and $(/usr/bin/strace --version | head -1)"
