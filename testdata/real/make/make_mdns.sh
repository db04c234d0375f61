#!/bin/bash
# Makes the mDNS reference capture: mdns_announce.py (python-zeroconf) announcing an ArduinoOTA
# ESP32 and an ESPHome device from the device namespace (created and deleted here).
# usage (root): testdata/real/make/make_mdns.sh      needs: pip install zeroconf
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
REAL=$(dirname "$HERE")
. "$HERE/netns.sh"
[ "$(id -u)" = 0 ] || { echo "needs root (network namespaces, tcpdump)" >&2; exit 1; }
mkdir -p "$REAL/mdns" "$HERE/runs"
trap 'netns_delete' EXIT
NAME=mdns_ota_devices
netns_create
for ns in $NS_UP $NS_DEV; do ip -n $ns route add 224.0.0.0/4 dev $([ $ns = $NS_UP ] && echo w32u || echo w32d); done
capture_start "$REAL/mdns/$NAME.pcap"
dev python3 "$HERE/mdns_announce.py" $IP_DEV
rc=$?
capture_stop
netns_delete
V=$(python3 -c 'import zeroconf; print(zeroconf.__version__)')
python3 - "$HERE/runs/$NAME.json" "$V" $rc <<'PY'
import json, sys
out, v, rc = sys.argv[1:]
json.dump({"name": "mdns_ota_devices", "command": "python3 mdns_announce.py 10.32.32.2",
           "peer_command": None, "version": "python-zeroconf " + v, "uploader_exit": int(rc)},
          open(out, "w"), indent=1)
PY
