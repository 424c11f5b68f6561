#!/usr/bin/env bash
# How fast a pair beside ISC dhcpd 4.4 re-learns a lost lease database over
# ISC's failover protocol (issue 19), side by side with a dhcpd pair:
#   A. dhcpd primary + dhcpd secondary; the primary loses its lease file
#      and learns every binding back from the secondary (the anchor);
#   B. dhcpd primary + tandem secondary; the primary loses its lease file
#      and learns every binding back from tandem;
#   C. the same pair; tandem is re-installed (database deleted) and learns
#      every binding back from dhcpd.
# Each pool holds N addresses (default 8192), all free: UPDREQALL sends
# every one. Each run is timed from the request for every binding
# (dhcpd's "Sent update request all" line, polled every 0.1 s) to the
# learner's word that it has them all, so process start and connection are
# left out. Prints seconds per run, the ratios to A, and tandem's CPU
# seconds per 1,000 bindings. Usage: scripts/bench-isc-recover.sh [N]
# Run as root; bounded (every wait 600 s at most); processes are killed by
# PID and the namespaces removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "bench-isc-recover.sh: run as root" >&2; exit 1; }
n=${1:-8192}
cargo build --release --quiet --bin tandem
bin=$PWD/target/release/tandem
tag=tbr$$
work=$(mktemp -d /tmp/tandem-bench-isc.XXXXXX)
. scripts/netns-lab.sh
host p 10.172.0.1/16
host s 10.172.0.2/16
host tn 10.172.0.3/16
last=$((16 * 256 + n - 1))
range="10.172.16.0 10.172.$((last / 256)).$((last % 256))"

dhcpd_conf() { # role address peer
  local mclt=""
  [ "$1" = primary ] && mclt="mclt 30; split 128;"
  cat <<EOF
authoritative;
ddns-update-style none;
ping-check false;
failover peer "lab" {
  $1; address $2; port 647; peer address $3; peer port 647;
  max-response-delay 15; max-unacked-updates 10; load balance max seconds 3;
  $mclt
}
subnet 10.172.0.0 netmask 255.255.0.0 {
  pool { failover peer "lab"; range $range; }
}
EOF
}
dhcpd_in() { # host conf, on the lease file it left (or a new one)
  touch "$work/$1.leases"
  ip netns exec "$tag-$1" dhcpd -4 -f -d -cf "$work/$2" -lf "$work/$1.leases" \
    -pf "$work/$1.pid" eth0 >> "$work/$1.log" 2>&1 &
  eval "pid_$1=$!"
}
tandem_in_t() {
  ip netns exec "$tag-tn" "$bin" serve -c "$work/t.toml" >> "$work/t.log" 2>&1 &
  pid_t=$!
}
count() { grep -c "$2" "$work/$1.log" 2>/dev/null || true; }
wait_more() { # log pattern before: until the log has more lines matching
  for _ in $(seq 3000); do
    [ "$(count "$1" "$2")" -gt "$3" ] && return 0
    sleep 0.1
  done
  echo "timed out waiting for '$2' in $1.log" >&2
  exit 1
}
cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
secs() { echo "$1 $2" | awk '{ printf "%.1f", $2 - $1 }'; }
now() { date +%s.%N; }

dhcpd_conf primary 10.172.0.1 10.172.0.2 > "$work/p.conf"
dhcpd_conf secondary 10.172.0.2 10.172.0.1 > "$work/s.conf"
dhcpd_conf primary 10.172.0.1 10.172.0.3 > "$work/pt.conf"
cat > "$work/t.toml" <<EOF
[server]
interfaces = ["eth0"]
lease_db = "$work/t.sqlite"
control_socket = "$work/t.sock"

[failover]
role = "secondary"
listen = "10.172.0.3"
peer = "10.172.0.1"
protocol = "isc-draft12"
relationship = "lab"
mclt = "30s"
split = 128
max_response_delay = "15s"

[[subnet]]
cidr = "10.172.0.0/16"
pools = ["${range/ /-}"]
EOF

# dhcpd in host $1 (config $2) loses its lease file and restarts; waits
# for its request for every binding, then for the learner's word in log $3
# (line $4); sets `took` to the seconds between the two.
relearn() {
  local asked done_before t0
  asked=$(count "$1" "Sent update request all")
  done_before=$(count "$3" "$4")
  eval "kill -9 \$pid_$1; wait \$pid_$1 2>/dev/null || true"
  : > "$work/$1.leases"
  dhcpd_in "$1" "$2"
  wait_more "$1" "Sent update request all" "$asked"
  t0=$(now)
  wait_more "$3" "$4" "$done_before"
  took=$(secs "$t0" "$(now)")
}

# A: a dhcpd pair; the primary loses its lease file.
dhcpd_in p p.conf
dhcpd_in s s.conf
wait_more p "Both servers normal" 0
relearn p p.conf p "peer update completed"
a=$took
kill "$pid_p" "$pid_s"; wait "$pid_p" "$pid_s" 2>/dev/null || true

# B: dhcpd primary beside tandem; the primary loses its lease file.
: > "$work/p.leases"; : > "$work/p.log"
"$bin" init -c "$work/t.toml" > /dev/null
dhcpd_in p pt.conf
tandem_in_t
wait_more p "Both servers normal" 0
c0=$(cpu "$pid_t")
relearn p pt.conf p "peer update completed"
b=$took; cb=$(( $(cpu "$pid_t") - c0 ))

# C: tandem re-installed; it learns every binding from dhcpd.
wait_more p "Both servers normal" 1
kill -9 "$pid_t"; wait "$pid_t" 2>/dev/null || true
rm -f "$work"/t.sqlite*
"$bin" init -c "$work/t.toml" > /dev/null
before=$(count t "finished sending updates full=true")
asked=$(count t "to=recover$")
tandem_in_t
wait_more t "to=recover$" "$asked"
t0=$(now); c0=$(cpu "$pid_t")
wait_more t "finished sending updates full=true" "$before"
c=$(secs "$t0" "$(now)"); cc=$(( $(cpu "$pid_t") - c0 ))

tick=$(getconf CLK_TCK)
echo "bindings: $n"
echo "A dhcpd learns from dhcpd:  $a s"
echo "B dhcpd learns from tandem: $b s ($(echo "$b $a" | awk '{ printf "%.2f", $1 / $2 }')x A; tandem CPU $(echo "$cb $tick $n" | awk '{ printf "%.3f", $1 / $2 / $3 * 1000 }') s per 1,000)"
echo "C tandem learns from dhcpd: $c s ($(echo "$c $a" | awk '{ printf "%.2f", $1 / $2 }')x A; tandem CPU $(echo "$cc $tick $n" | awk '{ printf "%.3f", $1 / $2 / $3 * 1000 }') s per 1,000, from its request)"
