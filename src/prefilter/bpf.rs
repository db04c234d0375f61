//! The default kernel filter for live capture: only what a classifier can use.

/// Builds the BPF expression that passes UDP/TCP on the watched ports, GRE (ERSPAN and
/// bridging too), PIM, mDNS, and UDP to VXLAN and GENEVE, with and without one 802.1Q tag (the kernel sees tagged frames only behind `vlan`).
pub fn default_filter(ports: &[u16]) -> String {
    default_filter_with(ports, &PortCover::default())
}

fn port_terms(ports: &[u16]) -> String {
    let mut ports = ports.to_vec();
    ports.sort_unstable();
    ports.dedup();
    let terms: Vec<String> = ports.iter().map(|p| format!("port {p}")).collect();
    terms.join(" or ")
}

/// The default filter plus TCP ports learnt at run time (an OTA device connects back to the
/// uploader's port from the invitation, which no static filter can know; arduino-ota.md §1.1).
/// Only those ports are added, not all TCP. They go inside the base expression: the first `vlan`
/// keyword shifts the offsets of everything after it (pcap-filter(7)), so a term appended after
/// `(vlan and …)` would never match an untagged packet.
pub fn default_filter_with(ports: &[u16], connect_back: &PortCover) -> String {
    let spec = FilterSpec {
        tcp_and_udp: ports.to_vec(),
        udp: vec![5353],
        tcp: Vec::new(),
        protocols: vec![47, 103],
        udp_tunnels: vec![4789, 6081],
    };
    filter_for(&spec, connect_back)
}

/// What a kernel filter passes: ports by transport, and IP protocols (over IPv4 and IPv6).
/// [`crate::prefilter::Interest::kernel_filter_spec`] makes it from the pre-filter.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FilterSpec {
    pub tcp_and_udp: Vec<u16>,
    pub udp: Vec<u16>,
    pub tcp: Vec<u16>,
    pub protocols: Vec<u8>,
    /// UDP destination ports of tunnels (VXLAN, GENEVE), whatever they carry.
    pub udp_tunnels: Vec<u16>,
}

/// The filter for `spec` plus TCP ports learnt at run time, with and without one 802.1Q tag.
pub fn filter_for(spec: &FilterSpec, connect_back: &PortCover) -> String {
    let mut terms = Vec::new();
    if !spec.tcp_and_udp.is_empty() {
        terms.push(format!(
            "((tcp or udp) and ({}))",
            port_terms(&spec.tcp_and_udp)
        ));
    }
    if !connect_back.is_empty() {
        terms.push(format!("(tcp and ({}))", connect_back.terms()));
    }
    for p in &spec.protocols {
        terms.push(format!("(ip proto {p}) or (ip6 proto {p})"));
    }
    for (transport, ports) in [("udp", &spec.udp), ("tcp", &spec.tcp)] {
        match ports.as_slice() {
            [] => {}
            [one] => terms.push(format!("({transport} port {one})")),
            many => terms.push(format!("({transport} and ({}))", port_terms(many))),
        }
    }
    let tunnel_ports: Vec<String> = spec
        .udp_tunnels
        .iter()
        .map(|p| format!("dst port {p}"))
        .collect();
    if !tunnel_ports.is_empty() {
        terms.push(format!("(udp and ({}))", tunnel_ports.join(" or ")));
    }
    if terms.is_empty() {
        // Nothing is wanted: a filter that passes nothing, rather than an empty (pass-all) one.
        terms.push("(ip proto 255 and not ip proto 255)".to_string());
    }
    let base = terms.join(" or ");
    format!("({base}) or (vlan and ({base}))")
}

/// A user's filter (`-f`) plus the run-time TCP ports, put in front of it so that a `vlan` in the
/// user's expression cannot shift their offsets (untagged connect-backs only).
pub fn with_dynamic_ports(user_filter: &str, ports: &PortCover) -> String {
    if ports.is_empty() {
        return user_filter.to_string();
    }
    format!("(tcp and ({})) or ({user_filter})", ports.terms())
}

/// How many terms the run-time ports may take in a filter. libpcap's optimiser is superlinear
/// in the expression, and a live capture reads nothing while it compiles: measured with
/// `tcpdump -d` on the default filter, 100 `port` terms take 0.19 s, 200 take 1.3 s and 400
/// take 12 s, while 16 `portrange` terms take under 20 ms.
pub const MAX_RUN_TIME_TERMS: usize = 16;

/// A few port ranges that cover a set of ports: each port exactly while there are few, then the
/// narrowest ranges that cover them all. Passing a few ports too many costs a bitmap lookup in
/// user space ([`crate::prefilter::Interest`] is exact); a filter that grows with every
/// invitation costs the capture itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PortCover {
    /// Sorted, disjoint, inclusive.
    ranges: Vec<(u16, u16)>,
}

impl PortCover {
    /// The cover of `ports` with at most `max_ranges` ranges (at least one) and the fewest
    /// ports passed: splitting at the `max_ranges - 1` widest gaps between neighbours is
    /// optimal, since every other gap is then inside a range.
    pub fn new(ports: impl IntoIterator<Item = u16>, max_ranges: usize) -> Self {
        let mut ports: Vec<u16> = ports.into_iter().collect();
        ports.sort_unstable();
        ports.dedup();
        let Some(&last) = ports.last() else {
            return PortCover::default();
        };
        let mut widest_gaps: Vec<(u16, usize)> = ports
            .windows(2)
            .enumerate()
            .map(|(i, w)| (w[1] - w[0], i))
            .collect();
        // Widest first; the lower position breaks ties, so the cover is deterministic.
        widest_gaps.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut splits: Vec<usize> = widest_gaps
            .iter()
            .take(max_ranges.max(1) - 1)
            .map(|&(_, i)| i)
            .collect();
        splits.sort_unstable();
        let mut ranges = Vec::with_capacity(splits.len() + 1);
        let mut start = ports[0];
        for i in splits {
            ranges.push((start, ports[i]));
            start = ports[i + 1];
        }
        ranges.push((start, last));
        PortCover { ranges }
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    pub fn covers(&self, port: u16) -> bool {
        let after = self.ranges.partition_point(|&(start, _)| start <= port);
        after > 0 && self.ranges[after - 1].1 >= port
    }

    /// How many ports the cover passes.
    pub fn width(&self) -> u32 {
        self.ranges.iter().map(|&(a, b)| u32::from(b - a) + 1).sum()
    }

    pub fn ranges(&self) -> &[(u16, u16)] {
        &self.ranges
    }

    fn terms(&self) -> String {
        let terms: Vec<String> = self
            .ranges
            .iter()
            .map(|&(a, b)| {
                if a == b {
                    format!("port {a}")
                } else {
                    format!("portrange {a}-{b}")
                }
            })
            .collect();
        terms.join(" or ")
    }
}

/// The filter [`filter_for`] wrote, without its `vlan and (…)` half: for the links libpcap has
/// no `vlan` for (Linux cooked `any`, raw IP of a tun device, loopback), where the kernel has
/// already taken the tags off. Any other expression (a user's) is returned unchanged.
pub fn without_vlan_half(expr: &str) -> &str {
    let Some(at) = expr.find(") or (vlan and (") else {
        return expr;
    };
    let (plain, tagged) = (&expr[..=at], &expr[at + ") or ".len()..]);
    if tagged
        .strip_prefix("(vlan and ")
        .and_then(|t| t.strip_suffix(')'))
        == Some(plain)
    {
        plain
    } else {
        expr
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vlan_half_comes_off_only_our_own_filters() {
        let f = default_filter(&[3232]);
        let plain = without_vlan_half(&f);
        assert!(!plain.contains("vlan"), "{plain}");
        assert_eq!(format!("{plain} or (vlan and {plain})"), f);
        let user = "(udp port 3232) or (vlan and (udp port 1))";
        assert_eq!(without_vlan_half(user), user);
        assert_eq!(without_vlan_half("udp"), "udp");
    }

    #[test]
    fn the_default_filter_keeps_its_shape() {
        assert_eq!(
            default_filter(&[3232]),
            "(((tcp or udp) and (port 3232)) or (ip proto 47) or (ip6 proto 47) or (ip proto 103) \
             or (ip6 proto 103) or (udp port 5353) or (udp and (dst port 4789 or dst port 6081))) \
             or (vlan and (((tcp or udp) and (port 3232)) or (ip proto 47) or (ip6 proto 47) or \
             (ip proto 103) or (ip6 proto 103) or (udp port 5353) or (udp and (dst port 4789 or \
             dst port 6081))))"
        );
    }

    #[test]
    fn default_filter_names_every_port_once() {
        let f = default_filter(&[3232, 8266, 3232, 2040]);
        assert_eq!(f.matches("port 3232").count(), 2); // plain and behind `vlan`
        assert!(f.contains("port 8266") && f.contains("port 2040") && f.contains("ip proto 47"));
        assert!(f.contains("udp port 5353"));
        assert!(f.contains("ip6 proto 47"), "GRE over IPv6 too");
    }

    #[test]
    fn run_time_ports_come_before_any_vlan_keyword() {
        let none = PortCover::default();
        assert_eq!(default_filter_with(&[3232], &none), default_filter(&[3232]));
        let run_time = PortCover::new([41000, 40123, 41000], MAX_RUN_TIME_TERMS);
        let f = default_filter_with(&[3232], &run_time);
        let first_vlan = f.find("vlan").unwrap();
        let first_port = f.find("(tcp and (port 40123 or port 41000))").unwrap();
        assert!(first_port < first_vlan, "{f}");
        assert_eq!(
            f.matches("port 41000").count(),
            2,
            "tagged and untagged: {f}"
        );
        assert_eq!(with_dynamic_ports("udp", &none), "udp");
        assert_eq!(
            with_dynamic_ports("vlan and udp", &run_time),
            "(tcp and (port 40123 or port 41000)) or (vlan and udp)"
        );
    }

    #[test]
    fn few_ports_are_covered_exactly() {
        let c = PortCover::new([41000, 40123, 41001, 40123], 16);
        assert_eq!(
            c.ranges(),
            &[(40123, 40123), (41000, 41000), (41001, 41001)]
        );
        assert_eq!(c.width(), 3);
        assert!(c.covers(41001) && !c.covers(41002) && !c.covers(40124) && !c.covers(1));
        assert!(PortCover::new([], 16).is_empty());
        assert!(!PortCover::default().covers(0));
    }

    #[test]
    fn many_ports_become_the_narrowest_few_ranges() {
        // Three clusters: three ranges, whatever the bound above three.
        let ports = [100, 101, 105, 20000, 20010, 65535, 65500];
        let c = PortCover::new(ports, 3);
        assert_eq!(c.ranges(), &[(100, 105), (20000, 20010), (65500, 65535)]);
        assert_eq!(PortCover::new(ports, 1).ranges(), &[(100, 65535)]);
        assert_eq!(
            PortCover::new(ports, 0).ranges(),
            &[(100, 65535)],
            "at least one range"
        );
        let f = with_dynamic_ports("udp", &c);
        assert_eq!(
            f,
            "(tcp and (portrange 100-105 or portrange 20000-20010 or portrange 65500-65535)) or (udp)"
        );
    }

    #[test]
    fn the_cover_is_bounded_complete_and_minimal() {
        use proptest::prelude::*;
        proptest!(|(ports in proptest::collection::vec(any::<u16>(), 0..300), max in 1usize..20)| {
            let c = PortCover::new(ports.iter().copied(), max);
            prop_assert!(c.ranges().len() <= max);
            prop_assert!(ports.iter().all(|&p| c.covers(p)));
            prop_assert!(c.ranges().windows(2).all(|w| w[0].1 < w[1].0));
            // Minimal: every range starts and ends on a port of the set.
            prop_assert!(c.ranges().iter().all(|&(a, b)| ports.contains(&a) && ports.contains(&b)));
            let mut distinct = ports.clone();
            distinct.sort_unstable();
            distinct.dedup();
            if distinct.len() <= max {
                prop_assert_eq!(c.width() as usize, distinct.len());
            }
        });
    }
}
