#!/usr/bin/env bash
# A local test bed for `gtcheck run --hosts`: three SSH hosts in network namespaces.
#
#   scripts/testbed.sh up     (root) create it; the last line printed is a hosts file
#   scripts/testbed.sh down   (root) remove everything `up` created
#   scripts/testbed.sh status print what exists (exit 1 when the bed is not up)
#
# `up` makes a bridge (gtcktb0, 10.237.16.1/24, in the root namespace: the control node's
# address as the hosts see it) and one network namespace per region (gtcktb-1..3, hosts
# 10.237.16.11..13) joined to it by veth pairs. Each namespace runs its own Debian sshd
# (openssh-server) bound to its host address only, with a host key generated here, public
# key login only, for one test user (gtcheck-tb) whose authorized key is generated here
# too. The test user may run exactly iptables, tc, kill, faketime and the gtcheck worker as
# root through sudo (a sudoers drop-in): host faults need root, and the worker must run as
# root here because this machine's Python lives under /root (mode 700). Every
# file lives under $GTCHECK_TESTBED_DIR (default /run/gtcheck-testbed): keys, known_hosts
# (the hosts' real keys, so gtcheck verifies them), sshd configs, the hosts file.
#
# `up` first runs `down`, so it also cleans up after a crash. `down` kills every process
# still inside the namespaces (sshd and any gtcheck worker), deletes the namespaces (their
# iptables rules and veths go with them), the bridge, the sudoers drop-in, the test user
# (only if `up` created it) and the state directory. Traffic stays on this bridge.
#
# Environment: GTCHECK_WORKER (the gtcheck executable the hosts run; default
# <repo>/.venv/bin/gtcheck: the hosts share this machine's filesystem), GTCHECK_TESTBED_REGIONS
# (three comma-separated regions; default us-east-1,us-east-2,us-west-2).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE=${GTCHECK_TESTBED_DIR:-/run/gtcheck-testbed}
BRIDGE=gtcktb0
NET=10.237.16
NS_PREFIX=gtcktb-
TB_USER=gtcheck-tb
SUDOERS=/etc/sudoers.d/gtcheck-testbed
REGIONS=${GTCHECK_TESTBED_REGIONS:-us-east-1,us-east-2,us-west-2}
WORKER=${GTCHECK_WORKER:-$REPO/.venv/bin/gtcheck}

say() { echo "testbed: $*" >&2; }
die() { say "error: $*"; exit 1; }

need_tools() {
  [ "$(id -u)" -eq 0 ] || die "must run as root (network namespaces, sshd, iptables)"
  local missing=()
  for t in ip iptables tc ssh-keygen sudo useradd /usr/bin/kill; do
    command -v "$t" >/dev/null 2>&1 || missing+=("$t")
  done
  [ -x /usr/sbin/sshd ] || missing+=("sshd (openssh-server)")
  [ ${#missing[@]} -eq 0 ] || die "missing: ${missing[*]} (scripts/test.sh installs them)"
}

namespaces() { ip netns list 2>/dev/null | awk '{print $1}' | grep "^${NS_PREFIX}" || true; }

down() {
  local ns pid link
  for ns in $(namespaces); do
    # Everything inside our namespaces is ours: sshd, sessions, workers.
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
  done
  # A namespace goes away asynchronously: delete the veths' host ends ourselves.
  for link in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 |
                grep '^gtcktb-h' || true); do
    ip link del "$link" 2>/dev/null || true
  done
  if ip link show "$BRIDGE" >/dev/null 2>&1; then ip link del "$BRIDGE" || true; fi
  rm -f "$SUDOERS"
  if [ -f "$STATE/created-user" ] && id "$TB_USER" >/dev/null 2>&1; then
    userdel "$TB_USER" 2>/dev/null || say "warning: could not delete user $TB_USER"
  fi
  rm -rf "$STATE"
}

wait_listening() {  # namespace address: sshd accepts connections within 10 s
  local i
  for i in $(seq 1 100); do
    if ip netns exec "$1" ss -Htln "src $2 and sport = :22" 2>/dev/null | grep -q .; then
      return 0
    fi
    sleep 0.1
  done
  return 1
}

up() {
  need_tools
  down
  IFS=, read -r -a regions <<<"$REGIONS"
  [ ${#regions[@]} -eq 3 ] || die "GTCHECK_TESTBED_REGIONS must name three regions"
  mkdir -p "$STATE/keys" "$STATE/authorized_keys" "$STATE/home" /run/sshd
  chmod 755 "$STATE" "$STATE/authorized_keys"
  if ! id "$TB_USER" >/dev/null 2>&1; then
    # '*': no password, yet not locked (sshd refuses locked accounts without PAM)
    useradd --system --home-dir "$STATE/home" --shell /bin/bash --password '*' "$TB_USER"
    touch "$STATE/created-user"
  fi
  chown "$TB_USER" "$STATE/home"
  # The worker runs as root too: this machine's Python lives under /root (mode 700).
  printf '%s ALL=(root) NOPASSWD: %s, %s, %s, %s, %s\n' "$TB_USER" "$(command -v iptables)" \
    "$(command -v tc)" /usr/bin/kill "$(command -v faketime || echo /usr/bin/faketime)" \
    "$WORKER" >"$SUDOERS.tmp"
  chmod 440 "$SUDOERS.tmp"
  mv "$SUDOERS.tmp" "$SUDOERS"

  ssh-keygen -q -t ed25519 -N '' -C gtcheck-testbed -f "$STATE/keys/id_ed25519"
  install -m 644 "$STATE/keys/id_ed25519.pub" "$STATE/authorized_keys/$TB_USER"
  : >"$STATE/known_hosts"

  ip link add "$BRIDGE" type bridge
  ip addr add "$NET.1/24" dev "$BRIDGE"
  ip link set "$BRIDGE" up

  {
    echo "# gtcheck hosts file written by scripts/testbed.sh up; removed by down."
    echo "control_address: $NET.1"
    echo "known_hosts: $STATE/known_hosts"
    echo "regions:"
  } >"$STATE/hosts.yaml"

  local i region ns addr
  for i in 1 2 3; do
    region=${regions[$((i - 1))]}
    ns="${NS_PREFIX}$i"
    addr="$NET.1$i"
    ip netns add "$ns"
    ip link add "gtcktb-h$i" type veth peer name eth0 netns "$ns"
    ip link set "gtcktb-h$i" master "$BRIDGE" up
    ip -n "$ns" link set lo up
    ip -n "$ns" addr add "$addr/24" dev eth0
    ip -n "$ns" link set eth0 up

    ssh-keygen -q -t ed25519 -N '' -C "tb$i" -f "$STATE/keys/host$i"
    cat >"$STATE/sshd-$i.conf" <<EOF
ListenAddress $addr
Port 22
HostKey $STATE/keys/host$i
PidFile $STATE/sshd-$i.pid
AuthorizedKeysFile $STATE/authorized_keys/%u
AllowUsers $TB_USER
PermitRootLogin no
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
X11Forwarding no
AllowTcpForwarding no
PrintMotd no
MaxSessions 32
MaxStartups 32:30:64
EOF
    ip netns exec "$ns" /usr/sbin/sshd -f "$STATE/sshd-$i.conf"
    wait_listening "$ns" "$addr" || die "sshd in $ns did not start listening on $addr:22"
    echo "$addr $(cut -d' ' -f1-2 "$STATE/keys/host$i.pub")" >>"$STATE/known_hosts"
    {
      echo "  $region:"
      echo "    - {name: tb$i, address: $addr, port: 22, user: $TB_USER, key: $STATE/keys/id_ed25519, sudo: true, gtcheck: $WORKER}"
    } >>"$STATE/hosts.yaml"
  done
  [ -x "$WORKER" ] || say "warning: $WORKER is not executable; set GTCHECK_WORKER"
  say "up: 3 hosts on $BRIDGE ($NET.11-13), control node at $NET.1"
  echo "$STATE/hosts.yaml"
}

status() {
  local ns
  ns=$(namespaces)
  [ -n "$ns" ] || { say "down"; exit 1; }
  echo "$ns"
  [ -f "$STATE/hosts.yaml" ] && echo "$STATE/hosts.yaml"
}

case "${1:-}" in
  up) up ;;
  down) [ "$(id -u)" -eq 0 ] || die "must run as root"; down; say "down" ;;
  status) status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
