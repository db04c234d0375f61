//! Decimal text of integers and IPv4 addresses, written by hand: std's `Display` through
//! `format!` costs ~1 600 instructions an address, and the output and the event texts write
//! one or two an event.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr};

/// Where ASCII text goes: the output buffer (`Vec<u8>`) or an event's `String`.
pub trait AsciiOut {
    fn push_ascii(&mut self, text: &[u8]);
}

impl AsciiOut for Vec<u8> {
    fn push_ascii(&mut self, text: &[u8]) {
        self.extend_from_slice(text);
    }
}

impl AsciiOut for String {
    fn push_ascii(&mut self, text: &[u8]) {
        for &b in text {
            debug_assert!(b.is_ascii());
            self.push(char::from(b));
        }
    }
}

/// "00" to "99": two digits a division (flow ids have 16).
const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// Appends `n` in decimal.
pub fn push_u64<O: AsciiOut>(out: &mut O, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    while n >= 100 {
        let pair = (n % 100) as usize * 2;
        n /= 100;
        at -= 2;
        digits[at..at + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    }
    if n >= 10 {
        let pair = n as usize * 2;
        at -= 2;
        digits[at..at + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    } else {
        at -= 1;
        digits[at] = b'0' + n as u8;
    }
    out.push_ascii(&digits[at..]);
}

/// Appends one octet in decimal (no loop: an address has four).
pub fn push_u8<O: AsciiOut>(out: &mut O, n: u8) {
    if n >= 100 {
        out.push_ascii(&[b'0' + n / 100, b'0' + n / 10 % 10, b'0' + n % 10]);
    } else if n >= 10 {
        out.push_ascii(&[b'0' + n / 10, b'0' + n % 10]);
    } else {
        out.push_ascii(&[b'0' + n]);
    }
}

/// Appends `a` dotted, as `Ipv4Addr`'s `Display` writes it.
pub fn push_ipv4<O: AsciiOut>(out: &mut O, a: Ipv4Addr) {
    for (i, octet) in a.octets().into_iter().enumerate() {
        if i > 0 {
            out.push_ascii(b".");
        }
        push_u8(out, octet);
    }
}

/// Appends `a` as `IpAddr`'s `Display` writes it. IPv6 is rare, and its text form (zero
/// compression) is std's to decide.
pub fn push_ip(out: &mut String, a: IpAddr) {
    match a {
        IpAddr::V4(v4) => push_ipv4(out, v4),
        IpAddr::V6(v6) => {
            let _ = write!(out, "{v6}");
        }
    }
}

/// `addr:port` as `format!("{addr}:{port}")` writes it (an IPv6 address without brackets).
pub fn ip_port(addr: IpAddr, port: u16) -> String {
    let mut s = String::with_capacity(21);
    push_ip(&mut s, addr);
    s.push(':');
    push_u64(&mut s, port.into());
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_addresses_as_display_writes_them() {
        for n in (0..=1000).chain([65535, 1_000_000, 540_259_850_295_929, u64::MAX]) {
            let mut s = String::new();
            push_u64(&mut s, n);
            assert_eq!(s, n.to_string());
        }
        for n in 0..=255u8 {
            let mut v = Vec::new();
            push_u8(&mut v, n);
            assert_eq!(v, n.to_string().into_bytes());
        }
        for a in [
            "0.0.0.0",
            "10.0.1.200",
            "255.255.255.255",
            "::1",
            "fe80::1:2",
            "::ffff:1.2.3.4",
        ] {
            let a: IpAddr = a.parse().unwrap();
            let mut s = String::new();
            push_ip(&mut s, a);
            assert_eq!(s, a.to_string());
            assert_eq!(ip_port(a, 3232), format!("{a}:3232"));
        }
    }
}
