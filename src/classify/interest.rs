//! Which packets are worth a flow-table lookup: bitmaps of ports and IP protocols, so the
//! reject path for background traffic is two array reads.

const WORDS: usize = 65536 / 64;

#[derive(Clone)]
pub struct Interest {
    udp: Box<[u64; WORDS]>,
    /// Static and dynamic TCP ports together: the one map the per-packet check reads.
    tcp: Box<[u64; WORDS]>,
    tcp_static: Box<[u64; WORDS]>,
    protocols: [bool; 256],
    /// Everything that arrived inside GRE (the MDT classifier wants tunnels, whatever they carry).
    pub tunnelled: bool,
    /// Ports registered at run time (e.g. an OTA connect-back) with their reference counts.
    dynamic_tcp: std::collections::HashMap<u16, u32>,
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
            tunnelled: false,
            dynamic_tcp: Default::default(),
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

    /// Watches a TCP port until [`Interest::release_tcp_port`] is called as often.
    pub fn hold_tcp_port(&mut self, port: u16) {
        let held = self.dynamic_tcp.entry(port).or_insert(0);
        if *held == 0 {
            self.dynamic_generation += 1;
        }
        *held += 1;
        set(&mut self.tcp, port, true);
    }

    pub fn release_tcp_port(&mut self, port: u16) {
        if let std::collections::hash_map::Entry::Occupied(mut held) = self.dynamic_tcp.entry(port)
        {
            *held.get_mut() -= 1;
            if *held.get() == 0 {
                held.remove();
                self.dynamic_generation += 1;
                if !get(&self.tcp_static, port) {
                    set(&mut self.tcp, port, false);
                }
            }
        }
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

    #[test]
    fn dynamic_ports_are_reference_counted() {
        let mut i = Interest::default();
        i.hold_tcp_port(40000);
        i.hold_tcp_port(40000);
        i.release_tcp_port(40000);
        assert!(i.tcp(40000, 1));
        let generation = i.dynamic_generation();
        i.release_tcp_port(40000);
        assert!(!i.tcp(40000, 1));
        assert_eq!(i.dynamic_generation(), generation + 1, "the set changed");
        // A static port survives a dynamic hold and release.
        i.add_tcp_port(3232);
        i.hold_tcp_port(3232);
        i.release_tcp_port(3232);
        assert!(i.tcp(3232, 1));
    }
}
