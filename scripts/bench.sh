#!/usr/bin/env bash
# tandem beside Kea and ISC dhcpd in one run (benches/anchors): perfdhcp full
# DORA against tandem (FULL and NORMAL sync, and a pair), Kea 2.2 (single MT
# and an HA load-balancing pair) and ISC dhcpd 4.4 (single and a failover
# pair), each in a throwaway namespace lab; medians go to BENCHMARKS.md.
#
#   scripts/bench.sh                                  # the whole run (~40 min)
#   scripts/bench.sh --rates 1200 --rounds 1 --only tandem,kea
#
# Run as root on an otherwise idle machine. Installs what it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "bench.sh: run as root" >&2; exit 1; }
need=()
command -v perfdhcp >/dev/null || need+=(kea-admin)
command -v kea-dhcp4 >/dev/null || need+=(kea-dhcp4-server)
command -v dhcpd >/dev/null || need+=(isc-dhcp-server)
if ((${#need[@]})); then
  # Keep the packages' own services from starting.
  made_policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    made_policy=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}"
  [ -n "$made_policy" ] && rm -f /usr/sbin/policy-rc.d
fi
exec cargo bench --bench anchors -- "$@"
