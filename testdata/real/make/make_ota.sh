#!/bin/bash
# Makes the OTA reference captures: the REAL uploaders against the device simulators, between two
# network namespaces (created and deleted here), captured with tcpdump.
#
# usage (root): testdata/real/make/make_ota.sh [NAME…]     (default: every scenario)
# The upstream uploaders are NOT in this repository; say where they are:
#   ESPOTA_MD5     arduino-esp32 tools/espota.py from before 3.3.1 (MD5 auth)
#   ESPOTA_PBKDF2  arduino-esp32 tools/espota.py 3.3.1+ (PBKDF2-HMAC-SHA256 auth)
#   ESPOTA_8266    esp8266/Arduino tools/espota.py
#   ESPHOME_OLD    an unpacked esphome wheel of the MD5 era (e.g. 2024.10.3)
#   ESPHOME_NEW    an unpacked esphome wheel of the SHA-256 era (e.g. 2026.6.5)
# and, for the manifest, where each came from (*_FROM, see the defaults below).
# Writes testdata/real/ota/NAME.pcap and testdata/real/make/runs/NAME.json (what ran, exit
# codes); then run manifest.py to rebuild MANIFEST.json.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
REAL=$(dirname "$HERE")
. "$HERE/netns.sh"
PY=${PYTHON:-python3}
: "${ESPOTA_MD5:?path of arduino-esp32 espota.py before 3.3.1}"
: "${ESPOTA_PBKDF2:?path of arduino-esp32 espota.py 3.3.1+}"
: "${ESPOTA_8266:?path of esp8266/Arduino espota.py}"
: "${ESPHOME_OLD:?unpacked esphome wheel, MD5 era}"
: "${ESPHOME_NEW:?unpacked esphome wheel, SHA-256 era}"
: "${ESPOTA_MD5_FROM:=espressif/arduino-esp32 tools/espota.py at commit 8edd52997986dbefce98b013383fb08f9eeca83f}"
: "${ESPOTA_PBKDF2_FROM:=espressif/arduino-esp32 tools/espota.py, 3.3.1+ revision after PR 11905 (2025-10-07), before PR 12272}"
: "${ESPOTA_8266_FROM:=esp8266/Arduino tools/espota.py at commit 9afb084159096aefa509aa2a9f962d15c7f5f146}"
: "${ESPHOME_OLD_FROM:=PyPI esphome 2024.10.3 (esphome-2024.10.3-py3-none-any.whl), esphome/espota2.py}"
: "${ESPHOME_NEW_FROM:=PyPI esphome 2026.6.5 (esphome-2026.6.5-py3-none-any.whl), esphome/espota2.py}"
[ "$(id -u)" = 0 ] || { echo "needs root (network namespaces, tcpdump)" >&2; exit 1; }
mkdir -p "$REAL/ota" "$HERE/runs"
FW=$(mktemp -d)
trap 'netns_delete; rm -rf "$FW"' EXIT
$PY "$HERE/mkfw.py" esp32 "$FW/blink-demo.bin" 24576
$PY "$HERE/mkfw.py" esp8266 "$FW/blink8266.bin" 20000
$PY "$HERE/mkfw.py" fs "$FW/littlefs.bin" 8192

# run NAME TOOL_VAR 'device args' 'uploader args' — one capture (args as shell words).
run() {
    want "$1" || return 0
    local name=$1 tool=$2 devargs=$3 upargs=$4
    local -a DA UA
    eval "DA=($devargs)"
    eval "UA=($upargs)"
    local script=${!tool} from_var=${tool}_FROM
    local from=${!from_var} pcap="$REAL/ota/$name.pcap" log="$FW/$name"
    echo "== $name"
    netns_create
    capture_start "$pcap"
    local devcmd upcmd
    case $tool in
    ESPHOME_*)
        devcmd="fake_esphome.py --bind $IP_DEV $devargs"
        upcmd="esphome_upload.py \$$tool $IP_DEV 3232 $upargs"
        ip netns exec $NS_DEV $PY "$HERE/fake_esphome.py" --bind $IP_DEV "${DA[@]}" 2>"$log.dev" &
        local D=$!
        sleep 0.5
        (cd "$FW" && up timeout 120 $PY "$HERE/esphome_upload.py" "$script" $IP_DEV 3232 "${UA[@]}" >"$log.up" 2>&1)
        ;;
    *)
        devcmd="fake_esp.py --bind $IP_DEV $devargs"
        upcmd="python3 \$$tool -i $IP_DEV -I $IP_UP $upargs"
        ip netns exec $NS_DEV $PY "$HERE/fake_esp.py" --bind $IP_DEV "${DA[@]}" 2>"$log.dev" &
        local D=$!
        sleep 0.5
        (cd "$FW" && up timeout 120 $PY "$script" -i $IP_DEV -I $IP_UP "${UA[@]}" >"$log.up" 2>&1)
        ;;
    esac
    local rc=$?
    wait_or_kill $D 5
    capture_stop
    netns_delete
    echo "   uploader exit $rc; $(tail -1 "$log.up")"
    $PY - "$HERE/runs/$name.json" "$name" "$tool" "$from" "$script" "$upcmd" "$devcmd" "$rc" "$log.up" "$log.dev" <<'PY'
import hashlib, json, sys
out, name, tool, frm, script, upcmd, devcmd, rc, uplog, devlog = sys.argv[1:]
def sha(p):
    import os
    if os.path.isdir(p):
        p = os.path.join(p, "esphome", "espota2.py")
    return hashlib.sha256(open(p, "rb").read()).hexdigest()
json.dump({
    "name": name, "tool_var": tool, "tool_source": frm, "tool_file_sha256": sha(script),
    "command": upcmd, "peer_command": devcmd, "uploader_exit": int(rc),
    "uploader_log_tail": open(uplog, errors="replace").read().strip().splitlines()[-3:],
    "device_log": open(devlog, errors="replace").read().strip().splitlines()[-6:],
}, open(out, "w"), indent=1)
PY
}

ONLY=("$@")
want() { [ ${#ONLY[@]} -eq 0 ] || [[ " ${ONLY[*]} " == *" $1 "* ]]; }
scenarios() {
    # arduino-esp32 before 3.3.1, MD5 auth
    run esp32_md5_ok ESPOTA_MD5 "--mode esp32-md5 --password ota-secret" "-p 3232 -P 40001 -a ota-secret -f blink-demo.bin"
    run esp32_md5_wrong_password ESPOTA_MD5 "--mode esp32-md5 --password ota-secret" "-p 3232 -P 40002 -a not-the-password -f blink-demo.bin"
    run esp32_md5_aborted ESPOTA_MD5 "--mode esp32-md5 --password ota-secret --abort-after 10240" "-p 3232 -P 40003 -a ota-secret -f blink-demo.bin"
    run esp32_noauth_filesystem ESPOTA_MD5 "--mode esp32-md5" "-p 3232 -P 40004 -s -f littlefs.bin"
    run esp32_md5_flash_error ESPOTA_MD5 "--mode esp32-md5 --end-error 'Flash Write Failed'" "-p 3232 -P 40005 -f blink-demo.bin"
    # arduino-esp32 3.3.1+, PBKDF2-HMAC-SHA256 auth
    run esp32_pbkdf2_ok ESPOTA_PBKDF2 "--mode esp32-pbkdf2 --password ota-secret" "-p 3232 -P 40011 -a ota-secret -f blink-demo.bin"
    run esp32_pbkdf2_wrong_password ESPOTA_PBKDF2 "--mode esp32-pbkdf2 --password ota-secret" "-p 3232 -P 40012 -a not-the-password -f blink-demo.bin"
    run esp32_pbkdf2_md5_stored ESPOTA_PBKDF2 "--mode esp32-pbkdf2 --password ota-secret --stored-md5" "-p 3232 -P 40013 -a ota-secret -f blink-demo.bin"
    run esp32_pbkdf2_aborted ESPOTA_PBKDF2 "--mode esp32-pbkdf2 --password ota-secret --abort-after 4096" "-p 3232 -P 40014 -a ota-secret -f blink-demo.bin"
    run esp32_pbkdf2_to_md5_device ESPOTA_PBKDF2 "--mode esp32-md5 --password ota-secret" "-p 3232 -P 40015 -a ota-secret -f blink-demo.bin"
    # esp8266/Arduino
    run esp8266_ok ESPOTA_8266 "--mode esp8266 --password ota-secret" "-p 8266 -P 40021 -a ota-secret -f blink8266.bin"
    run esp8266_wrong_password ESPOTA_8266 "--mode esp8266 --password ota-secret" "-p 8266 -P 40023 -a not-the-password -f blink8266.bin"
    run esp8266_begin_error ESPOTA_8266 "--mode esp8266 --begin-error 'ERROR[4]: Not Enough Space'" "-p 8266 -P 40022 -f blink8266.bin"
    # ESPHome espota2.py
    run esphome_2024_md5_ok ESPHOME_OLD "--era 2024 --password ota-secret" "ota-secret blink-demo.bin"
    run esphome_2024_md5_mismatch ESPHOME_OLD "--era 2024 --end-error 0x8B" "'' blink-demo.bin"
    run esphome_2026_sha256_ok ESPHOME_NEW "--era 2026 --password ota-secret" "ota-secret blink-demo.bin"
    run esphome_2026_wrong_password ESPHOME_NEW "--era 2026 --password ota-secret" "not-the-password blink-demo.bin"
}
scenarios
