#!/usr/bin/env python3
"""Puts the PIM packets of a capture into GRE to a provider group: the default-MDT form.

  gre_wrap.py IN.pcap OUT.pcap [P_GROUP]      (needs python3-scapy)

The kernel the reference captures were made on has no GRE, so FRR's PIM could not be captured
inside a real GRE tunnel (make_pim.sh). This takes the PIM packets pimd sent (protocol 103, the
bytes unchanged, the same timestamps) and wraps each in IPv4 (source: the PE's address, the
inner source; destination: the provider group, default 239.232.1.1; TTL 8) + GRE (protocol
0x0800, no key), as a PE's default MDT sends them (RFC 6037 §2), on Ethernet with the group's
multicast MAC. Everything else (the PEs' IGMP) is left out.
"""
import sys

from scapy.all import GRE, IP, Ether, PcapWriter, rdpcap


def main():
    src, dst = sys.argv[1], sys.argv[2]
    group = sys.argv[3] if len(sys.argv) > 3 else "239.232.1.1"
    g = [int(x) for x in group.split(".")]
    mac = "01:00:5e:%02x:%02x:%02x" % (g[1] & 0x7F, g[2], g[3])
    out = PcapWriter(dst, linktype=1, sync=True)
    n = 0
    for p in rdpcap(src):
        if IP not in p or p[IP].proto != 103:
            continue
        inner = p[IP]
        outer = Ether(src=p[Ether].src, dst=mac) / IP(src=inner.src, dst=group, ttl=8, id=n) / GRE(proto=0x0800) / inner
        outer = Ether(bytes(outer))
        outer.time = p.time
        out.write(outer)
        n += 1
    out.close()
    print("%d PIM packets wrapped in GRE to %s" % (n, group))


if __name__ == "__main__":
    main()
