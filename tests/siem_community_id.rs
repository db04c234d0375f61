//! Community ID v1 against published vectors and an independent implementation.
//!
//! Rows 1–22 are the test vectors published by the specification (corelight/community-id-spec
//! README tables and `baseline/baseline_deflt.json`, `baseline_seed1.json`); every row, including
//! the watch3232-specific ones after them, was also computed with the `communityid` Python package
//! (corelight/pycommunityid 1.5), e.g.
//! `communityid.CommunityID(seed).calc(communityid.FlowTuple(proto, src, dst, sport, dport))`.
//! For ICMP/ICMPv6 the "ports" are type and code; protocols without ports pass 0, 0.

use std::net::IpAddr;
use watch3232::flow::community_id::community_id_v1;

const FE80_A: &str = "fe80:0001:0203:0405:0607:0809:0A0B:0C0D";
const FE80_B: &str = "fe80:1011:1213:1415:1617:1819:1A1B:1C1D";

#[rustfmt::skip]
const VECTORS: &[(u16, &str, &str, u16, u16, u8, &str)] = &[
    // seed, src, dst, sport/type, dport/code, proto, expected
    (0, "1.2.3.4", "5.6.7.8", 1122, 3344, 6, "1:wCb3OG7yAFWelaUydu0D+125CLM="),
    (0, "5.6.7.8", "1.2.3.4", 3344, 1122, 6, "1:wCb3OG7yAFWelaUydu0D+125CLM="),
    (0, "1.2.3.4", "5.6.7.8", 1122, 3344, 17, "1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg="),
    (0, "1.2.3.4", "5.6.7.8", 1122, 3344, 132, "1:EKt4MsxuyaE6mL+hmrEkQ9csDD8="),
    (0, "1.2.3.4", "5.6.7.8", 8, 0, 1, "1:crodRHL2FEsHjbv3UkRrfbs4bZ0="),
    (0, "5.6.7.8", "1.2.3.4", 0, 0, 1, "1:crodRHL2FEsHjbv3UkRrfbs4bZ0="),
    (0, "1.2.3.4", "5.6.7.8", 11, 0, 1, "1:f/YiSyWqczrTgfUCZlBUnvHRcPk="),
    (0, FE80_A, FE80_B, 128, 0, 58, "1:0bf7hyMJUwt3fMED7z8LIfRpBeo="),
    (0, FE80_B, FE80_A, 129, 0, 58, "1:0bf7hyMJUwt3fMED7z8LIfRpBeo="),
    (0, FE80_A, FE80_B, 146, 0, 58, "1:fYC8+pz24E+EhANP1EZhpX0Dw10="),
    (0, "1.2.3.4", "5.6.7.8", 0, 0, 46, "1:ikv3kmf89luf73WPz1jOs49S768="),
    (0, "5.6.7.8", "1.2.3.4", 0, 0, 46, "1:ikv3kmf89luf73WPz1jOs49S768="),
    (0, FE80_A, FE80_B, 0, 0, 46, "1:wQ/2mwrnXP4lmJcHdGL5ePjR+e0="),
    (1, "1.2.3.4", "5.6.7.8", 1122, 3344, 6, "1:HhA1B+6CoLbiKPEs5nhNYN4XWfk="),
    (1, "1.2.3.4", "5.6.7.8", 1122, 3344, 17, "1:OShq+iKDAMVouh/4bMxB9Sz4amw="),
    (1, "1.2.3.4", "5.6.7.8", 8, 0, 1, "1:9pr4ZGTICiuZoIh90RRYE2RyXpU="),
    (1, "1.2.3.4", "5.6.7.8", 0, 0, 46, "1:/buhqeOmaRCopOZFy9HnoJd5XW8="),
    (1, FE80_A, FE80_B, 146, 0, 58, "1:Cv4IKJe56BNkF0MBW2YxQ3Nwc3s="),
    (0, "2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a", 63943, 25, 6, "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4="),
    (0, "192.168.1.52", "8.8.8.8", 54585, 53, 17, "1:d/FP5EW3wiY1vCndhwleRRKHowQ="),
    (0, "fe80::200:86ff:fe05:80da", "ff02::2", 133, 0, 58, "1:hO+sN4H+MG5MY/8hIrXPqc4ZQz0="),
    (0, "10.1.12.1", "10.1.12.2", 0, 0, 46, "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw="),
    // Computed with pycommunityid only: what watch3232 sees on and around port 3232.
    (0, "10.0.0.1", "239.1.1.1", 0, 0, 47, "1:dcFSEN+x4kFClobuuQkaHDTFkuw="), // GRE
    (0, "10.0.0.2", "224.0.0.13", 0, 0, 103, "1:UC82BeCxbHpjtbSX3Vm0N/IXwa4="), // PIM
    (0, "192.168.1.10", "192.168.1.50", 50000, 3232, 17, "1:a+Fq1ykk0pCFKDhz2v6We5DaApU="),
    (0, "192.168.1.50", "192.168.1.10", 3232, 40000, 6, "1:qOtBhf2NiKooDugAXCDoMozexj4="),
    // Equal addresses: the ports decide the order.
    (0, "10.0.0.1", "10.0.0.1", 3232, 3232, 17, "1:FqGoALSFWsJ2IJQPYzTqojTlrNE="),
    (0, "10.0.0.1", "10.0.0.1", 5000, 3232, 17, "1:WjV4O1y/DKYoyZ/osj0tF82MGak="),
    (0, "10.0.0.1", "10.0.0.1", 3232, 5000, 17, "1:WjV4O1y/DKYoyZ/osj0tF82MGak="),
    (7, "2001:db8::1", "ff02::d", 3232, 3232, 17, "1:WE91ZNN4eCJa/TfULD+t1vZPVBE="),
    (65535, "192.0.2.1", "198.51.100.2", 443, 51000, 6, "1:aHXAjUYu7NMuF2A4ma9/6BjiGlg="),
    // One-way ICMP (destination unreachable): never swapped, so the directions differ.
    (0, "1.2.3.4", "5.6.7.8", 3, 1, 1, "1:W4aFotGvd33My5d10oV5afM5O+E="),
    (0, "5.6.7.8", "1.2.3.4", 3, 1, 1, "1:8LPUHMfboj3XbJKoR1RD6x9ML9Y="),
    (0, "1.2.3.4", "5.6.7.8", 13, 0, 1, "1:9BH16h8N+en0tEsYCCxMA2p5hLo="),
    // ICMPv6 neighbour solicitation / advertisement pair.
    (0, "fe80::1", "fe80::2", 135, 0, 58, "1:7IIPGNVAHI2udmsuJVpA3RMOAqc="),
    (0, "fe80::2", "fe80::1", 136, 0, 58, "1:7IIPGNVAHI2udmsuJVpA3RMOAqc="),
];

#[test]
fn every_vector_matches() {
    let mut failures = Vec::new();
    for (i, &(seed, src, dst, sport, dport, proto, want)) in VECTORS.iter().enumerate() {
        let src: IpAddr = src.parse().unwrap();
        let dst: IpAddr = dst.parse().unwrap();
        let got = community_id_v1(seed, src, dst, sport, dport, proto);
        if got != want {
            failures.push(format!("row {}: {src} {dst} {sport} {dport} proto {proto} seed {seed}: got {got}, want {want}", i + 1));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn protocols_without_ports_ignore_them() {
    let a: IpAddr = "10.1.12.1".parse().unwrap();
    let b: IpAddr = "10.1.12.2".parse().unwrap();
    assert_eq!(
        community_id_v1(0, a, b, 1234, 5678, 46),
        "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw="
    );
    assert_eq!(
        community_id_v1(0, b, a, 0, 0, 46),
        "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw="
    );
}
