//! The pre-filter: which packets are worth a flow-table lookup. Every classifier declares its
//! ports and IP protocols into bitmaps ([`Interest`]), so the reject path for background traffic
//! is two array reads. [`Interest::wants`] is the one decision, taken by the engine on the fast
//! path (`decode::fast::peek`'s ports), on the slow path (the full decoder's result), and
//! mirrored by the live kernel filter ([`Interest::kernel_filter`], written by [`bpf`]), which passes a superset
//! of it so that nothing the engine wants is dropped in the kernel.
//!
//! Run-time interest is exact: a classifier holds a [`ConnectBack`] (an address pair and a TCP
//! port), not a port. The port goes into the TCP bitmap, so most background traffic is still
//! rejected by one array read; a packet whose only claim is a held port is then wanted only if
//! its addresses and port name a hold ([`Interest::held`]), before any decoding.

pub mod bpf;

use crate::decode::{IPPROTO_TCP, IPPROTO_UDP};
use crate::flow::FastMap;
pub use bpf::{filter_for, FilterSpec, PortCover};
use std::collections::hash_map::Entry;
use std::net::IpAddr;

const WORDS: usize = 65536 / 64;

/// A TCP connection a classifier waits for: `device` connects, from any port, to
/// `uploader:port` (an espota connect-back, arduino-ota.md §1.1). Packets of it either way are
/// wanted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConnectBack {
    pub device: IpAddr,
    pub uploader: IpAddr,
    pub port: u16,
}

#[derive(Clone)]
pub struct Interest {
    udp: Box<[u64; WORDS]>,
    /// Static and dynamic TCP ports together: the one map the per-packet check reads.
    tcp: Box<[u64; WORDS]>,
    tcp_static: Box<[u64; WORDS]>,
    protocols: [bool; 256],
    /// UDP destination ports of VXLAN and GENEVE: passed before decoding so the decoder can
    /// open them; what they carry is judged like any packet.
    udp_tunnel: Box<[u64; WORDS]>,
    /// Everything that arrived inside GRE (the MDT classifier wants tunnels, whatever they carry).
    pub tunnelled: bool,
    /// Ports of the run-time holds with their reference counts (the bitmap and the live kernel
    /// filter, which cannot name address pairs for thousands of holds).
    dynamic_tcp: FastMap<u16, u32>,
    /// The run-time holds themselves, with their reference counts: the exact check.
    held: FastMap<ConnectBack, u32>,
    /// Bumped whenever the set of dynamic ports changes (a live capture re-filters then).
    dynamic_generation: u64,
}

impl Default for Interest {
    fn default() -> Self {
        Interest {
            udp: Box::new([0; WORDS]),
            tcp: Box::new([0; WORDS]),
            tcp_static: Box::new([0; WORDS]),
            protocols: [false; 256],
            udp_tunnel: Box::new([0; WORDS]),
            tunnelled: false,
            dynamic_tcp: Default::default(),
            held: Default::default(),
            dynamic_generation: 0,
        }
    }
}

impl std::fmt::Debug for Interest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interest")
            .field("tunnelled", &self.tunnelled)
            .finish_non_exhaustive()
    }
}

fn set(map: &mut [u64; WORDS], port: u16, on: bool) {
    let (w, b) = (usize::from(port) / 64, port % 64);
    if on {
        map[w] |= 1 << b;
    } else {
        map[w] &= !(1 << b);
    }
}

fn get(map: &[u64; WORDS], port: u16) -> bool {
    map[usize::from(port) / 64] & (1 << (port % 64)) != 0
}

impl Interest {
    /// The pre-filter's decision by ports for a packet of IP protocol `proto`, with its
    /// transport ports when it has them (UDP, TCP), that came out of an IP-in-GRE tunnel or not.
    /// A TCP port that only a run-time hold names passes here; [`Interest::wants_from`] then
    /// checks the addresses. UDP to a VXLAN or GENEVE port is wanted: the decoder opens it and
    /// the packet inside is judged (a mirror tunnel's packet comes here as if it arrived bare).
    #[inline]
    pub fn wants(&self, proto: u8, ports: Option<(u16, u16)>, tunnelled: bool) -> bool {
        let by_port = match (proto, ports) {
            (IPPROTO_UDP, Some((src, dst))) => self.udp(src, dst) || get(&self.udp_tunnel, dst),
            (IPPROTO_TCP, Some((src, dst))) => self.tcp(src, dst),
            _ => false,
        };
        by_port || self.protocol(proto) || (tunnelled && self.tunnelled)
    }

    /// The whole decision for a packet from `src` to `dst`: [`Interest::wants`], and for TCP
    /// that passed on a held port alone, whether a hold names this address pair and port.
    #[inline]
    pub fn wants_from(
        &self,
        proto: u8,
        (src, dst): (IpAddr, IpAddr),
        ports: Option<(u16, u16)>,
        tunnelled: bool,
    ) -> bool {
        if !self.wants(proto, ports, tunnelled) {
            return false;
        }
        match (proto, ports) {
            (IPPROTO_TCP, Some((sp, dp))) if self.only_held(sp, dp) => {
                self.held(src, dst, sp, dp) || self.protocol(proto) || (tunnelled && self.tunnelled)
            }
            _ => true,
        }
    }

    /// Whether a TCP packet that [`Interest::wants`] passed did so on a run-time hold alone
    /// (neither port is declared): its addresses decide.
    #[inline]
    pub fn only_held(&self, src_port: u16, dst_port: u16) -> bool {
        !(get(&self.tcp_static, src_port) || get(&self.tcp_static, dst_port))
    }

    /// Whether a TCP packet from `src:src_port` to `dst:dst_port` belongs to a held
    /// connect-back: device → uploader:port, or uploader:port → device.
    #[inline]
    pub fn held(&self, src: IpAddr, dst: IpAddr, src_port: u16, dst_port: u16) -> bool {
        let to_uploader = ConnectBack {
            device: src,
            uploader: dst,
            port: dst_port,
        };
        let to_device = ConnectBack {
            device: dst,
            uploader: src,
            port: src_port,
        };
        self.held.contains_key(&to_uploader) || self.held.contains_key(&to_device)
    }

    /// What the kernel filter of a live capture passes for this pre-filter: the declared
    /// (static) ports by transport and the protocols. Run-time TCP ports are added apart
    /// ([`Interest::kernel_filter`]). Tunnelled traffic needs its delivery protocol (GRE),
    /// which whoever wants tunnels declares.
    pub fn kernel_filter_spec(&self) -> FilterSpec {
        let mut spec = FilterSpec::default();
        for port in 0..=u16::MAX {
            match (get(&self.udp, port), get(&self.tcp_static, port)) {
                (true, true) => spec.tcp_and_udp.push(port),
                (true, false) => spec.udp.push(port),
                (false, true) => spec.tcp.push(port),
                (false, false) => {}
            }
        }
        spec.protocols = (0..=u8::MAX).filter(|&p| self.protocol(p)).collect();
        spec.udp_tunnels = (0..=u16::MAX)
            .filter(|&p| get(&self.udp_tunnel, p))
            .collect();
        spec
    }

    /// The mirror and overlay encapsulations the decoder opens: GRE (any payload; ERSPAN and
    /// bridging included), VXLAN on `vxlan_ports`, GENEVE on 6081.
    pub fn add_tunnels(&mut self, vxlan_ports: &[u16]) {
        self.add_protocol(crate::decode::IPPROTO_GRE);
        for &port in vxlan_ports
            .iter()
            .chain(&[crate::decode::tunnel::geneve::PORT])
        {
            set(&mut self.udp_tunnel, port, true);
        }
    }

    /// The BPF expression a live capture installs by default: [`Interest::wants`] in the
    /// kernel's terms, with the run-time TCP ports of `run_time`.
    pub fn kernel_filter(&self, run_time: &PortCover) -> String {
        filter_for(&self.kernel_filter_spec(), run_time)
    }

    pub fn add_udp_port(&mut self, port: u16) {
        set(&mut self.udp, port, true);
    }

    pub fn add_tcp_port(&mut self, port: u16) {
        set(&mut self.tcp, port, true);
        set(&mut self.tcp_static, port, true);
    }

    pub fn add_protocol(&mut self, proto: u8) {
        self.protocols[usize::from(proto)] = true;
    }

    #[inline]
    pub fn udp(&self, src_port: u16, dst_port: u16) -> bool {
        get(&self.udp, src_port) || get(&self.udp, dst_port)
    }

    #[inline]
    pub fn tcp(&self, src_port: u16, dst_port: u16) -> bool {
        get(&self.tcp, src_port) || get(&self.tcp, dst_port)
    }

    #[inline]
    pub fn protocol(&self, proto: u8) -> bool {
        self.protocols[usize::from(proto)]
    }

    /// Watches a connect-back until [`Interest::release`] is called as often.
    pub fn hold(&mut self, c: ConnectBack) {
        *self.held.entry(c).or_insert(0) += 1;
        let port = self.dynamic_tcp.entry(c.port).or_insert(0);
        if *port == 0 {
            self.dynamic_generation += 1;
        }
        *port += 1;
        set(&mut self.tcp, c.port, true);
    }

    /// Ends one [`Interest::hold`] of `c`; a release of what is not held does nothing.
    pub fn release(&mut self, c: ConnectBack) {
        let Entry::Occupied(mut held) = self.held.entry(c) else {
            return;
        };
        *held.get_mut() -= 1;
        if *held.get() == 0 {
            held.remove();
        }
        if let Entry::Occupied(mut port) = self.dynamic_tcp.entry(c.port) {
            *port.get_mut() -= 1;
            if *port.get() == 0 {
                port.remove();
                self.dynamic_generation += 1;
                if !get(&self.tcp_static, c.port) {
                    set(&mut self.tcp, c.port, false);
                }
            }
        }
    }

    /// How many distinct connect-backs are held.
    pub fn held_count(&self) -> usize {
        self.held.len()
    }

    /// Changes whenever a dynamic port is added or dropped.
    pub fn dynamic_generation(&self) -> u64 {
        self.dynamic_generation
    }

    /// TCP ports held at run time (for the live capture filter).
    pub fn dynamic_tcp_ports(&self) -> impl Iterator<Item = u16> + '_ {
        self.dynamic_tcp.keys().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_decision_for_ports_protocols_and_tunnels() {
        let mut i = Interest::default();
        i.add_udp_port(3232);
        i.add_tcp_port(8892);
        i.add_protocol(103);
        assert!(i.wants(IPPROTO_UDP, Some((40000, 3232)), false));
        assert!(
            !i.wants(IPPROTO_TCP, Some((40000, 3232)), false),
            "UDP only"
        );
        assert!(i.wants(IPPROTO_TCP, Some((8892, 40000)), false));
        assert!(i.wants(103, None, false));
        assert!(
            !i.wants(IPPROTO_UDP, Some((1, 2)), true),
            "tunnels not wanted yet"
        );
        i.tunnelled = true;
        assert!(i.wants(IPPROTO_UDP, Some((1, 2)), true));
        assert!(!i.wants(IPPROTO_UDP, Some((1, 2)), false));
    }

    #[test]
    fn the_kernel_filter_names_what_the_classifiers_declared() {
        let mut i = Interest::default();
        for p in [3232, 8266] {
            i.add_udp_port(p);
            i.add_tcp_port(p);
        }
        i.add_udp_port(5353);
        i.add_tcp_port(8892);
        i.add_protocol(47);
        let spec = i.kernel_filter_spec();
        assert_eq!(spec.tcp_and_udp, [3232, 8266]);
        assert_eq!(spec.udp, [5353]);
        assert_eq!(spec.tcp, [8892]);
        assert_eq!(spec.protocols, [47]);
        let f = i.kernel_filter(&PortCover::default());
        assert!(
            f.contains("(udp port 5353)") && f.contains("(tcp port 8892)"),
            "{f}"
        );
        assert!(
            f.starts_with("(((tcp or udp) and (port 3232 or port 8266))"),
            "{f}"
        );
    }

    #[test]
    fn ports_and_protocols() {
        let mut i = Interest::default();
        i.add_udp_port(3232);
        i.add_protocol(47);
        assert!(i.udp(3232, 1) && i.udp(1, 3232) && !i.udp(1, 2));
        assert!(!i.tcp(3232, 1));
        assert!(i.protocol(47) && !i.protocol(103));
        i.add_udp_port(0);
        i.add_udp_port(65535);
        assert!(i.udp(0, 1) && i.udp(1, 65535));
    }

    fn hold_at(port: u16) -> ConnectBack {
        ConnectBack {
            device: "192.0.2.50".parse().unwrap(),
            uploader: "192.0.2.10".parse().unwrap(),
            port,
        }
    }

    #[test]
    fn holds_are_reference_counted() {
        let mut i = Interest::default();
        i.hold(hold_at(40000));
        i.hold(hold_at(40000));
        i.release(hold_at(40000));
        assert!(i.tcp(40000, 1));
        let generation = i.dynamic_generation();
        i.release(hold_at(40000));
        assert!(!i.tcp(40000, 1));
        assert_eq!(i.dynamic_generation(), generation + 1, "the set changed");
        assert_eq!(i.held_count(), 0);
        i.release(hold_at(40000));
        assert_eq!(
            i.dynamic_tcp_ports().count(),
            0,
            "an extra release does nothing"
        );
        // A static port survives a dynamic hold and release.
        i.add_tcp_port(3232);
        i.hold(hold_at(3232));
        i.release(hold_at(3232));
        assert!(i.tcp(3232, 1));
    }

    #[test]
    fn a_held_port_is_wanted_only_between_device_and_uploader() {
        let mut i = Interest::default();
        i.add_tcp_port(3232);
        let c = hold_at(41000);
        i.hold(c);
        let other: IpAddr = "203.0.113.7".parse().unwrap();
        let tcp = |a, b, sp, dp| i.wants_from(IPPROTO_TCP, (a, b), Some((sp, dp)), false);
        assert!(
            tcp(c.device, c.uploader, 50000, 41000),
            "device -> uploader:port"
        );
        assert!(
            tcp(c.uploader, c.device, 41000, 50000),
            "uploader:port -> device"
        );
        assert!(
            !tcp(other, c.uploader, 50000, 41000),
            "another host to the port"
        );
        assert!(
            !tcp(c.uploader, c.device, 50000, 41000),
            "the port on the device's side"
        );
        assert!(!tcp(c.device, other, 50000, 41000));
        assert!(
            tcp(other, c.uploader, 50000, 3232),
            "a declared port is wanted from anyone"
        );
        assert!(
            i.wants(IPPROTO_TCP, Some((50000, 41000)), false),
            "by port: a superset"
        );
        assert!(!i.wants_from(IPPROTO_UDP, (c.device, c.uploader), Some((1, 41000)), false));
    }

    /// An Ethernet frame (optionally 802.1Q-tagged) with IPv4 protocol `proto` and, for UDP and
    /// TCP, the ports.
    #[cfg(feature = "capture")]
    fn frame(vlan: bool, proto: u8, src: u16, dst: u16) -> Vec<u8> {
        let mut f = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2];
        if vlan {
            f.extend_from_slice(&[0x81, 0x00, 0x00, 0x07]);
        }
        f.extend_from_slice(&[0x08, 0x00]);
        let mut ip = vec![0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, proto, 0, 0];
        ip.extend_from_slice(&[192, 0, 2, 10, 192, 0, 2, 50]);
        f.extend_from_slice(&ip);
        f.extend_from_slice(&src.to_be_bytes());
        f.extend_from_slice(&dst.to_be_bytes());
        f.extend_from_slice(&[0; 16]);
        f
    }

    /// The kernel filter libpcap compiles from the pre-filter passes exactly the untunnelled
    /// packets [`Interest::wants`], tagged or not: nothing wanted is dropped in the kernel.
    #[cfg(feature = "capture")]
    #[test]
    fn the_kernel_filter_takes_the_pre_filters_decision() {
        let interest = crate::classify::declared_interest(&crate::classify::Config::default());
        let run_time = PortCover::new([41000], 16);
        let expr = interest.kernel_filter(&run_time);
        let dead = pcap::Capture::dead(pcap::Linktype::ETHERNET).unwrap();
        let program = dead.compile(&expr, true).unwrap();
        let ports = [
            3232, 8266, 2040, 5353, 8892, 8820, 6053, 80, 9, 40000, 4789, 6081,
        ];
        for vlan in [false, true] {
            for proto in [IPPROTO_TCP, IPPROTO_UDP, 47, 103, 1, 50] {
                for &port in &ports {
                    for (src, dst) in [(port, 40000), (40000, port)] {
                        let passes = program.filter(&frame(vlan, proto, src, dst));
                        let has_ports = proto == IPPROTO_TCP || proto == IPPROTO_UDP;
                        let wanted = interest.wants(proto, has_ports.then_some((src, dst)), false);
                        assert_eq!(passes, wanted, "vlan {vlan} proto {proto} {src}->{dst}");
                    }
                }
            }
        }
        // The run-time TCP port (an OTA connect-back) passes too.
        assert!(program.filter(&frame(false, IPPROTO_TCP, 41000, 50000)));
        assert!(!program.filter(&frame(false, IPPROTO_UDP, 41000, 50000)));
    }

    /// A sensor fed by a mirror session needs no flags: the default kernel filter passes every
    /// frame of the tunnel captures (ERSPAN, GRE bridging, VXLAN, GENEVE, VXLAN in GRE, PPTP),
    /// as the pre-filter does before decoding, and a configured VXLAN port too.
    #[cfg(feature = "capture")]
    #[test]
    fn the_kernel_filter_passes_mirror_tunnels() {
        use crate::capture::{NativeSource, Next};
        let config = crate::classify::Config {
            vxlan_ports: vec![4789, 8472],
            ..Default::default()
        };
        let interest = crate::classify::declared_interest(&config);
        let expr = interest.kernel_filter(&PortCover::default());
        assert!(expr.contains("(udp and (dst port 4789 or dst port 6081 or dst port 8472))"));
        let dead = pcap::Capture::dead(pcap::Linktype::ETHERNET).unwrap();
        let program = dead.compile(&expr, true).unwrap();
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/tunnels");
        let mut frames = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let input = Box::new(std::fs::File::open(&path).unwrap());
            let mut src = NativeSource::open(path.to_str().unwrap(), input)
                .unwrap()
                .unwrap();
            while let Ok(Next::Packet(p)) = src.next_packet() {
                // pptp.pcap opens with a bare OTA exchange and its ARP.
                if p.data[12..14] == [0x08, 0x06] {
                    continue;
                }
                assert!(program.filter(p.data), "{}", path.display());
                frames += 1;
            }
        }
        assert!(frames > 300, "{frames}");
        // Outer UDP to a tunnel port is wanted before decoding; from it, it is not.
        for dst in [4789, 6081, 8472] {
            assert!(interest.wants(IPPROTO_UDP, Some((54321, dst)), false));
            assert!(!interest.wants(IPPROTO_UDP, Some((dst, 54321)), false));
            assert!(program.filter(&frame(false, IPPROTO_UDP, 54321, dst)));
            assert!(!program.filter(&frame(false, IPPROTO_UDP, dst, 54321)));
        }
    }
}
