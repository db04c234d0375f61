//! The classic-BPF program that picks a worker for each packet under `capture --workers N`
//! (AF_PACKET fanout, mode `PACKET_FANOUT_CBPF`; the kernel takes its result modulo N).
//!
//! It hashes the IP address pair, ignoring ports: source XOR destination is the same in both
//! directions, so every flow between two hosts (an OTA invitation over UDP and the device's
//! TCP connection back to the uploader, a PIM neighbour's Hellos and Joins) reaches one worker.
//! A multiplication by an odd constant and a shift mix the bits, so that the kernel's modulo
//! does not see only the low bits of the addresses. Loads are relative to the network header
//! (`SKF_NET_OFF`), wherever the link header ends. Non-IP frames (and VLAN-tagged frames the
//! NIC did not untag) all go to worker 0.

use super::LinkType;

// <linux/filter.h>, <linux/bpf_common.h>
const LD_W_ABS: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
const LD_H_ABS: u16 = 0x28; // BPF_LD | BPF_H | BPF_ABS
const TAX: u16 = 0x07; // BPF_MISC | BPF_TAX
const XOR_X: u16 = 0xac; // BPF_ALU | BPF_XOR | BPF_X
const MUL_K: u16 = 0x24; // BPF_ALU | BPF_MUL | BPF_K
const RSH_K: u16 = 0x74; // BPF_ALU | BPF_RSH | BPF_K
const JA: u16 = 0x05; // BPF_JMP | BPF_JA
const JEQ_K: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const RET_A: u16 = 0x16; // BPF_RET | BPF_A
const RET_K: u16 = 0x06; // BPF_RET | BPF_K
/// `SKF_AD_OFF + SKF_AD_PROTOCOL`: the frame's EtherType, as the kernel parsed it.
const PROTOCOL: u32 = 0xffff_f000;
/// `SKF_NET_OFF`: offsets from the network header.
const NET: u32 = 0xfff0_0000;
/// 2^32 / φ, odd: Knuth's multiplicative hash.
const GOLDEN: u32 = 0x9e37_79b1;

/// One instruction: the fields of `struct sock_filter`, in a type usable in a `const` table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Insn {
    code: u16,
    jt: u8,
    jf: u8,
    k: u32,
}

const fn insn(code: u16, jt: u8, jf: u8, k: u32) -> Insn {
    Insn { code, jt, jf, k }
}

/// What [`PROGRAM`] computes, as a pure function: the kernel runs the program on live packets
/// (`capture --workers N`), a sharded `read --workers N` calls this on file packets, so both
/// put an IP pair on one worker. `ethertype` is the network protocol, `network` starts at the
/// network header. Not IP, or a header cut short: 0 (the kernel ends the program there too).
pub fn ip_pair_hash(ethertype: u16, network: &[u8]) -> u32 {
    let word = |at: usize| {
        network
            .get(at..at + 4)
            .map(|w| u32::from_be_bytes([w[0], w[1], w[2], w[3]]))
    };
    let words: &[usize] = match ethertype {
        0x0800 => &[12, 16],
        0x86dd => &[8, 12, 16, 20, 24, 28, 32, 36],
        _ => return 0,
    };
    let mut pair = 0u32;
    for &at in words {
        let Some(w) = word(at) else {
            return 0;
        };
        pair ^= w;
    }
    pair.wrapping_mul(GOLDEN) >> 16
}

/// The worker of `workers` that a frame goes to: [`ip_pair_hash`] of its network header, after
/// the link layer (VLAN tags included) and modulo `workers`, as the kernel's fanout does.
pub fn worker_of(link: LinkType, frame: &[u8], workers: usize) -> usize {
    let hash = match crate::decode::link::parse(link, frame) {
        Ok(info) => ip_pair_hash(info.ethertype, frame.get(info.offset..).unwrap_or_default()),
        Err(_) => 0,
    };
    hash as usize % workers.max(1)
}

/// The program; see the module comment. Instruction indices are in the comments because
/// jumps are relative.
#[cfg(all(target_os = "linux", feature = "capture"))]
pub fn ip_pair_program() -> Vec<libc::sock_filter> {
    PROGRAM
        .iter()
        .map(|i| libc::sock_filter {
            code: i.code,
            jt: i.jt,
            jf: i.jf,
            k: i.k,
        })
        .collect()
}

#[cfg_attr(not(all(target_os = "linux", feature = "capture")), allow(dead_code))]
const PROGRAM: [Insn; 34] = [
    insn(LD_H_ABS, 0, 0, PROTOCOL), // 0
    insn(JEQ_K, 0, 5, 0x0800),      // 1: IPv4 → 2, else → 7
    insn(LD_W_ABS, 0, 0, NET + 12), // 2: source address
    insn(TAX, 0, 0, 0),             // 3
    insn(LD_W_ABS, 0, 0, NET + 16), // 4: destination address
    insn(XOR_X, 0, 0, 0),           // 5
    insn(JA, 0, 0, 23),             // 6: → 30
    insn(JEQ_K, 0, 25, 0x86dd),     // 7: IPv6 → 8, else → 33
    insn(LD_W_ABS, 0, 0, NET + 8),  // 8: source address, 4 words…
    insn(TAX, 0, 0, 0),             // 9
    insn(LD_W_ABS, 0, 0, NET + 12), // 10
    insn(XOR_X, 0, 0, 0),           // 11
    insn(TAX, 0, 0, 0),             // 12
    insn(LD_W_ABS, 0, 0, NET + 16), // 13
    insn(XOR_X, 0, 0, 0),           // 14
    insn(TAX, 0, 0, 0),             // 15
    insn(LD_W_ABS, 0, 0, NET + 20), // 16
    insn(XOR_X, 0, 0, 0),           // 17
    insn(TAX, 0, 0, 0),             // 18
    insn(LD_W_ABS, 0, 0, NET + 24), // 19: …then the destination's 4
    insn(XOR_X, 0, 0, 0),           // 20
    insn(TAX, 0, 0, 0),             // 21
    insn(LD_W_ABS, 0, 0, NET + 28), // 22
    insn(XOR_X, 0, 0, 0),           // 23
    insn(TAX, 0, 0, 0),             // 24
    insn(LD_W_ABS, 0, 0, NET + 32), // 25
    insn(XOR_X, 0, 0, 0),           // 26
    insn(TAX, 0, 0, 0),             // 27
    insn(LD_W_ABS, 0, 0, NET + 36), // 28
    insn(XOR_X, 0, 0, 0),           // 29
    insn(MUL_K, 0, 0, GOLDEN),      // 30: mix
    insn(RSH_K, 0, 0, 16),          // 31
    insn(RET_A, 0, 0, 0),           // 32
    insn(RET_K, 0, 0, 0),           // 33: not IP: worker 0
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;

    /// Enough of a classic-BPF machine to run [`PROGRAM`]: `packet` is the network layer.
    fn run(protocol: u16, packet: &[u8]) -> u32 {
        let (mut a, mut x, mut pc) = (0u32, 0u32, 0usize);
        loop {
            let i = PROGRAM[pc];
            pc += 1;
            match i.code {
                LD_H_ABS if i.k == PROTOCOL => a = u32::from(protocol),
                LD_W_ABS => {
                    let at = (i.k - NET) as usize;
                    let Some(w) = packet.get(at..at + 4) else {
                        return 0; // the kernel ends the program on a load out of bounds
                    };
                    a = u32::from_be_bytes(w.try_into().unwrap());
                }
                TAX => x = a,
                XOR_X => a ^= x,
                MUL_K => a = a.wrapping_mul(i.k),
                RSH_K => a >>= i.k,
                JA => pc += i.k as usize,
                JEQ_K => pc += usize::from(if a == i.k { i.jt } else { i.jf }),
                RET_A => return a,
                RET_K => return i.k,
                other => panic!("unexpected instruction {other:#x}"),
            }
        }
    }

    fn ip_header(src: IpAddr, dst: IpAddr) -> (u16, Vec<u8>) {
        match (src, dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                let mut h = vec![0x45; 20];
                h[12..16].copy_from_slice(&s.octets());
                h[16..20].copy_from_slice(&d.octets());
                (0x0800, h)
            }
            (IpAddr::V6(s), IpAddr::V6(d)) => {
                let mut h = vec![0x60; 40];
                h[8..24].copy_from_slice(&s.octets());
                h[24..40].copy_from_slice(&d.octets());
                (0x86dd, h)
            }
            _ => unreachable!(),
        }
    }

    fn worker(src: &str, dst: &str, workers: u32) -> u32 {
        let (proto, h) = ip_header(src.parse().unwrap(), dst.parse().unwrap());
        let kernel = run(proto, &h);
        assert_eq!(
            kernel,
            ip_pair_hash(proto, &h),
            "the pure hash is the program's"
        );
        kernel % workers
    }

    #[test]
    fn the_pure_hash_agrees_with_the_program_on_odd_input() {
        for (proto, len) in [(0x0800, 10), (0x0800, 19), (0x86dd, 39), (0x0806, 40)] {
            let h = vec![0x5a; len];
            assert_eq!(run(proto, &h), ip_pair_hash(proto, &h), "{proto:#x} {len}");
        }
    }

    #[test]
    fn both_directions_of_a_host_pair_pick_one_worker() {
        for (a, b) in [
            ("192.168.1.10", "192.168.1.50"),
            ("10.0.0.1", "239.1.1.1"),
            ("2001:db8::1", "2001:db8::32"),
        ] {
            for n in 2..=8 {
                assert_eq!(worker(a, b, n), worker(b, a, n), "{a} {b} {n}");
            }
        }
    }

    #[test]
    fn host_pairs_spread_over_workers() {
        // 64 devices behind one uploader: every worker of 4 gets some, none gets most.
        let mut per_worker = [0u32; 4];
        for d in 0..64 {
            per_worker[worker("10.0.0.1", &format!("10.0.1.{d}"), 4) as usize] += 1;
        }
        assert!(
            per_worker.iter().all(|&n| (6..=26).contains(&n)),
            "{per_worker:?}"
        );
    }

    #[test]
    fn jumps_land_where_the_comments_say() {
        assert_eq!(run(0x0806, &[0; 40]), 0, "ARP: worker 0");
        assert_eq!(run(0x0800, &[0x45; 10]), 0, "a cut header ends the program");
        // Every jump stays inside the program and the last two instructions are returns.
        for (pc, i) in PROGRAM.iter().enumerate() {
            if i.code == JA {
                assert!(pc + 1 + (i.k as usize) < PROGRAM.len());
            }
            if i.code == JEQ_K {
                assert!(pc + 1 + usize::from(i.jt.max(i.jf)) < PROGRAM.len());
            }
        }
        assert_eq!(PROGRAM[30].code, MUL_K);
        assert_eq!(PROGRAM[33].code, RET_K);
    }
}
