#!/bin/bash
# Live-capture check of the OTA connect-back filter: a real espota.py upload between two network
# namespaces this script creates (and removes), watched by `watch3232 capture` with the DEFAULT
# kernel filter. The device's TCP connection back to the uploader's random host port is only
# seen if watch3232 extends the filter at run time.
#
# usage (root): tests/tools/live_netns_ota.sh path/to/espota.py [path/to/watch3232]
# espota.py: arduino-esp32's tools/espota.py from before 3.3.1 (MD5 auth; not in this repository,
# see testdata/real/MANIFEST.json for where the reference one came from). The device is the
# simulator of the reference captures, testdata/real/make/fake_esp.py. Needs: ip, python3.
# Exit 0 = a `transfer` event with outcome complete was written. The same check without the
# upstream uploader runs in CI: tests/live.rs, live_ota_upload_between_namespaces_with_the_default_filter.
set -u
ESPOTA=${1:?usage: $0 path/to/espota.py [path/to/watch3232]}
BIN=${2:-target/debug/watch3232}
FAKE=$(cd "$(dirname "$0")/../.." && pwd)/testdata/real/make/fake_esp.py
[ "$(id -u)" = 0 ] || { echo "needs root (network namespaces)" >&2; exit 1; }
UP=w3i3up; DEV=w3i3dev; OUT=$(mktemp -d)
cleanup() {
    [ -n "${W:-}" ] && kill -TERM "$W" 2>/dev/null && wait "$W" 2>/dev/null
    [ -n "${D:-}" ] && kill "$D" 2>/dev/null && wait "$D" 2>/dev/null
    ip netns del $UP 2>/dev/null; ip netns del $DEV 2>/dev/null
}
trap cleanup EXIT
ip netns add $UP && ip netns add $DEV
ip link add w3i3u type veth peer name w3i3d
ip link set w3i3u netns $UP && ip link set w3i3d netns $DEV
ip -n $UP addr add 10.233.0.1/24 dev w3i3u && ip -n $DEV addr add 10.233.0.2/24 dev w3i3d
ip -n $UP link set w3i3u up && ip -n $DEV link set w3i3d up
ip -n $UP link set lo up && ip -n $DEV link set lo up
ip netns exec $UP "$BIN" -v capture -i w3i3u -o "$OUT/events.json" 2>"$OUT/watch.log" &
W=$!
sleep 1.5
ip netns exec $DEV python3 "$FAKE" --mode esp32-md5 --bind 10.233.0.2 --max-sessions 1 2>"$OUT/device.log" &
D=$!
sleep 0.7
PORT=$((20000 + RANDOM % 30000))
python3 "$(dirname "$FAKE")/mkfw.py" esp32 "$OUT/esp32_app.bin" 24576
ip netns exec $UP python3 "$ESPOTA" -i 10.233.0.2 -I 10.233.0.1 -p 3232 -P $PORT \
    -f "$OUT/esp32_app.bin" >"$OUT/uploader.log" 2>&1
echo "uploader exit: $? (host port $PORT)"
sleep 2
kill -TERM "$W"; wait "$W"; W=
grep -c '"filter updated\|capture filter updated' "$OUT/watch.log" | sed 's/^/filter updates logged: /'
python3 - "$OUT/events.json" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
t = [e for e in ev if e.get("kind") == "transfer"]
for e in t:
    d = e["arduino_ota"]
    print("transfer:", d["outcome"], d["bytes"], d["acked_bytes"], d["md5_match"], e["src_port"], "->", e["dest_port"])
sys.exit(0 if t and t[0]["arduino_ota"]["outcome"] == "complete" and t[0]["arduino_ota"]["md5_match"] else 1)
PY
