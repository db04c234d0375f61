# Sourced by the make scripts: two network namespaces joined by a veth pair, and tcpdump.
#   up   (uploader / client / scanner) 10.32.32.1  interface w32u
#   dev  (device / server)             10.32.32.2  interface w32d
# Everything runs inside them; nothing leaves them. Run as root. IPv6 is off so that the
# captures hold only the traffic of the scenario (and ARP).
NS_UP=w32up
NS_DEV=w32dev
IP_UP=10.32.32.1
IP_DEV=10.32.32.2
# (In the background use `ip netns exec NS cmd &` itself, so that $! is the program's PID.)
up() { ip netns exec $NS_UP "$@"; }
dev() { ip netns exec $NS_DEV "$@"; }
netns_create() {
    netns_delete
    ip netns add $NS_UP && ip netns add $NS_DEV
    ip link add w32u type veth peer name w32d
    ip link set w32u netns $NS_UP && ip link set w32d netns $NS_DEV
    # Fixed MACs (the device's is an Espressif OUI, as a real module's would be).
    up ip link set w32u address 02:32:32:00:00:01
    dev ip link set w32d address 24:0a:c4:32:32:02
    for ns in $NS_UP $NS_DEV; do
        ip netns exec $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
        ip -n $ns link set lo up
    done
    up ip addr add $IP_UP/24 dev w32u && dev ip addr add $IP_DEV/24 dev w32d
    up ip link set w32u up && dev ip link set w32d up
    sleep 0.5
}
netns_delete() {
    ip netns del $NS_UP 2>/dev/null
    ip netns del $NS_DEV 2>/dev/null
    true
}
# capture_start FILE [filter…]: tcpdump on the uploader's side of the link.
capture_start() {
    local file=$1
    shift
    ip netns exec $NS_UP tcpdump -i w32u -s 0 --immediate-mode -U -w "$file" "$@" 2>/dev/null &
    TCPDUMP=$!
    sleep 1
}
capture_stop() {
    sleep 1
    kill -INT $TCPDUMP 2>/dev/null
    wait $TCPDUMP 2>/dev/null
    TCPDUMP=
}
# wait_or_kill PID SECONDS
wait_or_kill() {
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        kill -0 "$1" 2>/dev/null || { wait "$1" 2>/dev/null; return; }
        sleep 0.1
    done
    kill "$1" 2>/dev/null
    wait "$1" 2>/dev/null
}
