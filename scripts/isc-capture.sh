#!/usr/bin/env bash
# Captures a real ISC dhcpd 4.4 failover pair on the wire, for the golden
# frames of the ISC peer codec (issue 19; tests/fixtures/isc/README.md).
#
#   scripts/isc-capture.sh OUT_DIR     # root; writes OUT_DIR/isc-pair.pcap
#
# Three throwaway namespaces on a bridge in a fourth: primary 10.171.0.1,
# secondary 10.171.0.2, a client running dhclient (10.171.0.50, so its
# unicast RELEASE has a route). The run: both servers
# start with empty lease files (RECOVER, then NORMAL, with the primary's
# pool rebalancing), the client takes a lease, renews and releases it; then
# the secondary is restarted with an empty lease file (RECOVER, UPDREQALL,
# UPDDONE), and the client takes another lease. Every process is killed by
# PID and every namespace removed on exit. Needs isc-dhcp-server,
# isc-dhcp-client, tshark, iproute2.
set -euo pipefail
out=$(realpath -m "${1:?usage: isc-capture.sh OUT_DIR}")
mkdir -p "$out"
tag=tdi$$
work=$(mktemp -d)
. "$(dirname "$0")/netns-lab.sh"
host p 10.171.0.1/24
host s 10.171.0.2/24
host c 10.171.0.50/24

conf() { # role address peer
  local mclt=""
  [ "$1" = primary ] && mclt="mclt 30; split 128;"
  cat <<EOF
authoritative;
ddns-update-style none;
ping-check false;
default-lease-time 120;
max-lease-time 120;
failover peer "lab" {
  $1;
  address $2;
  port 647;
  peer address $3;
  peer port 647;
  max-response-delay 15;
  max-unacked-updates 10;
  load balance max seconds 3;
  $mclt
}
subnet 10.171.0.0 netmask 255.255.255.0 {
  pool {
    failover peer "lab";
    range 10.171.0.100 10.171.0.107;
  }
}
EOF
}
conf primary 10.171.0.1 10.171.0.2 > "$work/p.conf"
conf secondary 10.171.0.2 10.171.0.1 > "$work/s.conf"

dhcpd_in() { # ns lease-file
  : > "$2"
  ip netns exec "$tag-$1" dhcpd -4 -f -d -cf "$work/$1.conf" -lf "$2" \
    -pf "$work/$1.pid" eth0 > "$work/$1.log" 2>&1 &
}

# tshark stops by itself after 10 minutes, whatever happens here.
ip netns exec "$tag-p" tshark -q -a duration:600 -i eth0 -f "tcp port 647" \
  -w "$work/pair.pcap" > "$work/tshark.log" 2>&1 &
tshark_pid=$!
sleep 3
dhcpd_in p "$work/p.leases"
dhcpd_in s "$work/s1.leases"
s_pid=$!

normal() { # seconds: wait until both log NORMAL
  for _ in $(seq "$1"); do
    if grep -q "I move from .* to normal\|to normal" "$work/p.log" && \
       grep -q "to normal" "$work/s.log"; then return 0; fi
    sleep 1
  done
  echo "the pair did not reach NORMAL; logs in $out" >&2
  return 1
}
dhclient_in_c() { # dhclient args..., in the foreground (never a daemon)
  ip netns exec "$tag-c" timeout 30 dhclient -4 -d -v -sf /bin/true \
    -lf "$work/c.leases" -pf "$work/c.pid" "$@" eth0 >> "$work/c.log" 2>&1
}
client() { # takes or renews a lease, then stops the client by PID
  local before pid
  before=$(grep -c "^bound to" "$work/c.log" 2>/dev/null || true)
  # `timeout` is the job (ip execs it) and passes SIGTERM to dhclient.
  ip netns exec "$tag-c" timeout 30 dhclient -4 -d -v -sf /bin/true \
    -lf "$work/c.leases" -pf "$work/c.pid" -1 eth0 >> "$work/c.log" 2>&1 &
  pid=$!
  for _ in $(seq 30); do
    [ "$(grep -c "^bound to" "$work/c.log")" -gt "${before:-0}" ] && break
    sleep 1
  done
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
keep_logs() { cp "$work"/*.log "$out"/ 2>/dev/null || true; }
trap 'keep_logs; cleanup' EXIT

normal 90
sleep 5
client
sleep 2
client   # a renewal of the same lease (INIT-REBOOT)
sleep 2
dhclient_in_c -r || true
sleep 3

# The secondary loses its database: RECOVER, UPDREQALL, UPDDONE.
kill "$s_pid"
wait "$s_pid" 2>/dev/null || true
: > "$work/s.log"
dhcpd_in s "$work/s2.leases"
for _ in $(seq 120); do
  grep -q "to normal" "$work/s.log" && break
  sleep 1
done
sleep 3
client
sleep 3
kill "$tshark_pid"
wait "$tshark_pid" 2>/dev/null || true
cp "$work/pair.pcap" "$out/isc-pair.pcap"
echo "wrote $out/isc-pair.pcap ($(stat -c %s "$out/isc-pair.pcap") octets)"
