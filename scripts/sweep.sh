#!/usr/bin/env bash
# The simulator sweep a change to failover logic must hold before it is done
# (docs/SIMULATION.md): 1,310,000 seeds by default, over 10 and 24 clients,
# with and without a slow peer link, and the scenario families, on every
# core. Seeds start away from
# those `cargo test` runs. Exits non-zero on any violation.
#
#   scripts/sweep.sh            # 600k + 250k + 110k + 40k + the families
#   SCALE=0.01 scripts/sweep.sh # a 1% smoke run
#   FIRST=20000000 scripts/sweep.sh   # another stretch of seeds
#   SKIP=2 FIRST=... SCALE=... scripts/sweep.sh  # resume: the first 2
#                               # segments of that run are done already
#   ONLY=witness SCALE=4 scripts/sweep.sh  # one family's segments, for a
#                               # change only that family's config reaches
#                               # (SKIP then counts those segments only)
set -euo pipefail
cd "$(dirname "$0")/.."
scale=${SCALE:-1}
first=${FIRST:-10000000}
jobs=${JOBS:-$(nproc)}
skip=${SKIP:-0}
only=${ONLY:-}
cargo build --release --bin tandem-sim
status=0
# clients link-delay seeds(at scale 1) [scenario family]
while read -r clients delay seeds family; do
  n=$(awk -v s="$seeds" -v k="$scale" 'BEGIN { printf "%d", s * k }')
  [ "$n" -gt 0 ] || continue
  [ -z "$only" ] || [ "${family:-}" = "$only" ] || continue
  if [ "$skip" -gt 0 ]; then
    skip=$((skip - 1))
    first=$((first + n))
    continue
  fi
  extra=()
  [ -n "${family:-}" ] && extra=(--family "$family")
  echo "== --clients $clients --link-delay $delay ${extra[*]}: $n seeds from $first"
  # tandem-sim exits non-zero on a violation: keep going, report it below.
  out=$(target/release/tandem-sim --seeds "$n" --first "$first" --clients "$clients" \
      --link-delay "$delay" "${extra[@]}" --jobs "$jobs") || status=1
  grep -E "VIOLATION|replay:|seeds from" <<<"$out"
  grep -q "VIOLATION" <<<"$out" && status=1
  first=$((first + n))
done <<'SETS'
10 1 600000
10 4 250000
24 1 110000
24 4 40000
24 1 20000 partner-down-expiry
10 1 20000 disk-failure
10 1 20000 maintenance
24 1 20000 maintenance
24 1 20000 partner-down-fresh-grants
24 1 20000 squatters
24 1 20000 ddns
24 1 20000 evidence
10 1 20000 evidence
24 4 10000 evidence
24 1 50000 witness
10 1 50000 witness
24 4 20000 witness
SETS
exit $status
