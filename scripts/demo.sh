#!/usr/bin/env bash
# Builds tandem and shows a failover pair in a throwaway network-namespace lab:
# two peers on one bridge (the shipped config/lab.toml plus a [failover]
# section), a real ISC dhclient, the peer that granted its lease killed with
# SIGKILL, the client renewed by the survivor when it rebinds, the peer
# restarted and both back in NORMAL. About 30 seconds after the build.
# Everything it creates is removed on exit. Run as root.
set -euo pipefail
cd "$(dirname "$0")/.."

[ "$(id -u)" = 0 ] || { echo "demo.sh: run as root (it creates network namespaces)" >&2; exit 1; }
missing=()
for p in isc-dhcp-client iproute2; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]})); then
  echo "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

cargo build --release --quiet
bin=$PWD/target/release/tandem
work=$(mktemp -d /tmp/tandem-demo.XXXXXX)
sw=tdemo-sw cli=tdemo-cli
ns=(tdemo-a tdemo-b)
addr=(192.168.77.1 192.168.77.2)
pids=("" "")

cleanup() {
  set +e
  for p in "${pids[@]}"; do [ -n "$p" ] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  for n in $cli "${ns[@]}" $sw; do
    for pid in $(ip netns pids "$n" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
    ip netns del "$n" 2>/dev/null
  done
  rm -rf "$work"
}
trap cleanup EXIT

for n in $sw "${ns[@]}" $cli; do ip netns del "$n" 2>/dev/null || true; ip netns add "$n"; done
ip -n $sw link add br0 type bridge && ip -n $sw link set br0 up
links=0
attach() { # namespace interface [address]
  links=$((links + 1))
  ip link add tdemo-$links type veth peer name tdemo-${links}s
  ip link set tdemo-$links netns "$1" && ip link set tdemo-${links}s netns $sw
  ip -n "$1" link set tdemo-$links name "$2" && ip -n "$1" link set "$2" up
  ip -n $sw link set tdemo-${links}s master br0 up
  [ -z "${3:-}" ] || ip -n "$1" addr add "$3" dev "$2"
}
attach "${ns[0]}" tdm-srv 192.168.77.1/24
attach "${ns[1]}" tdm-srv 192.168.77.2/24
attach $cli eth0

"$bin" keygen -o "$work/peer.key" 2>/dev/null
for i in 0 1; do
  role=primary; [ $i = 1 ] && role=secondary
  mkdir -p "$work/$i"
  sed -e "s|/tmp/tandem-lab/|$work/$i/|" -e "s|name = \"lab-a\"|name = \"demo-$role\"|" \
    config/lab.toml > "$work/$i/tandem.toml"
  cat >> "$work/$i/tandem.toml" <<CFG

[failover]
role = "$role"
listen = "${addr[$i]}:647"
peer = "${addr[$((1 - i))]}:647"
secret_file = "$work/peer.key"
mclt = "20s"
max_response_delay = "4s"
CFG
  "$bin" check-config -c "$work/$i/tandem.toml" >/dev/null
  "$bin" init -c "$work/$i/tandem.toml" >/dev/null
done

serve() { # peer index
  ip netns exec "${ns[$1]}" "$bin" serve -c "$work/$1/tandem.toml" 2>> "$work/$1.log" &
  pids[$1]=$!
}
state() { "$bin" status --json -c "$work/$1/tandem.toml" 2>/dev/null | sed -n 's/^ *"state": "\(.*\)",*$/\1/p'; }
wait_normal() {
  for _ in $(seq 150); do
    [ "$(state 0)" = normal ] && [ "$(state 1)" = normal ] && return 0
    sleep 0.2
  done
  echo "the pair did not reach NORMAL; logs:" >&2; cat "$work"/*.log >&2; exit 1
}
serve 0; serve 1
wait_normal
echo "--- two tandem peers serve 192.168.77.0/24, both in NORMAL"
"$bin" status -c "$work/0/tandem.toml" | head -n 4

# dhclient's own script would rewrite /etc/resolv.conf; this one only sets the address.
cat > "$work/script" <<S
#!/bin/sh
case "\$reason" in BOUND|RENEW|REBIND|REBOOT)
  ip addr replace "\$new_ip_address/\$new_subnet_mask" dev "\$interface"
  echo "\$(date +%T) dhclient: \$reason \$new_ip_address from \$new_dhcp_server_identifier, lease \${new_dhcp_lease_time}s" >> "$work/events" ;;
esac
S
chmod +x "$work/script"
printf 'send dhcp-lease-time 20;\ninitial-interval 1;\nbackoff-cutoff 2;\n' > "$work/dhclient.conf"
echo "--- dhclient in namespace $cli asks for an address (20-second leases)"
ip netns exec $cli dhclient -4 -1 -cf "$work/dhclient.conf" -sf "$work/script" \
  -lf "$work/dhclient.leases" -pf "$work/dhclient.pid" eth0 2>/dev/null
cat "$work/events"
sid=$(sed -n 's/.* from \([0-9.]*\),.*/\1/p' "$work/events" | tail -n 1)
v=0; [ "$sid" = "${addr[1]}" ] && v=1
s=$((1 - v))
echo "--- kill -9 of the peer that granted it (${addr[$v]})"
kill -9 "${pids[$v]}"; wait "${pids[$v]}" 2>/dev/null || true; pids[$v]=""
echo "--- waiting for the client to renew (unicast to the dead peer, unanswered), then rebind"
for _ in $(seq 200); do grep -q "from ${addr[$s]}" "$work/events" && break; sleep 0.2; done
grep "from ${addr[$s]}" "$work/events" | head -n 1 || { echo "no renewal from the survivor" >&2; exit 1; }
echo "--- the survivor (${addr[$s]}) is in $(state $s)"
echo "--- the dead peer restarts on its database"
serve $v
wait_normal
echo "--- both peers are in NORMAL again; the restarted peer holds the survivor's renewal:"
"$bin" leases -c "$work/$v/tandem.toml" | grep -E "address|active"
echo "--- done; cleaning up the lab"
