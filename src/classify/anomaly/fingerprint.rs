//! Scanner fingerprints in single packets (pure functions, unit-tested).
//!
//! nmap's SYN scan (`-sS`) sends a bare SYN from a raw socket: no payload, a window of 1024,
//! 2048, 3072 or 4096, and one option, MSS 1460 (`02 04 05 b4`); an operating system's
//! `connect()` offers SACK, timestamps and window scaling as well. A port that answers with a
//! SYN-ACK is then reset by the scanner's kernel, never acknowledged. The recorded
//! `testdata/real/anomaly/nmap_syn_*.pcap` (Nmap 7.93) show exactly this.

/// Windows nmap's SYN-scan probes carry.
const NMAP_SYN_WINDOWS: [u16; 4] = [1024, 2048, 3072, 4096];
/// The one option of nmap's SYN-scan probe: MSS 1460.
const NMAP_SYN_OPTIONS: [u8; 4] = [2, 4, 0x05, 0xb4];

/// Whether a client's SYN (no ACK, no payload) looks like nmap's SYN-scan probe.
pub fn is_nmap_syn(window: u16, options: &[u8], payload: &[u8]) -> bool {
    payload.is_empty() && NMAP_SYN_WINDOWS.contains(&window) && options == NMAP_SYN_OPTIONS
}

/// Probes of nmap's service detection (`-sV`, `nmap-service-probes`) sent as a connection's
/// first bytes: GenericLines (after the NULL probe's wait), GetRequest, HTTPOptions,
/// RTSPRequest, Help.
const NMAP_SERVICE_PROBES: [&[u8]; 5] = [
    b"\r\n\r\n",
    b"GET / HTTP/1.0\r\n\r\n",
    b"OPTIONS / HTTP/1.0\r\n\r\n",
    b"OPTIONS / RTSP/1.0\r\n\r\n",
    b"HELP\r\n",
];
/// The User-Agent of nmap's scripts (NSE), and the path its HTTP library checks first.
const NSE_MARKS: [&[u8]; 2] = [b"Nmap Scripting Engine", b"GET /nmaplowercheck"];

/// Whether a connection's first client bytes are one of nmap's version-detection probes or
/// carry its scripting engine's marks.
pub fn is_nmap_service_probe(first_bytes: &[u8]) -> bool {
    NMAP_SERVICE_PROBES.contains(&first_bytes)
        || NSE_MARKS
            .iter()
            .any(|m| first_bytes.windows(m.len()).any(|w| w == *m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nmap_service_probes() {
        assert!(is_nmap_service_probe(b"GET / HTTP/1.0\r\n\r\n"));
        assert!(is_nmap_service_probe(b"\r\n\r\n"));
        assert!(is_nmap_service_probe(
            b"GET /HNAP1 HTTP/1.1\r\nUser-Agent: Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)\r\n"
        ));
        // curl, a browser: no.
        assert!(!is_nmap_service_probe(
            b"GET / HTTP/1.1\r\nHost: 10.32.32.2:3232\r\nUser-Agent: curl/7.88.1\r\n\r\n"
        ));
        assert!(!is_nmap_service_probe(b"GET / HTTP/1.0\r\n\r\nx"));
        assert!(!is_nmap_service_probe(b""));
    }

    #[test]
    fn nmap_syn_probes_and_ordinary_syns() {
        assert!(is_nmap_syn(1024, &[2, 4, 5, 0xb4], b""));
        assert!(is_nmap_syn(4096, &[2, 4, 5, 0xb4], b""));
        // Linux connect(): window 64240, MSS + SACK + timestamps + window scale.
        let linux = [
            2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7,
        ];
        assert!(!is_nmap_syn(64240, &linux, b""));
        assert!(!is_nmap_syn(1024, &linux, b""));
        assert!(!is_nmap_syn(1025, &[2, 4, 5, 0xb4], b""));
        assert!(!is_nmap_syn(1024, &[2, 4, 5, 0xb4], b"x"));
        assert!(!is_nmap_syn(1024, &[], b""));
    }
}
