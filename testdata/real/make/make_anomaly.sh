#!/bin/bash
# Makes the anomaly reference captures: real scanners and clients (nmap, openssl, curl, socat)
# against real servers on port 3232, between two network namespaces (created and deleted here).
#
# usage (root): testdata/real/make/make_anomaly.sh [NAME…]
# Needs (Debian packages): nmap, openssl, curl, socat, tcpdump, iproute2, python3.
# Writes testdata/real/anomaly/NAME.pcap and testdata/real/make/runs/NAME.json; then run
# manifest.py.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
REAL=$(dirname "$HERE")
. "$HERE/netns.sh"
[ "$(id -u)" = 0 ] || { echo "needs root (network namespaces, tcpdump)" >&2; exit 1; }
mkdir -p "$REAL/anomaly" "$HERE/runs"
TMP=$(mktemp -d)
trap 'netns_delete; rm -rf "$TMP"' EXIT
ONLY=("$@")
want() { [ ${#ONLY[@]} -eq 0 ] || [[ " ${ONLY[*]} " == *" $1 "* ]]; }

# begin NAME: namespaces (the device side also answers on 10.32.32.3-21) and the capture.
begin() {
    NAME=$1
    echo "== $NAME"
    netns_create
    for i in $(seq 3 21); do dev ip addr add 10.32.32.$i/24 dev w32d; done
    capture_start "$REAL/anomaly/$NAME.pcap"
}
# finish 'command' 'peer' 'version' [exit]
finish() {
    capture_stop
    netns_delete
    python3 - "$HERE/runs/$NAME.json" "$NAME" "$1" "$2" "$3" "${4:-0}" <<'PY'
import json, sys
out, name, cmd, peer, version, rc = sys.argv[1:]
json.dump({"name": name, "command": cmd, "peer_command": peer, "version": version,
           "uploader_exit": int(rc)}, open(out, "w"), indent=1)
PY
}
NMAP_V=$(nmap --version | head -1)
# The HTTP server serves one small page (nothing of the machine it runs on).
mkdir -p "$TMP/www"
printf '<html><body><h1>esp32-240ac4323202</h1><p>status: ok</p></body></html>\n' >"$TMP/www/index.html"
http_server() {
    ip netns exec $NS_DEV python3 -m http.server 3232 --bind $IP_DEV --directory "$TMP/www" >/dev/null 2>&1 &
    SERVER=$!
    sleep 1
}
stop_server() { kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; }

if want nmap_syn_horizontal; then
    begin nmap_syn_horizontal
    up nmap -sS -Pn -n -p 3232 10.32.32.2-21 >"$TMP/out" 2>&1
    finish "nmap -sS -Pn -n -p 3232 10.32.32.2-21" "20 addresses of the device namespace, nothing listening on 3232 (RST)" "$NMAP_V" $?
fi
if want nmap_syn_vertical; then
    begin nmap_syn_vertical
    up nmap -sS -Pn -n -p 2040,3232,8266 $IP_DEV >"$TMP/out" 2>&1
    finish "nmap -sS -Pn -n -p 2040,3232,8266 $IP_DEV" "one host, nothing listening (RST)" "$NMAP_V" $?
fi
if want nmap_syn_3230_3234; then
    # Five ports around 3232 on one host, where an HTTP server listens on 3232: four RSTs and one
    # SYN-ACK that nmap resets (a SYN scan never completes the handshake).
    begin nmap_syn_3230_3234
    http_server
    up nmap -sS -Pn -n -p 3230-3234 $IP_DEV >"$TMP/out" 2>&1
    rc=$?
    stop_server
    finish "nmap -sS -Pn -n -p 3230-3234 $IP_DEV" "python3 -m http.server 3232 ($(python3 --version)); 3230, 3231, 3233, 3234 closed (RST)" "$NMAP_V" $rc
fi
if want nmap_udp_horizontal; then
    begin nmap_udp_horizontal
    up nmap -sU -Pn -n -p 3232 10.32.32.2-21 >"$TMP/out" 2>&1
    finish "nmap -sU -Pn -n -p 3232 10.32.32.2-21" "20 addresses, no UDP listener (ICMP port unreachable, rate-limited by the kernel)" "$NMAP_V" $?
fi
if want nmap_version_http; then
    begin nmap_version_http
    http_server
    up nmap -sV -Pn -n -p 3232 $IP_DEV >"$TMP/out" 2>&1
    rc=$?
    stop_server
    finish "nmap -sV -Pn -n -p 3232 $IP_DEV" "python3 -m http.server 3232 ($(python3 --version))" "$NMAP_V" $rc
fi
if want openssl_tls; then
    begin openssl_tls
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/key.pem" -out "$TMP/cert.pem" \
        -days 2 -subj "/CN=c2.example.test" >/dev/null 2>&1
    ip netns exec $NS_DEV openssl s_server -accept 3232 -cert "$TMP/cert.pem" -key "$TMP/key.pem" -quiet >/dev/null 2>&1 &
    SERVER=$!
    sleep 1
    echo "hello" | up timeout 5 openssl s_client -connect $IP_DEV:3232 -servername c2.example.test -quiet >/dev/null 2>&1
    rc=$?
    sleep 0.5
    stop_server
    finish "echo hello | openssl s_client -connect $IP_DEV:3232 -servername c2.example.test -quiet" \
        "openssl s_server -accept 3232 (self-signed RSA certificate for CN=c2.example.test)" "$(openssl version)" $rc
fi
if want curl_http; then
    begin curl_http
    http_server
    up curl -s -o /dev/null http://$IP_DEV:3232/
    rc=$?
    stop_server
    finish "curl -s -o /dev/null http://$IP_DEV:3232/" "python3 -m http.server 3232 ($(python3 --version))" "$(curl --version | head -1)" $rc
fi
if want socat_shell; then
    begin socat_shell
    ip netns exec $NS_DEV socat TCP-LISTEN:3232,reuseaddr EXEC:/bin/sh,stderr >/dev/null 2>&1 &
    SERVER=$!
    sleep 1
    # A person at a shell: irregular pauses between commands (that reveal nothing of this machine).
    (sleep 1.3; echo "echo ready"; sleep 2.1; echo "uname -s"; sleep 0.9; echo "expr 6 \* 7"; sleep 1.7; echo "echo \$((2 + 3))"; sleep 2.6; echo exit) |
        up socat - TCP:$IP_DEV:3232 >/dev/null
    rc=$?
    stop_server
    finish "(sleep 1.3; echo 'echo ready'; sleep 2.1; echo 'uname -s'; sleep 0.9; echo 'expr 6 \\* 7'; sleep 1.7; echo 'echo \$((2 + 3))'; sleep 2.6; echo exit) | socat - TCP:$IP_DEV:3232" \
        "socat TCP-LISTEN:3232,reuseaddr EXEC:/bin/sh,stderr" "$(socat -V | grep 'socat version' | head -1)" $rc
fi
