# Sourced by the lab scripts (isc-capture.sh, bench-isc-recover.sh): a
# throwaway bridge in namespace "$tag-sw" and hosts on it, each a
# namespace "$tag-NAME" with eth0. Every process is a background job of
# the calling shell (`ip netns exec` execs it, so the job's PID is the
# process's): on exit, cleanup signals only the jobs still running, waits
# for them, then removes the namespaces this run made and "$work"
# (kept, with the logs, when KEEP is set).
# The caller sets $tag and $work first.
made=()
cleanup() {
  set +e
  local running
  running=$(jobs -p)
  [ -n "$running" ] && kill $running 2>/dev/null
  sleep 1
  running=$(jobs -p)
  [ -n "$running" ] && kill -9 $running 2>/dev/null
  wait 2>/dev/null
  for n in "${made[@]}"; do ip netns del "$n" 2>/dev/null; done
  if [ -n "${KEEP:-}" ]; then echo "logs kept in $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
netns_add() { ip netns add "$1" && made+=("$1"); }
netns_add "$tag-sw"
ip -n "$tag-sw" link add br0 type bridge
ip -n "$tag-sw" link set br0 up
# host NAME [ADDR/PREFIX]: a namespace on the bridge (NAME of 2 letters or
# more: `ip link add t` reads "t" as txqueuelen).
host() {
  netns_add "$tag-$1"
  ip -n "$tag-sw" link add "$1" type veth peer name eth0 netns "$tag-$1"
  ip -n "$tag-sw" link set "$1" master br0 up
  ip -n "$tag-$1" link set lo up
  ip -n "$tag-$1" link set eth0 up
  [ -n "${2:-}" ] && ip -n "$tag-$1" addr add "$2" dev eth0
  return 0
}
