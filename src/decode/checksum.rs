//! The Internet checksum (RFC 1071), shared by GRE and PIM.

/// One's-complement sum of 16-bit big-endian words, folded. A packet whose checksum field is
/// correct sums to 0 over its whole length.
pub fn internet_checksum(data: &[u8]) -> u16 {
    !fold(sum_words(data, 0))
}

/// Adds `data` to a running 32-bit sum (for pseudo-headers); fold with [`finish`].
pub fn sum_words(data: &[u8], mut sum: u64) -> u64 {
    let mut chunks = data.chunks_exact(2);
    for w in &mut chunks {
        sum += u64::from(u16::from_be_bytes([w[0], w[1]]));
    }
    if let [last] = chunks.remainder() {
        sum += u64::from(*last) << 8;
    }
    sum
}

fn fold(mut sum: u64) -> u16 {
    while sum >> 16 != 0 {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    sum as u16
}

/// Completes a sum started with [`sum_words`].
pub fn finish(sum: u64) -> u16 {
    !fold(sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1071_example_and_odd_lengths() {
        // RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2.
        assert_eq!(
            internet_checksum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]),
            !0xddf2
        );
        assert_eq!(internet_checksum(&[0xff]), !0xff00);
        assert_eq!(
            finish(sum_words(&[0x12, 0x34], sum_words(&[0x56], 0))),
            internet_checksum(&[0x56, 0x00, 0x12, 0x34])
        );
    }
}
