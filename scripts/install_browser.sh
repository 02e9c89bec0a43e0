#!/usr/bin/env bash
# Install the headless Chromium and its driver that the browser tests use
# (tests/test_ui_browser.py, marker `browser`). Idempotent: does nothing when
# both are already installed. Run as root on Debian/Ubuntu:
#   sudo scripts/install_browser.sh
set -euo pipefail

if [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]]; then
    echo "chromium and chromedriver are already installed: $(/usr/bin/chromium --version 2>/dev/null || true)"
    exit 0
fi

if [[ "$(id -u)" -ne 0 ]]; then
    echo "Run as root (for example: sudo $0); apt-get installs system packages." >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y chromium chromium-driver
echo "Installed: $(/usr/bin/chromium --version 2>/dev/null || echo chromium) and $(/usr/bin/chromedriver --version)"
