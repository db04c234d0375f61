//! The default kernel filter for live capture: only what a classifier can use.

/// Builds the BPF expression that passes UDP/TCP on the watched ports, GRE, PIM and mDNS,
/// with and without one 802.1Q tag (the kernel sees tagged frames only behind `vlan`).
pub fn default_filter(ports: &[u16]) -> String {
    let mut port_terms: Vec<String> = ports.iter().map(|p| format!("port {p}")).collect();
    port_terms.sort();
    port_terms.dedup();
    let ports = if port_terms.is_empty() {
        String::new()
    } else {
        format!("((tcp or udp) and ({})) or ", port_terms.join(" or "))
    };
    let base = format!("{ports}(ip proto 47) or (ip proto 103) or (ip6 proto 103) or (udp port 5353)");
    format!("({base}) or (vlan and ({base}))")
}

/// The base filter plus the TCP ports held at run time (an OTA device connects back to the
/// uploader's port from the invitation, which no static filter can know; arduino-ota.md §1.1).
/// Only those ports are added, not all TCP.
pub fn with_dynamic_ports(base: &str, ports: &[u16]) -> String {
    if ports.is_empty() {
        return base.to_string();
    }
    let mut ports = ports.to_vec();
    ports.sort_unstable();
    ports.dedup();
    let terms: Vec<String> = ports.iter().map(|p| format!("port {p}")).collect();
    let extra = format!("tcp and ({})", terms.join(" or "));
    format!("({base}) or ({extra}) or (vlan and ({extra}))")
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
    }

    #[test]
    fn dynamic_ports_extend_the_base() {
        assert_eq!(with_dynamic_ports("udp", &[]), "udp");
        assert_eq!(
            with_dynamic_ports("udp", &[41000, 40123, 41000]),
            "(udp) or (tcp and (port 40123 or port 41000)) or (vlan and (tcp and (port 40123 or port 41000)))"
        );
    }
}
