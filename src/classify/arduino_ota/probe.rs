//! Recognising an espota datagram from its bytes alone: what makes a parse failure a malformed
//! OTA invitation rather than some other protocol on the port.

/// Whether a payload looks like an attempt at an invitation (starts with a command and a
/// space), so a parse failure is "malformed OTA" rather than some other protocol.
pub fn looks_like_invitation(payload: &[u8]) -> bool {
    payload.starts_with(b"0 ") || payload.starts_with(b"100 ")
}
