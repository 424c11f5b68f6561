#!/usr/bin/env bash
# Builds tandem, starts it on the shipped lab config (config/lab.toml) inside a
# throwaway network-namespace lab, and shows a real dhclient leasing an
# address from it. Everything it creates is removed on exit. Run as root.
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
sw=tdemo-sw srv=tdemo-srv cli=tdemo-cli
tandem_pid=

cleanup() {
  set +e
  [ -n "$tandem_pid" ] && kill "$tandem_pid" 2>/dev/null && wait "$tandem_pid" 2>/dev/null
  for ns in $cli $srv $sw; do
    for pid in $(ip netns pids $ns 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
    ip netns del $ns 2>/dev/null
  done
  rm -rf "$work"
}
trap cleanup EXIT

for ns in $sw $srv $cli; do ip netns del $ns 2>/dev/null || true; ip netns add $ns; done
ip -n $sw link add br0 type bridge && ip -n $sw link set br0 up
ip link add tdemo-a type veth peer name tdemo-b
ip link set tdemo-a netns $srv && ip link set tdemo-b netns $sw
ip -n $srv link set tdemo-a name tdm-srv
ip -n $srv addr add 192.168.77.1/24 dev tdm-srv && ip -n $srv link set tdm-srv up
ip link add tdemo-c type veth peer name tdemo-d
ip link set tdemo-c netns $cli && ip link set tdemo-d netns $sw
ip -n $cli link set tdemo-c name eth0 && ip -n $cli link set eth0 up
for l in tdemo-b tdemo-d; do ip -n $sw link set $l master br0 up; done

sed "s|/tmp/tandem-lab/|$work/|" config/lab.toml > "$work/lab.toml"
"$bin" check-config -c "$work/lab.toml"
"$bin" init -c "$work/lab.toml"
ip netns exec $srv "$bin" serve -c "$work/lab.toml" 2> "$work/tandem.log" &
tandem_pid=$!
for _ in $(seq 50); do grep -q listening "$work/tandem.log" && break; sleep 0.1; done
echo "--- tandem is serving 192.168.77.0/24 on tdm-srv (log: first lines)"
head -n 5 "$work/tandem.log"

# dhclient's own script would rewrite /etc/resolv.conf; this one only sets the address.
cat > "$work/script" <<'S'
#!/bin/sh
case "$reason" in
  BOUND|RENEW|REBIND|REBOOT) ip addr replace "$new_ip_address/$new_subnet_mask" dev "$interface"
    echo "dhclient: $reason $new_ip_address router $new_routers dns $new_domain_name_servers lease ${new_dhcp_lease_time}s" ;;
  RELEASE|EXPIRE|STOP) ip addr flush dev "$interface"; echo "dhclient: $reason" ;;
esac
S
chmod +x "$work/script"
echo "--- dhclient in namespace $cli asks for an address"
ip netns exec $cli dhclient -4 -1 -sf "$work/script" -lf "$work/dhclient.leases" -pf "$work/dhclient.pid" eth0
ip -n $cli -4 addr show dev eth0 | grep inet
echo "--- tandem leases"
"$bin" leases -c "$work/lab.toml"
echo "--- dhclient releases it"
ip netns exec $cli dhclient -4 -r -sf "$work/script" -lf "$work/dhclient.leases" -pf "$work/dhclient.pid" eth0
sleep 0.3
"$bin" leases -c "$work/lab.toml"
echo "--- done; cleaning up the lab"
