#!/usr/bin/env bash
# Install gtcheck and its test dependencies into ./.venv, then run the whole test suite.
#
# Works on a fresh machine that has Python 3.11+ and access to the package registries:
# it creates the virtual environment if needed, pip-installs `.[test]` (editable), installs
# the system packages some tests need when they are missing (Chromium, for the report's
# browser tests; only through apt-get, waiting for a held dpkg lock, only when `chromium` is
# not already on PATH, and a failure stops here unless GTCHECK_NO_BROWSER=1; as root,
# openssh-server, iptables, sudo and faketime for the SSH worker test bed), and runs `python -m pytest -q -n 2 --dist loadgroup` (pytest-xdist: two workers; PYTEST_WORKERS=N for another number, 0 for none). Extra arguments go to pytest. Exits with pytest's status, so
# CI (.ci/run) fails when a test fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"
  else return 1
  fi
}

# Another apt-get or unattended-upgrades may hold the dpkg lock for a while on a fresh
# machine: wait for it (up to APT_LOCK_TIMEOUT seconds) instead of failing at once.
APT_LOCK_TIMEOUT=${APT_LOCK_TIMEOUT:-600}
apt_install() {
  command -v apt-get >/dev/null 2>&1 || return 1
  local wait=(-o "DPkg::Lock::Timeout=$APT_LOCK_TIMEOUT")
  as_root env DEBIAN_FRONTEND=noninteractive apt-get "${wait[@]}" update -qq &&
    as_root env DEBIAN_FRONTEND=noninteractive apt-get "${wait[@]}" install -y -qq "$@"
}

if [ ! -x "$VENV/bin/python" ]; then
  if ! "$PYTHON" -m venv "$VENV"; then
    echo "test.sh: '$PYTHON -m venv' failed; trying to install python3-venv" >&2
    rm -rf "$VENV"
    apt_install python3-venv || { echo "test.sh: install python3-venv and retry" >&2; exit 1; }
    "$PYTHON" -m venv "$VENV"
  fi
fi

"$VENV/bin/python" -m pip install -q --disable-pip-version-check -e '.[test]'

# Chromium drives the report/serve browser tests (tests/browser). They fail without it, so
# a failed install fails the set-up here, clearly; GTCHECK_NO_BROWSER=1 runs without them
# (they are then skipped, each saying why).
if ! command -v chromium >/dev/null 2>&1 && [ "${GTCHECK_NO_BROWSER:-0}" != 1 ]; then
  if ! apt_install chromium >/dev/null; then
    echo "test.sh: error: chromium could not be installed (apt-get install chromium" \
         "failed); the browser tests need it. Install it and retry, or run" \
         "GTCHECK_NO_BROWSER=1 bash scripts/test.sh to skip them." >&2
    exit 1
  fi
fi

# The SSH worker tests (tests/remote) run against scripts/testbed.sh: network namespaces
# with Debian's sshd, iptables, sudo and faketime. Installed only when root (the test bed
# needs root anyway) and only what is missing; optional, so a failure only warns.
if [ "$(id -u)" -eq 0 ]; then
  testbed_missing=()
  [ -x /usr/sbin/sshd ] || testbed_missing+=(openssh-server)
  command -v iptables >/dev/null 2>&1 || testbed_missing+=(iptables)
  command -v sudo >/dev/null 2>&1 || testbed_missing+=(sudo)
  command -v faketime >/dev/null 2>&1 || testbed_missing+=(faketime)
  command -v ip >/dev/null 2>&1 || testbed_missing+=(iproute2)
  if [ ${#testbed_missing[@]} -gt 0 ]; then
    apt_install "${testbed_missing[@]}" >/dev/null ||
      echo "test.sh: warning: could not install ${testbed_missing[*]}; SSH worker tests cannot run" >&2
  fi
fi

# Two workers (the tests that share a network namespace or a fixed port run together on
# one: tests/conftest.py); PYTEST_WORKERS=0 runs everything in this process.
WORKERS=${PYTEST_WORKERS:-2}
if [ "$WORKERS" = "0" ]; then
  exec "$VENV/bin/python" -m pytest -q "$@"
fi
exec "$VENV/bin/python" -m pytest -q -n "$WORKERS" --dist loadgroup "$@"
