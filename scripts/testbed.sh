#!/usr/bin/env bash
# A local test bed for `gtcheck run --hosts`: three SSH hosts in network namespaces.
#
#   scripts/testbed.sh up     (root) create it; the last line printed is a hosts file
#   scripts/testbed.sh down   (root) remove everything `up` created
#   scripts/testbed.sh status print what exists (exit 1 when the bed is not up)
#   scripts/testbed.sh names  print the names and subnet this id's bed uses (no root)
#   scripts/testbed.sh sudoers print the sudoers rules `up` would install (no root)
#
# `up` makes a bridge (gtcktb0, 10.237.16.1/24, in the root namespace: the control node's
# address as the hosts see it) and one network namespace per region (gtcktb-1..3, hosts
# 10.237.16.11..13) joined to it by veth pairs. Each namespace runs its own Debian sshd
# (openssh-server) bound to its host address only, with a host key generated here, public
# key login only, for one test user (gtcheck-tb) whose authorized key is generated here
# too. Every file lives under $GTCHECK_TESTBED_DIR (default /run/gtcheck-testbed): keys,
# known_hosts (the hosts' real keys, so gtcheck verifies them), sshd configs, the hosts file.
#
# Several test beds on one machine: GTCHECK_TESTBED_ID=N (1..200) derives every name and
# the subnet from N -- bridge gtckNbr, namespaces gtckN-1..3, veths gtckNh1..3, subnet
# 10.238.N.0/24, user gtcheck-tbN, /etc/sudoers.d/gtcheck-testbed-N, state directory
# /run/gtcheck-testbed-N -- so `up`/`down` of one bed never touch another's. The default
# id 0 keeps the names above.
#
# sudo: host faults need root, and the worker must run as root here because this
# machine's Python lives under /root (mode 700). The sudoers drop-in allows the test user
# exact command lines only, their variable parts (a port, a delay, a pid, a clock offset)
# matched by anchored regular expressions (sudo >= 1.9.10): the gtcheck worker of each
# host (`--host tbI`, optionally `--clock-offset-ms -MS.F`: a planted clock error, and/or
# `--faketime +S.SSSs`: the clock fault, where the worker
# runs faketime itself, so faketime -- which runs any command -- is never run as root
# through sudo), the iptables rules of suite/remote/faults.py's GTCHECK chain, tc netem on
# eth0, and kill -9/-STOP/-CONT of numeric pids (still any process's: the hosts share this
# machine's pid space; a worker's pid is only known at run time).
#
# `up` first runs `down` (of the same id), so it also cleans up after a crash. `down` kills
# every process still inside the bed's namespaces (sshd and any gtcheck worker), deletes
# them (their iptables rules and veths go with them), the bridge, the sudoers drop-in, the
# test user (only if `up` created it) and the state directory. Traffic stays on the bridge.
#
# Environment: GTCHECK_TESTBED_ID (above), GTCHECK_WORKER (the gtcheck executable the hosts
# run; default <repo>/.venv/bin/gtcheck: the hosts share this machine's filesystem),
# GTCHECK_TESTBED_REGIONS (three comma-separated regions; default
# us-east-1,us-east-2,us-west-2).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REGIONS=${GTCHECK_TESTBED_REGIONS:-us-east-1,us-east-2,us-west-2}
WORKER=${GTCHECK_WORKER:-$REPO/.venv/bin/gtcheck}
ID=${GTCHECK_TESTBED_ID:-0}

say() { echo "testbed: $*" >&2; }
die() { say "error: $*"; exit 1; }

[[ "$ID" =~ ^(0|[1-9][0-9]{0,2})$ ]] && [ "$ID" -le 200 ] ||
  die "GTCHECK_TESTBED_ID must be a number from 0 to 200"
if [ "$ID" -eq 0 ]; then  # the names the test bed always had
  BRIDGE=gtcktb0 NS_PREFIX=gtcktb- VETH_PREFIX=gtcktb-h NET=10.237.16 TB_USER=gtcheck-tb
  SUDOERS=/etc/sudoers.d/gtcheck-testbed STATE=${GTCHECK_TESTBED_DIR:-/run/gtcheck-testbed}
else
  BRIDGE=gtck${ID}br NS_PREFIX=gtck${ID}- VETH_PREFIX=gtck${ID}h NET=10.238.$ID
  TB_USER=gtcheck-tb$ID SUDOERS=/etc/sudoers.d/gtcheck-testbed-$ID
  STATE=${GTCHECK_TESTBED_DIR:-/run/gtcheck-testbed-$ID}
fi

names() {  # what this id's bed is made of (no root needed): for checks and tests
  echo "id=$ID bridge=$BRIDGE namespaces=${NS_PREFIX}1,${NS_PREFIX}2,${NS_PREFIX}3" \
    "veths=${VETH_PREFIX}1,${VETH_PREFIX}2,${VETH_PREFIX}3 subnet=$NET.0/24" \
    "control=$NET.1 user=$TB_USER sudoers=$SUDOERS state=$STATE"
}

sudoers_rules() {  # the sudoers drop-in: exact command lines (see the top of this file)
  local ipt tc net_re i
  ipt=$(command -v iptables || echo /usr/sbin/iptables)
  tc=$(command -v tc || echo /usr/sbin/tc)
  net_re=${NET//./\\.}
  echo "# gtcheck test bed $ID (scripts/testbed.sh): exact command lines only"
  for i in 1 2 3; do
    # optionally a planted clock error (hosts file clock_offset_ms: suite/remote/fleet.py
    # passes repr(float), e.g. -3000.0), then optionally the clock fault's --faketime
    echo "$TB_USER ALL=(root) NOPASSWD: $WORKER ^worker --host tb$i( --clock-offset-ms -?[0-9]{1,9}\\.[0-9]{1,17})?\$"
    echo "$TB_USER ALL=(root) NOPASSWD: $WORKER ^worker --host tb$i( --clock-offset-ms -?[0-9]{1,9}\\.[0-9]{1,17})? --faketime [+-][0-9]{1,9}(\\.[0-9]{1,6})?s\$"
  done
  local a
  for a in "-n -L GTCHECK" "-S GTCHECK" "-N GTCHECK" "-F GTCHECK" "-X GTCHECK" \
           "-C INPUT -j GTCHECK" "-C OUTPUT -j GTCHECK" "-I INPUT 1 -j GTCHECK" \
           "-I OUTPUT 1 -j GTCHECK" "-D INPUT -j GTCHECK" "-D OUTPUT -j GTCHECK"; do
    echo "$TB_USER ALL=(root) NOPASSWD: $ipt -w 5 $a"
  done
  echo "$TB_USER ALL=(root) NOPASSWD: $ipt ^-w 5 -A GTCHECK -p tcp -d ${net_re}\\.[0-9]{1,3} --dport [0-9]{1,5} -j DROP\$"
  echo "$TB_USER ALL=(root) NOPASSWD: $tc ^qdisc add dev eth0 root netem delay [0-9]{1,6}(\\.[0-9]{1,6})?ms\$"
  echo "$TB_USER ALL=(root) NOPASSWD: $tc qdisc del dev eth0 root"
  echo "$TB_USER ALL=(root) NOPASSWD: /usr/bin/kill ^-(9|STOP|CONT) [0-9]{1,10}( [0-9]{1,10})?\$"
}

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
                grep "^${VETH_PREFIX}[0-9]\$" || true); do
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
  sudoers_rules >"$SUDOERS.tmp"
  chmod 440 "$SUDOERS.tmp"
  visudo -cq -f "$SUDOERS.tmp" || { rm -f "$SUDOERS.tmp"; die "the sudoers rules do not parse"; }
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
    ip link add "${VETH_PREFIX}$i" type veth peer name eth0 netns "$ns"
    ip link set "${VETH_PREFIX}$i" master "$BRIDGE" up
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
  names) names ;;
  sudoers) sudoers_rules ;;
  *) echo "usage: $0 up|down|status|names|sudoers" >&2; exit 2 ;;
esac
