//! Lowercase hex text of bytes (digests, nonces, payload previews, MAC addresses): one table
//! lookup a nibble, where `format!("{b:02x}")` a byte cost an allocation each.

const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// `bytes` as lowercase hex, two digits a byte.
pub fn lower(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        push_byte(&mut s, b);
    }
    s
}

/// Appends one byte's two lowercase hex digits.
pub fn push_byte(s: &mut String, b: u8) {
    s.push(char::from(DIGITS[usize::from(b >> 4)]));
    s.push(char::from(DIGITS[usize::from(b & 0xf)]));
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_byte_as_format_writes_it() {
        let all: Vec<u8> = (0..=255).collect();
        let by_format: String = all.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(super::lower(&all), by_format);
        assert_eq!(super::lower(&[]), "");
    }
}
