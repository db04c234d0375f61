//! espota wire messages (shared/docs/arduino-ota.md §1.2–1.5, §2): pure, zero-copy parsers.
//!
//! - invitation, uploader → device UDP: `"<cmd> <host_port> <size> <md5hex32>\n"`
//! - device replies: `OK`, `AUTH <nonce>`, `Authentication Failed`, `ERR: …` (ESP8266/RP2040)
//! - auth answer, uploader → device: `"200 <cnonce> <response>\n"`

pub use crate::event::arduino_ota::Command;
use crate::event::AuthScheme as ReportedScheme;
use std::fmt;

impl Command {
    pub fn code(self) -> u16 {
        match self {
            Command::Flash => 0,
            Command::Filesystem => 100,
        }
    }
}

/// A parsed invitation. `image_md5` borrows the datagram (32 hex digits, any case).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Invitation<'a> {
    pub command: Command,
    pub host_port: u16,
    pub image_size: u64,
    pub image_md5: &'a str,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvitationError {
    /// Bytes outside printable ASCII (plus the final newline).
    NotText,
    /// Not four space-separated fields.
    FieldCount(usize),
    /// The command is not 0 or 100 (a device ignores it silently).
    Command,
    /// The host port is not a decimal number in 1..=65535.
    HostPort,
    /// The size is not a decimal number of at most 10 digits.
    ImageSize,
    /// The MD5 is not 32 characters long (a device logs "bad md5 length" and drops it).
    Md5Length(usize),
    /// The MD5 has a character that is not a hex digit.
    Md5Digit,
}

impl fmt::Display for InvitationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InvitationError::NotText => write!(f, "not printable ASCII"),
            InvitationError::FieldCount(n) => write!(f, "{n} fields, an invitation has 4"),
            InvitationError::Command => {
                write!(f, "command is neither 0 (flash) nor 100 (filesystem)")
            }
            InvitationError::HostPort => write!(f, "host port is not a number in 1-65535"),
            InvitationError::ImageSize => {
                write!(f, "image size is not a decimal number of at most 10 digits")
            }
            InvitationError::Md5Length(n) => write!(f, "image MD5 has {n} characters, not 32"),
            InvitationError::Md5Digit => {
                write!(f, "image MD5 has a character that is not a hex digit")
            }
        }
    }
}

impl std::error::Error for InvitationError {}

/// The longest invitation: "100 " + 5 + 1 + 10 + 1 + 32 + "\n" = 54 bytes (§1.2), with slack
/// for a CRLF.
pub const MAX_INVITATION_LEN: usize = 56;

fn decimal(field: &[u8], max_digits: usize) -> Option<u64> {
    if field.is_empty() || field.len() > max_digits || !field.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(field.iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0')))
}

/// Strips the terminator espota sends (`\n`); a lone missing newline or a CRLF is tolerated
/// because the device trims the MD5 anyway.
fn strip_line_end(payload: &[u8]) -> &[u8] {
    let p = payload.strip_suffix(b"\n").unwrap_or(payload);
    p.strip_suffix(b"\r").unwrap_or(p)
}

pub fn parse_invitation(payload: &[u8]) -> Result<Invitation<'_>, InvitationError> {
    let line = strip_line_end(payload);
    if line.is_empty() || !line.iter().all(|b| (0x20..0x7f).contains(b)) {
        return Err(InvitationError::NotText);
    }
    let mut fields = line.split(|&b| b == b' ');
    let (Some(cmd), Some(port), Some(size), Some(md5), None) = (
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
    ) else {
        return Err(InvitationError::FieldCount(
            line.split(|&b| b == b' ').count(),
        ));
    };
    let command = match cmd {
        b"0" => Command::Flash,
        b"100" => Command::Filesystem,
        _ => return Err(InvitationError::Command),
    };
    let host_port = decimal(port, 5)
        .and_then(|p| u16::try_from(p).ok())
        .filter(|&p| p != 0)
        .ok_or(InvitationError::HostPort)?;
    let image_size = decimal(size, 10).ok_or(InvitationError::ImageSize)?;
    if md5.len() != 32 {
        return Err(InvitationError::Md5Length(md5.len()));
    }
    if !md5.iter().all(u8::is_ascii_hexdigit) {
        return Err(InvitationError::Md5Digit);
    }
    // All bytes checked to be ASCII hex digits above.
    let image_md5 = std::str::from_utf8(md5).map_err(|_| InvitationError::Md5Digit)?;
    Ok(Invitation {
        command,
        host_port,
        image_size,
        image_md5,
    })
}

/// Which password scheme a challenge belongs to, by nonce length (§1.5: espota-new picks the
/// protocol the same way).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthScheme {
    /// 32 hex digits: MD5 digest auth (arduino-esp32 ≤ 3.3.0, ESP8266, RP2040).
    Md5,
    /// 64 hex digits: PBKDF2-HMAC-SHA256 (arduino-esp32 ≥ 3.3.1).
    Pbkdf2Sha256,
}

impl AuthScheme {
    pub fn name(self) -> &'static str {
        match self {
            AuthScheme::Md5 => "md5",
            AuthScheme::Pbkdf2Sha256 => "pbkdf2_sha256",
        }
    }

    /// The scheme as events name it.
    pub fn reported(self) -> ReportedScheme {
        match self {
            AuthScheme::Md5 => ReportedScheme::Md5,
            AuthScheme::Pbkdf2Sha256 => ReportedScheme::Pbkdf2Sha256,
        }
    }

    pub fn from_hex_len(len: usize) -> Option<AuthScheme> {
        match len {
            32 => Some(AuthScheme::Md5),
            64 => Some(AuthScheme::Pbkdf2Sha256),
            _ => None,
        }
    }
}

/// A datagram the device sends back to the uploader (§1.3, §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceReply<'a> {
    /// `OK`: invitation accepted (no password) or password accepted.
    Ok,
    /// `AUTH <nonce>`: a challenge.
    Auth { scheme: AuthScheme, nonce: &'a str },
    /// `Authentication Failed`.
    AuthFailed,
    /// `ERR: <text>` (ESP8266 / RP2040 when `Update.begin()` fails).
    Error(&'a str),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyError {
    Unknown,
    /// `AUTH` with a nonce that is not 32 or 64 hex digits.
    Nonce(usize),
}

impl fmt::Display for ReplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplyError::Unknown => write!(f, "not an ArduinoOTA device reply"),
            ReplyError::Nonce(n) => write!(
                f,
                "AUTH nonce of {n} characters is neither 32 nor 64 hex digits"
            ),
        }
    }
}

impl std::error::Error for ReplyError {}

fn hex_str(bytes: &[u8]) -> Option<&str> {
    if bytes.iter().all(u8::is_ascii_hexdigit) {
        std::str::from_utf8(bytes).ok()
    } else {
        None
    }
}

pub fn parse_device_reply(payload: &[u8]) -> Result<DeviceReply<'_>, ReplyError> {
    if payload == b"OK" {
        return Ok(DeviceReply::Ok);
    }
    if payload == b"Authentication Failed" {
        return Ok(DeviceReply::AuthFailed);
    }
    if let Some(nonce) = payload.strip_prefix(b"AUTH ") {
        let nonce = strip_line_end(nonce);
        let scheme = AuthScheme::from_hex_len(nonce.len()).ok_or(ReplyError::Nonce(nonce.len()))?;
        let nonce = hex_str(nonce).ok_or(ReplyError::Nonce(nonce.len()))?;
        return Ok(DeviceReply::Auth { scheme, nonce });
    }
    if let Some(text) = payload.strip_prefix(b"ERR: ") {
        if text
            .iter()
            .all(|&b| b == b'\n' || b == b'\r' || (0x20..0x7f).contains(&b))
        {
            let text = std::str::from_utf8(text).map_err(|_| ReplyError::Unknown)?;
            return Ok(DeviceReply::Error(text.trim_end()));
        }
    }
    Err(ReplyError::Unknown)
}

/// `200 <cnonce> <response>\n` (§1.4, §1.5): both 32 (MD5) or both 64 (PBKDF2) hex digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuthAnswer<'a> {
    pub scheme: AuthScheme,
    pub cnonce: &'a str,
    pub response: &'a str,
}

pub fn parse_auth_answer(payload: &[u8]) -> Option<AuthAnswer<'_>> {
    let line = strip_line_end(payload.strip_prefix(b"200 ")?);
    let mut parts = line.split(|&b| b == b' ');
    let (Some(cnonce), Some(response), None) = (parts.next(), parts.next(), parts.next()) else {
        return None;
    };
    let scheme = AuthScheme::from_hex_len(cnonce.len())?;
    if response.len() != cnonce.len() {
        return None;
    }
    Some(AuthAnswer {
        scheme,
        cnonce: hex_str(cnonce)?,
        response: hex_str(response)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::arduino_ota::probe::looks_like_invitation;

    const MD5: &str = "0c7a2b3b1e5e8b8d1f6a0b0a2d3c4e5f";

    #[test]
    fn invitation_as_espota_sends_it() {
        // espota: message = "%d %d %d %s\n" % (command, local_port, content_size, file_md5)
        let msg = format!("0 48266 1048576 {MD5}\n");
        assert_eq!(msg.len(), 49); // §1.2: a typical flash upload is 48–49 bytes
        let inv = parse_invitation(msg.as_bytes()).unwrap();
        assert_eq!(
            inv,
            Invitation {
                command: Command::Flash,
                host_port: 48266,
                image_size: 1_048_576,
                image_md5: MD5
            }
        );
        let fs_msg = format!("100 10000 1507328 {MD5}\n");
        let fs = parse_invitation(fs_msg.as_bytes()).unwrap();
        assert_eq!(
            (fs.command, fs.command.code(), fs.command.as_str()),
            (Command::Filesystem, 100, "filesystem")
        );
    }

    #[test]
    fn invitation_length_bounds_from_the_doc() {
        // §1.2: 39–54 bytes.
        let shortest = format!("0 1 0 {MD5}\n");
        let longest = format!("100 65535 9999999999 {MD5}\n");
        assert_eq!((shortest.len(), longest.len()), (39, 54));
        assert!(parse_invitation(shortest.as_bytes()).is_ok());
        assert!(parse_invitation(longest.as_bytes()).is_ok());
        assert!(longest.len() <= MAX_INVITATION_LEN);
    }

    #[test]
    fn malformed_invitations_say_why() {
        let cases: &[(String, InvitationError)] = &[
            (
                format!("0 48266 1048576 {}\n", &MD5[..31]),
                InvitationError::Md5Length(31),
            ),
            (
                format!("0 48266 1048576 {}g\n", &MD5[..31]),
                InvitationError::Md5Digit,
            ),
            (format!("0 port 1048576 {MD5}\n"), InvitationError::HostPort),
            (
                format!("0 70000 1048576 {MD5}\n"),
                InvitationError::HostPort,
            ),
            (format!("0 0 1048576 {MD5}\n"), InvitationError::HostPort),
            (
                format!("0 48266 12345678901 {MD5}\n"),
                InvitationError::ImageSize,
            ),
            (format!("0 48266 -1 {MD5}\n"), InvitationError::ImageSize),
            (format!("200 48266 1 {MD5}\n"), InvitationError::Command),
            (
                format!("0  48266 1 {MD5}\n"),
                InvitationError::FieldCount(5),
            ),
            ("0 48266 1\n".to_string(), InvitationError::FieldCount(3)),
            ("\n".to_string(), InvitationError::NotText),
            ("0 1 2 \u{0}bc\n".to_string(), InvitationError::NotText),
        ];
        for (msg, err) in cases {
            assert_eq!(parse_invitation(msg.as_bytes()), Err(*err), "{msg:?}");
            assert!(!err.to_string().is_empty());
        }
        assert!(looks_like_invitation(b"0 48266 x"));
        assert!(!looks_like_invitation(b"GET / HTTP/1.1"));
    }

    #[test]
    fn device_replies_of_both_eras() {
        assert_eq!(parse_device_reply(b"OK"), Ok(DeviceReply::Ok));
        assert_eq!(
            parse_device_reply(b"Authentication Failed"),
            Ok(DeviceReply::AuthFailed)
        );
        let old = format!("AUTH {MD5}");
        assert_eq!(old.len(), 37); // §1.3: 37 bytes with a 32-hex nonce
        assert_eq!(
            parse_device_reply(old.as_bytes()),
            Ok(DeviceReply::Auth {
                scheme: AuthScheme::Md5,
                nonce: MD5
            })
        );
        let nonce64 = format!("{MD5}{MD5}");
        let new = format!("AUTH {nonce64}");
        assert_eq!(new.len(), 69); // 3.3.1+: 69 bytes
        assert_eq!(
            parse_device_reply(new.as_bytes()),
            Ok(DeviceReply::Auth {
                scheme: AuthScheme::Pbkdf2Sha256,
                nonce: &nonce64
            })
        );
        assert_eq!(parse_device_reply(b"AUTH abc"), Err(ReplyError::Nonce(3)));
        assert_eq!(
            parse_device_reply(b"ERR: ERROR[4]: Not Enough Space\n"),
            Ok(DeviceReply::Error("ERROR[4]: Not Enough Space"))
        );
        assert_eq!(parse_device_reply(b"OK\n"), Err(ReplyError::Unknown));
        assert_eq!(parse_device_reply(b""), Err(ReplyError::Unknown));
    }

    #[test]
    fn auth_answers_of_both_eras() {
        let md5 = format!("200 {MD5} {MD5}\n");
        assert_eq!(md5.len(), 70); // §1.4
        assert_eq!(
            parse_auth_answer(md5.as_bytes()).unwrap().scheme,
            AuthScheme::Md5
        );
        let long = format!("{MD5}{MD5}");
        let new = format!("200 {long} {long}\n");
        assert_eq!(new.len(), 134); // §1.5
        let a = parse_auth_answer(new.as_bytes()).unwrap();
        assert_eq!(
            (a.scheme, a.cnonce, a.response),
            (AuthScheme::Pbkdf2Sha256, &long[..], &long[..])
        );
        assert!(parse_auth_answer(format!("200 {MD5} {long}\n").as_bytes()).is_none());
        assert!(parse_auth_answer(b"200 \n").is_none());
    }
}
