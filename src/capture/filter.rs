//! The default kernel filter for live capture: only what a classifier can use.

/// Builds the BPF expression that passes UDP/TCP on the watched ports, GRE, PIM and mDNS,
/// with and without one 802.1Q tag (the kernel sees tagged frames only behind `vlan`).
pub fn default_filter(ports: &[u16]) -> String {
    default_filter_with(ports, &[])
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
pub fn default_filter_with(ports: &[u16], connect_back: &[u16]) -> String {
    let ports = if ports.is_empty() {
        String::new()
    } else {
        format!("((tcp or udp) and ({})) or ", port_terms(ports))
    };
    let connect_back = if connect_back.is_empty() {
        String::new()
    } else {
        format!("(tcp and ({})) or ", port_terms(connect_back))
    };
    let base = format!(
        "{ports}{connect_back}(ip proto 47) or (ip6 proto 47) or (ip proto 103) or (ip6 proto 103) \
         or (udp port 5353)"
    );
    format!("({base}) or (vlan and ({base}))")
}

/// A user's filter (`-f`) plus the run-time TCP ports, put in front of it so that a `vlan` in the
/// user's expression cannot shift their offsets (untagged connect-backs only).
pub fn with_dynamic_ports(user_filter: &str, ports: &[u16]) -> String {
    if ports.is_empty() {
        return user_filter.to_string();
    }
    format!("(tcp and ({})) or ({user_filter})", port_terms(ports))
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(default_filter_with(&[3232], &[]), default_filter(&[3232]));
        let f = default_filter_with(&[3232], &[41000, 40123, 41000]);
        let first_vlan = f.find("vlan").unwrap();
        let first_port = f.find("(tcp and (port 40123 or port 41000))").unwrap();
        assert!(first_port < first_vlan, "{f}");
        assert_eq!(
            f.matches("port 41000").count(),
            2,
            "tagged and untagged: {f}"
        );
        assert_eq!(with_dynamic_ports("udp", &[]), "udp");
        assert_eq!(
            with_dynamic_ports("vlan and udp", &[41000, 40123]),
            "(tcp and (port 40123 or port 41000)) or (vlan and udp)"
        );
    }
}
