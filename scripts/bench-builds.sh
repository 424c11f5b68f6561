#!/usr/bin/env bash
# (tandem builds against each other; scripts/bench.sh compares tandem with Kea and ISC dhcpd)
# perfdhcp against tandem (release build) in a throwaway namespace lab:
# perfdhcp relays (giaddr 10.128.0.1, a /12 so no run exhausts the pool) to tandem at 192.168.77.1 over a bridge.
# Usage: scripts/bench-builds.sh [rate ...]   (default rates: 1000 2000 4000; 10 s each)
#        BINS="before=/tmp/tandem-old after=target/release/tandem" scripts/bench-builds.sh 4000
#          (several builds side by side, alternating, in one run)
# Prints one line per rate and build: offered rate, achieved 4-way
# exchanges/s, drops, and the server's CPU seconds per 1,000 leases.
# Bounded: each run is capped by -p and `timeout`; namespaces and processes are
# removed on exit. Run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "bench-builds.sh: run as root" >&2; exit 1; }
command -v perfdhcp >/dev/null || { echo "bench-builds.sh: apt-get install kea-admin" >&2; exit 1; }
rates=("$@"); ((${#rates[@]})) || rates=(1000 2000 4000)
period=${PERIOD:-10}

cargo build --release --quiet
read -r -a bins <<<"${BINS:-this=$PWD/target/release/tandem}"
work=$(mktemp -d /tmp/tandem-bench.XXXXXX)
sw=tbench-sw srv=tbench-srv perf=tbench-perf
tandem_pid=
cleanup() {
  set +e
  [ -n "$tandem_pid" ] && kill "$tandem_pid" 2>/dev/null && wait "$tandem_pid" 2>/dev/null
  for ns in $perf $srv $sw; do
    for pid in $(ip netns pids $ns 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
    ip netns del $ns 2>/dev/null
  done
  rm -rf "$work"
}
trap cleanup EXIT

for ns in $sw $srv $perf; do ip netns del $ns 2>/dev/null || true; ip netns add $ns; done
ip -n $sw link add br0 type bridge && ip -n $sw link set br0 up
ip link add tbench-a type veth peer name tbench-b
ip link set tbench-a netns $srv && ip link set tbench-b netns $sw
ip -n $srv link set tbench-a name tdm-srv
ip -n $srv addr add 192.168.77.1/24 dev tdm-srv && ip -n $srv link set tdm-srv up
ip -n $srv route add 10.128.0.0/12 dev tdm-srv
ip link add tbench-c type veth peer name tbench-d
ip link set tbench-c netns $perf && ip link set tbench-d netns $sw
ip -n $perf link set tbench-c name eth0 && ip -n $perf link set eth0 up
ip -n $perf addr add 10.128.0.1/12 dev eth0
ip -n $perf route add 192.168.77.0/24 dev eth0
for l in tbench-b tbench-d; do ip -n $sw link set $l master br0 up; done

cat > "$work/bench.toml" <<CFG
[server]
name = "bench"
interfaces = ["tdm-srv"]
lease_db = "$work/leases.sqlite"
control_socket = "$work/control.sock"
client_rate_limit = 0
global_rate_limit = 0

[[subnet]]
cidr = "192.168.77.0/24"
pools = ["192.168.77.100-192.168.77.199"]

[[subnet]]
cidr = "10.128.0.0/12"
pools = ["10.128.1.0-10.143.255.250"]
lease_time = "1h"
routers = ["10.128.0.1"]
dns_servers = ["192.168.77.1"]
CFG

# CPU seconds (user + system) a process has used so far.
cpu_secs() {
  awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"
}

printf '%-8s %-8s %-12s %-10s %-10s %s\n' build offered exchanges/s drops4 dropsRA cpu-s/1000
for rate in "${rates[@]}"; do
  for b in "${bins[@]}"; do
    label=${b%%=*} bin=${b#*=}
    rm -f "$work"/leases.sqlite*
    "$bin" init -c "$work/bench.toml" >/dev/null
    ip netns exec $srv "$bin" serve -c "$work/bench.toml" --log warn 2> "$work/tandem.log" &
    tandem_pid=$!
    sleep 0.5
    out=$(ip netns exec $perf timeout $((period + 20)) perfdhcp -4 -r "$rate" -R 1000000 -p "$period" -l 10.128.0.1 192.168.77.1 2>&1 || true)
    cpu=$(cpu_secs "$tandem_pid")
    kill "$tandem_pid"; wait "$tandem_pid" 2>/dev/null || true; tandem_pid=
    achieved=$(echo "$out" | awk '/^Rate:/ {print $2}')
    drops=$(echo "$out" | awk '/^drops:/ {print $2}' | paste -sd' ')
    per=$(awk -v c="$cpu" -v r="${achieved:-0}" -v p="$period" 'BEGIN { n = r * p; v = (n > 0) ? c * 1000 / n : 0; printf "%.3f", v }')
    printf '%-8s %-8s %-12s %-10s %-10s %s\n' "$label" "$rate" "$achieved" $drops "$per"
  done
done
