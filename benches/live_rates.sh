#!/usr/bin/env bash
# Live capture under load: the highest packet rate at which watch3232 drops nothing, next to
# tcpdump with the same BPF filter and the same kernel buffer, capturing the SAME packets at the
# same time. Two network namespaces made here (and removed on exit) joined by a veth pair;
# tcpreplay sends the small-packet benchmark capture (54–94-byte packets, 1 % interesting, from
# the repository's generator) at each rate from one side; both captures listen on the other.
#
#   sudo benches/live_rates.sh                     # rates 50k…1.6M pps, 400 000 packets each
#   RATES="100000 200000" PACKETS=200000 sudo benches/live_rates.sh
#   WATCH_ARGS="--workers 2" sudo benches/live_rates.sh   # flags for watch3232 capture
#   CAPTURE=spray sudo benches/live_rates.sh       # 0.5 % spoofed invitations to ever-new devices
#   CAPTURE=dense sudo benches/live_rates.sh       # 0.5 % invitations answered by their devices
#
# "recv" is what each capture's kernel filter passed to user space: on the spray it stays at
# tcpdump's (no connect-back port is held for an invitation nobody answers, so the filter never
# widens); before issue 16 every invitation widened watch3232's filter.
#
# Needs root, iproute2, tcpdump and tcpreplay (installed with apt-get when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
    echo "live_rates: needs root (network namespaces and capture); skipped"
    exit 0
fi
for tool in tcpdump tcpreplay; do
    command -v "$tool" >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$tool" >/dev/null
done

RATES=${RATES:-"50000 100000 200000 400000 800000 1600000"}
PACKETS=${PACKETS:-400000}
CAPTURE=${CAPTURE:-small}
BUFFER_MB=${BUFFER_MB:-32}
SEND=w3lrsend RECV=w3lrrecv
work=$(mktemp -d)
cleanup() {
    ip netns del "$SEND" 2>/dev/null || true
    ip netns del "$RECV" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

cargo build --release --quiet -p watch3232 -p watch3232-testgen --examples --bins
target=${CARGO_TARGET_DIR:-target}
bin="$target/release/watch3232"
"$target/release/testgen" "bench-$CAPTURE" "$work/small.pcap" --packets "$PACKETS" >/dev/null 2>&1
filter=$("$target/release/examples/print_filter")

ip netns add "$SEND"
ip netns add "$RECV"
ip link add w3lr0 type veth peer name w3lr1
ip link set w3lr0 netns "$SEND"
ip link set w3lr1 netns "$RECV"
ip -n "$SEND" link set w3lr0 up
ip -n "$RECV" link set w3lr1 up

# "<received> <dropped>" from a capture tool's closing lines.
tcpdump_counts() {
    awk '/packets received by filter/ { r = $1 } /packets dropped by kernel/ { d = $1 } END { print r + 0, d + 0 }' "$1"
}
# watch3232 prints one such line per worker with `--workers N`: sum them.
watch_counts() {
    awk 'match($0, /[0-9]+ packets received by filter, [0-9]+ dropped by kernel/) {
             split(substr($0, RSTART, RLENGTH), f, " "); r += f[1]; d += f[6]
         } END { print r + 0, d + 0 }' "$1"
}

echo "capture: bench-$CAPTURE, $PACKETS packets"
printf '%-10s %-10s %-12s %-22s %-22s\n' "target" "achieved" "sent" "tcpdump recv/dropped" "watch3232 recv/dropped"
best_tcpdump=0
best_watch=0
for rate in $RATES; do
    ip netns exec "$RECV" tcpdump -i w3lr1 -B $((BUFFER_MB * 1024)) -w /dev/null "$filter" 2>"$work/tcpdump.err" &
    tpid=$!
    # shellcheck disable=SC2086 # WATCH_ARGS is a list of flags
    ip netns exec "$RECV" "$bin" -q capture -i w3lr1 --buffer-size $((BUFFER_MB << 20)) ${WATCH_ARGS:-} -o /dev/null 2>"$work/watch.err" &
    wpid=$!
    sleep 1.5
    ip netns exec "$SEND" tcpreplay -q --pps "$rate" -i w3lr0 "$work/small.pcap" >"$work/replay.out" 2>&1 || true
    sleep 1
    kill -INT "$tpid" "$wpid"
    wait "$tpid" "$wpid" 2>/dev/null || true
    achieved=$(grep -oE '[0-9.]+ pps' "$work/replay.out" | head -1 | cut -d' ' -f1)
    sent=$(grep -oE 'Actual: [0-9]+ packets' "$work/replay.out" | grep -oE '[0-9]+' | head -1)
    read -r t_recv t_drop < <(tcpdump_counts "$work/tcpdump.err")
    read -r w_recv w_drop < <(watch_counts "$work/watch.err")
    printf '%-10s %-10s %-12s %-22s %-22s\n' "$rate" "${achieved:-?}" "${sent:-?}" "$t_recv/$t_drop" "$w_recv/$w_drop"
    [ "$t_drop" -eq 0 ] && best_tcpdump=$rate
    [ "$w_drop" -eq 0 ] && best_watch=$rate
done
echo "highest target rate without kernel drops: tcpdump $best_tcpdump pps, watch3232 $best_watch pps"
echo "(targets tcpreplay could not reach show a lower 'achieved' rate: there the sender, not the capture, was the limit)"
