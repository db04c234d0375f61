#!/bin/bash
# Makes the PIM/MDT reference capture: FRR pimd on two PEs (network namespaces created and deleted
# here) exchanging PIM Hellos, and (*,G) Join/Prunes from pe2 towards the RP (pe1) once a host
# on pe2's LAN (a third namespace) joins 239.1.2.3. The PIM runs on the link between the PEs:
# the kernel where these captures were made has no GRE (ip_gre) at all, so the default-MDT form
# (PIM inside GRE to the provider group 239.232.1.1, RFC 6037 §2) is made afterwards from this
# capture by gre_wrap.py, and the manifest says so.
#
# usage (root): testdata/real/make/make_pim.sh        needs: frr (pimd, zebra), tcpdump, iproute2,
# python3-scapy. Writes testdata/real/mdt/frr_pim_plain.pcap and frr_pim_default_mdt_gre.pcap.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
REAL=$(dirname "$HERE")
[ "$(id -u)" = 0 ] || { echo "needs root (network namespaces, tcpdump)" >&2; exit 1; }
FRR=${FRR_DIR:-/usr/lib/frr}
NAME=frr_pim_plain
SECONDS_TO_RUN=${PIM_SECONDS:-25}
mkdir -p "$REAL/mdt" "$HERE/runs"
TMP=$(mktemp -d)
chmod 755 "$TMP"
cleanup() {
    for p in "$TMP"/*/*.pid; do [ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null; done
    sleep 0.5
    ip netns del w32pe1 2>/dev/null
    ip netns del w32pe2 2>/dev/null
    ip netns del w32rcv 2>/dev/null
    rm -rf "$TMP" /var/run/frr/w32pe1 /var/run/frr/w32pe2
}
trap cleanup EXIT
cleanup 2>/dev/null
mkdir -p "$TMP"
chmod 755 "$TMP"
ip netns add w32pe1 && ip netns add w32pe2
ip link add w33a type veth peer name w33b
ip link set w33a netns w32pe1 && ip link set w33b netns w32pe2
n=1
for ns in w32pe1 w32pe2; do
    dev=$([ $ns = w32pe1 ] && echo w33a || echo w33b)
    ip netns exec $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 net.ipv4.ip_forward=1
    ip -n $ns link set lo up
    ip -n $ns link set $dev address 02:32:33:00:00:0$n
    ip -n $ns addr add 10.32.33.$n/24 dev $dev
    ip -n $ns link set $dev up
    # A LAN for the receiver (a veth pair inside the namespace: this kernel has no dummy).
    ip -n $ns link add lan0 type veth peer name lan0p
    ip -n $ns addr add 172.16.$n.1/24 dev lan0
    ip -n $ns link set lan0 up && ip -n $ns link set lan0p up
    n=$((n + 1))
done
conf() { # conf NS N
    local IF=$([ "$2" = 1 ] && echo w33a || echo w33b)
    mkdir -p "$TMP/$1" /var/run/frr/$1
    chown frr:frr "$TMP/$1" /var/run/frr/$1
    cat >"$TMP/$1/zebra.conf" <<CONF
hostname $1
CONF
    cat >"$TMP/$1/pimd.conf" <<CONF
hostname $1
ip pim rp 10.32.33.1 224.0.0.0/4
interface $IF
 ip pim
 ip pim hello 5 30
interface lan0
 ip pim
 ip igmp
CONF
    if [ "$2" = 2 ]; then
        cat >>"$TMP/$1/pimd.conf" <<CONF
CONF
    fi
    chown frr:frr "$TMP/$1"/*.conf
}
# The receiver: a host on pe2's LAN joins 239.1.2.3 (its kernel sends the IGMP reports).
ip netns add w32rcv
ip -n w32pe2 link set lan0p netns w32rcv
ip -n w32rcv link set lo up
ip -n w32rcv addr add 172.16.2.2/24 dev lan0p
ip -n w32rcv link set lan0p up
ip -n w32rcv route add default via 172.16.2.1
conf w32pe1 1
conf w32pe2 2
tcpdump_pid=
ip netns exec w32pe1 tcpdump -i w33a -s 0 --immediate-mode -U -w "$REAL/mdt/$NAME.pcap" 2>/dev/null &
tcpdump_pid=$!
sleep 1
for ns in w32pe1 w32pe2; do
    ip netns exec $ns $FRR/zebra -d -N $ns -f "$TMP/$ns/zebra.conf" -i "$TMP/$ns/zebra.pid" 2>>"$TMP/frr.log"
    sleep 1
    ip netns exec $ns $FRR/pimd -d -N $ns -f "$TMP/$ns/pimd.conf" -i "$TMP/$ns/pimd.pid" 2>>"$TMP/frr.log"
done
sleep 8
ip netns exec w32rcv python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, socket.inet_aton("239.1.2.3") + socket.inet_aton("172.16.2.2"))
time.sleep(int(__import__("sys").argv[1]))
' "$SECONDS_TO_RUN"
vtysh=$(command -v vtysh)
[ -n "$vtysh" ] && ip netns exec w32pe2 vtysh -N w32pe2 -c "show ip pim neighbor" -c "show ip pim join" 2>&1 | grep -v vtysh.conf | tee "$TMP/show.txt"
for p in "$TMP"/*/pimd.pid; do kill "$(cat "$p")"; done
sleep 2
kill -INT $tcpdump_pid; wait $tcpdump_pid
cat "$TMP/frr.log" >&2
python3 - "$HERE/runs/$NAME.json" "$($FRR/pimd --version | head -1)" "$TMP/show.txt" "$SECONDS_TO_RUN" <<'PY'
import json, sys
out, v, show, secs = sys.argv[1:]
try:
    shown = open(show).read().strip().splitlines()
except OSError:
    shown = []
json.dump({"name": "frr_pim_plain", "version": "FRR " + v,
           "command": "zebra -d -N PE -f zebra.conf; pimd -d -N PE -f pimd.conf (configurations in make_pim.sh), the receiver joined 8 s after start and left %s s later, then pimd stopped (SIGTERM)" % secs,
           "peer_command": None, "uploader_exit": 0, "uploader_log_tail": shown}, open(out, "w"), indent=1)
PY
${PYTHON:-python3} "$HERE/gre_wrap.py" "$REAL/mdt/$NAME.pcap" "$REAL/mdt/frr_pim_default_mdt_gre.pcap" 239.232.1.1
