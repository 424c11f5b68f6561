#!/usr/bin/env bash
# Replication throughput of a tandem pair: perfdhcp (relaying, giaddr
# 10.128.0.1) drives the primary at a given rate; split = 256 makes the
# primary answer every client, so every lease is a binding update to the
# secondary. Prints the exchange rate, drops, and how long the secondary took
# to hold every lease. Usage: scripts/bench-pair.sh [rate] (default 2000; 10 s).
# Bounded in time; namespaces and processes are removed on exit. Run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "bench-pair.sh: run as root" >&2; exit 1; }
rate=${1:-2000}
period=${PERIOD:-10}
cargo build --release --quiet
bin=$PWD/target/release/tandem
work=$(mktemp -d /tmp/tandem-bench-pair.XXXXXX)
sw=tbp-sw a=tbp-a b=tbp-b perf=tbp-perf
pids=()
cleanup() {
  set +e
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  for ns in $perf $a $b $sw; do
    for pid in $(ip netns pids $ns 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
    ip netns del $ns 2>/dev/null
  done
  rm -rf "$work"
}
trap cleanup EXIT
for ns in $sw $a $b $perf; do ip netns del $ns 2>/dev/null || true; ip netns add $ns; done
ip -n $sw link add br0 type bridge && ip -n $sw link set br0 up
n=0
attach() { # ns ifname addr
  n=$((n+1)); ip link add tbp-$n type veth peer name tbp-${n}s
  ip link set tbp-$n netns $1 && ip link set tbp-${n}s netns $sw
  ip -n $1 link set tbp-$n name $2 && ip -n $1 link set $2 up && ip -n $1 link set lo up
  ip -n $1 addr add $3 dev $2
  ip -n $sw link set tbp-${n}s master br0 up
}
attach $a tdm-srv 192.168.77.1/24
attach $b tdm-srv 192.168.77.2/24
attach $perf eth0 10.128.0.1/12
for ns in $a $b; do ip -n $ns route add 10.128.0.0/12 dev tdm-srv; done
ip -n $perf route add 192.168.77.0/24 dev eth0
"$bin" keygen -o "$work/key" 2>/dev/null
for side in a b; do
  if [ $side = a ]; then role=primary me=192.168.77.1 peer=192.168.77.2; else role=secondary me=192.168.77.2 peer=192.168.77.1; fi
  mkdir -p "$work/$side"
  cat > "$work/$side/t.toml" <<CFG
[server]
name = "bench-$side"
interfaces = ["tdm-srv"]
lease_db = "$work/$side/leases.sqlite"
control_socket = "$work/$side/control.sock"
client_rate_limit = 0
global_rate_limit = 0
[failover]
role = "$role"
listen = "$me:647"
peer = "$peer:647"
secret_file = "$work/key"
mclt = "1h"
split = 256
[[subnet]]
cidr = "192.168.77.0/24"
pools = ["192.168.77.100-192.168.77.199"]
[[subnet]]
cidr = "10.128.0.0/12"
pools = ["10.128.1.0-10.143.255.250"]
lease_time = "1h"
CFG
done
"$bin" init -c "$work/a/t.toml" >/dev/null
"$bin" init -c "$work/b/t.toml" >/dev/null
ip netns exec $a "$bin" serve -c "$work/a/t.toml" --log warn 2> "$work/a.log" & pids+=($!)
ip netns exec $b "$bin" serve -c "$work/b/t.toml" --log warn 2> "$work/b.log" & pids+=($!)
for _ in $(seq 100); do
  "$bin" status --json -c "$work/a/t.toml" 2>/dev/null | grep -q '"state": "normal"' && break; sleep 0.2
done
"$bin" status -c "$work/a/t.toml" | head -3
start=$(date +%s.%N)
out=$(ip netns exec $perf timeout $((period + 20)) perfdhcp -4 -r "$rate" -R 1000000 -p "$period" -l 10.128.0.1 192.168.77.1 2>&1 || true)
end_perf=$(date +%s.%N)
acks=$(echo "$out" | awk '/REQUEST-ACK/{f=1} f && /^received packets:/ {print $3; exit}')
for _ in $(seq 600); do
  held=$("$bin" leases --json -c "$work/b/t.toml" 2>/dev/null | grep -c '"state": "active"' || true)
  [ "${held:-0}" -ge "${acks:-0}" ] && break; sleep 0.1
done
done_at=$(date +%s.%N)
echo "$out" | grep -E "^Rate:|^drops:" | paste -sd' '
echo "leases ACKed by the primary: $acks; active on the secondary: $held"
awk -v s="$start" -v p="$end_perf" -v d="$done_at" -v n="$acks" 'BEGIN {
  printf "secondary caught up %.2f s after perfdhcp finished; replication %.0f updates/s over the whole run\n", d - p, n / (d - s) }'
