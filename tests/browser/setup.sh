#!/usr/bin/env bash
# Installs what the browser tests need: Debian's chromium (no browser download) and the
# websocket-client package that drives it over the DevTools protocol. Idempotent.
set -euo pipefail
if ! command -v chromium >/dev/null 2>&1; then
  # wait for a dpkg lock held by another apt-get (as scripts/test.sh does)
  apt-get -o DPkg::Lock::Timeout=600 update -q
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q chromium
fi
python3 -c "import websocket" 2>/dev/null || python3 -m pip install -q "websocket-client>=1.6"
chromium --version
