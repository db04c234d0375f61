//! ESPHome native OTA over TCP (shared/docs/arduino-ota.md §3.3): the handshake of both sides,
//! followed as two in-order byte streams. Pure: bytes in, facts out; never panics.
//!
//! client: magic `6C 26 F7 5C 45`, features (1), [cnonce ‖ response], [OTA type (1), extended
//! only], size (4, big-endian), MD5 (32 hex), data, `00`.
//! device: `00 <version>`, header `40`/`46` or `48 <flags>` (extended), auth `41` | `01`+32 hex |
//! `02`+64 hex, [`41` auth OK], `42`, `43`, `47` per 8192 bytes (v2), `44`, `45`; any byte
//! ≥ `0x80` where a response is due is an error code.

use crate::classify::ota::firmware;
use crate::event::{AuthScheme, OtaOutcome};
use md5::{Digest, Md5};

pub const MAGIC: [u8; 5] = [0x6C, 0x26, 0xF7, 0x5C, 0x45];

/// Client feature bits (§3.3 step 3).
pub const FEATURE_COMPRESSION: u8 = 0x01;
pub const FEATURE_EXTENDED: u8 = 0x04;

const RESPONSE_OK: u8 = 0x00;
const HEADER_OK: u8 = 0x40;
const AUTH_OK: u8 = 0x41;
const PREPARE_OK: u8 = 0x42;
const BIN_MD5_OK: u8 = 0x43;
const RECEIVE_OK: u8 = 0x44;
const UPDATE_END_OK: u8 = 0x45;
const SUPPORTS_COMPRESSION: u8 = 0x46;
const CHUNK_OK: u8 = 0x47;
const FEATURE_FLAGS: u8 = 0x48;
const REQUEST_AUTH_MD5: u8 = 0x01;
const REQUEST_AUTH_SHA256: u8 = 0x02;
pub const ERROR_AUTH_INVALID: u8 = 0x82;

/// Handshake bytes buffered per side at most (the longest message is 128 hex characters).
const MAX_BUFFER: usize = 512;

/// Whether a flow's first client bytes start (or may start) with the magic.
pub fn magic_prefix(payload: &[u8]) -> Option<bool> {
    let n = payload.len().min(MAGIC.len());
    if payload[..n] != MAGIC[..n] {
        Some(false)
    } else if n == MAGIC.len() {
        Some(true)
    } else {
        None
    }
}

/// The name of a device error code (`espota2.py` `RESPONSE_ERROR_*`).
pub fn error_name(code: u8) -> &'static str {
    match code {
        0x80 => "magic",
        0x81 => "update_prepare",
        0x82 => "auth_invalid",
        0x83 => "writing_flash",
        0x84 => "update_end",
        0x85 => "invalid_bootstrapping",
        0x86 => "wrong_current_flash_config",
        0x87 => "wrong_new_flash_config",
        0x88 => "esp8266_not_enough_space",
        0x89 => "esp32_not_enough_space",
        0x8A => "no_update_partition",
        0x8B => "md5_mismatch",
        0x8C => "rp2040_not_enough_space",
        0x8D => "signature_invalid",
        0x8E => "unsupported_ota_type",
        0x8F..=0x92 => "partition_or_bootloader",
        0x93 => "version_downgrade",
        0x94 => "encryption_required",
        _ => "unknown",
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Client {
    Magic,
    Features,
    Auth,
    OtaType,
    Size,
    Md5,
    Data,
    Final,
    Done,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Device {
    Version,
    Header,
    Auth,
    AuthResult,
    Prepare,
    Md5Ack,
    Data,
    Done,
}

/// One ESPHome OTA conversation.
#[derive(Clone, Debug)]
pub struct Session {
    client: Client,
    device: Device,
    cbuf: Vec<u8>,
    dbuf: Vec<u8>,
    pub version: Option<u8>,
    pub features: Option<u8>,
    /// Extended protocol: the device's `48 <flags>` flags.
    pub server_flags: Option<u8>,
    /// Legacy protocol: `40` or `46` (compression supported).
    pub header: Option<u8>,
    /// `none`, `md5`, `sha256`.
    pub auth: Option<AuthScheme>,
    nonce_len: usize,
    pub nonce: Option<String>,
    pub cnonce: Option<String>,
    pub response: Option<String>,
    pub accepted: Option<bool>,
    pub ota_type: Option<u8>,
    pub image_size: Option<u32>,
    pub image_md5: Option<String>,
    pub bytes: u64,
    md5: Md5,
    pub head: Vec<u8>,
    /// With [`Session::keep_image`]: every upload byte so far, up to the bound given.
    pub image: Option<Vec<u8>>,
    keep_at_most: usize,
    /// The upload outgrew the bound: `image` was dropped.
    pub image_over_cap: bool,
    pub chunk_acks: u32,
    pub receive_ok: bool,
    pub update_end_ok: bool,
    pub error: Option<u8>,
    /// Bytes that fit no step of the handshake (the first reason).
    pub malformed: Option<&'static str>,
}

impl Default for Session {
    fn default() -> Self {
        Session {
            client: Client::Magic,
            device: Device::Version,
            cbuf: Vec::new(),
            dbuf: Vec::new(),
            version: None,
            features: None,
            server_flags: None,
            header: None,
            auth: None,
            nonce_len: 0,
            nonce: None,
            cnonce: None,
            response: None,
            accepted: None,
            ota_type: None,
            image_size: None,
            image_md5: None,
            bytes: 0,
            md5: Md5::new(),
            head: Vec::new(),
            image: None,
            keep_at_most: 0,
            image_over_cap: false,
            chunk_acks: 0,
            receive_ok: false,
            update_end_ok: false,
            error: None,
            malformed: None,
        }
    }
}

fn ascii(b: &[u8]) -> String {
    b.iter()
        .map(|&c| {
            if c.is_ascii_graphic() {
                char::from(c)
            } else {
                '?'
            }
        })
        .collect()
}

impl Session {
    /// In-order bytes from the uploader.
    pub fn client_bytes(&mut self, mut b: &[u8]) {
        while !b.is_empty() {
            if self.client == Client::Data {
                let left = u64::from(self.image_size.unwrap_or(0)).saturating_sub(self.bytes);
                let n = (left.min(b.len() as u64)) as usize;
                self.data(&b[..n]);
                b = &b[n..];
                if u64::from(self.image_size.unwrap_or(0)) == self.bytes {
                    self.client = Client::Final;
                }
                continue;
            }
            if matches!(self.client, Client::Done) || self.cbuf.len() >= MAX_BUFFER {
                return;
            }
            let room = MAX_BUFFER - self.cbuf.len();
            let n = room.min(b.len());
            // Take only up to the data phase, which is streamed, not buffered.
            self.cbuf.extend_from_slice(&b[..n]);
            b = &b[n..];
            self.step();
            if self.client == Client::Data && !self.cbuf.is_empty() {
                let rest = std::mem::take(&mut self.cbuf);
                self.client_bytes(&rest);
            }
        }
    }

    /// In-order bytes from the device, fed through the bounded buffer in pieces: one segment may
    /// carry more responses than the buffer holds (e.g. many coalesced chunk acks).
    pub fn device_bytes(&mut self, mut b: &[u8]) {
        while !b.is_empty() {
            let room = MAX_BUFFER.saturating_sub(self.dbuf.len());
            if room == 0 {
                return; // a full buffer the parser could not use: the rest is not ESPHome
            }
            let n = room.min(b.len());
            self.dbuf.extend_from_slice(&b[..n]);
            b = &b[n..];
            self.step();
        }
    }

    /// Keeps the upload's bytes (for `--extract-firmware`), at most `max_bytes` of them.
    pub fn keep_image(&mut self, max_bytes: usize) {
        self.image = Some(Vec::new());
        self.keep_at_most = max_bytes;
    }

    fn data(&mut self, b: &[u8]) {
        self.md5.update(b);
        if let Some(image) = &mut self.image {
            if image.len() + b.len() > self.keep_at_most {
                self.image = None;
                self.image_over_cap = true;
            } else {
                image.extend_from_slice(b);
            }
        }
        if self.head.len() < firmware::HEAD_LEN {
            let n = (firmware::HEAD_LEN - self.head.len()).min(b.len());
            self.head.extend_from_slice(&b[..n]);
        }
        self.bytes += b.len() as u64;
    }

    pub fn received_md5(&self) -> String {
        crate::hex::lower(&self.md5.clone().finalize())
    }

    fn bad(&mut self, why: &'static str) {
        self.malformed.get_or_insert(why);
        self.client = Client::Done;
        self.device = Device::Done;
    }

    /// Advances both sides as far as the buffered bytes allow.
    fn step(&mut self) {
        loop {
            let progressed = self.step_device() | self.step_client();
            if !progressed {
                return;
            }
        }
    }

    fn step_device(&mut self) -> bool {
        let Some(&first) = self.dbuf.first() else {
            return false;
        };
        // An error code can stand wherever a response is due (after the version).
        if first >= 0x80 && self.device != Device::Version && self.device != Device::Done {
            self.error = Some(first);
            if first == ERROR_AUTH_INVALID && self.device == Device::AuthResult {
                self.accepted = Some(false);
            }
            self.dbuf.remove(0);
            self.device = Device::Done;
            self.client = Client::Done;
            return true;
        }
        let take = match self.device {
            Device::Version => {
                if self.dbuf.len() < 2 {
                    return false;
                }
                if self.dbuf[0] != RESPONSE_OK {
                    if self.dbuf[0] >= 0x80 {
                        self.error = Some(self.dbuf[0]);
                        self.device = Device::Done;
                        self.client = Client::Done;
                        return true;
                    }
                    self.bad("device did not answer the magic with 00 <version>");
                    return false;
                }
                self.version = Some(self.dbuf[1]);
                self.device = Device::Header;
                2
            }
            Device::Header => {
                let Some(features) = self.features else {
                    return false;
                };
                if features & FEATURE_EXTENDED != 0 && first == FEATURE_FLAGS {
                    if self.dbuf.len() < 2 {
                        return false;
                    }
                    self.server_flags = Some(self.dbuf[1]);
                    self.device = Device::Auth;
                    2
                } else if first == HEADER_OK || first == SUPPORTS_COMPRESSION {
                    self.header = Some(first);
                    self.device = Device::Auth;
                    1
                } else {
                    self.bad("unexpected device header response");
                    return false;
                }
            }
            Device::Auth => match first {
                AUTH_OK => {
                    self.auth = Some(AuthScheme::None);
                    self.device = Device::Prepare;
                    1
                }
                REQUEST_AUTH_MD5 | REQUEST_AUTH_SHA256 => {
                    let len = if first == REQUEST_AUTH_MD5 { 32 } else { 64 };
                    if self.dbuf.len() < 1 + len {
                        return false;
                    }
                    let nonce = &self.dbuf[1..1 + len];
                    if !nonce.iter().all(u8::is_ascii_hexdigit) {
                        self.bad("auth nonce is not hex");
                        return false;
                    }
                    self.auth = Some(if first == REQUEST_AUTH_MD5 {
                        AuthScheme::Md5
                    } else {
                        AuthScheme::Sha256
                    });
                    self.nonce_len = len;
                    self.nonce = Some(ascii(nonce));
                    self.device = Device::AuthResult;
                    1 + len
                }
                _ => {
                    self.bad("unexpected device auth request");
                    return false;
                }
            },
            Device::AuthResult => {
                if first != AUTH_OK {
                    self.bad("unexpected device auth result");
                    return false;
                }
                self.accepted = Some(true);
                self.device = Device::Prepare;
                1
            }
            Device::Prepare | Device::Md5Ack => {
                let want = if self.device == Device::Prepare {
                    PREPARE_OK
                } else {
                    BIN_MD5_OK
                };
                if first != want {
                    self.bad("unexpected device response before the data");
                    return false;
                }
                self.device = if want == PREPARE_OK {
                    Device::Md5Ack
                } else {
                    Device::Data
                };
                1
            }
            Device::Data => {
                match first {
                    CHUNK_OK => self.chunk_acks += 1,
                    RECEIVE_OK => self.receive_ok = true,
                    UPDATE_END_OK => {
                        self.update_end_ok = true;
                        self.device = Device::Done;
                    }
                    _ => {
                        self.bad("unexpected device response in the data phase");
                        return false;
                    }
                }
                1
            }
            Device::Done => {
                self.dbuf.clear();
                return false;
            }
        };
        self.dbuf.drain(..take);
        true
    }

    fn step_client(&mut self) -> bool {
        if self.cbuf.is_empty() {
            return false;
        }
        let take = match self.client {
            Client::Magic => {
                if self.cbuf.len() < MAGIC.len() {
                    return false;
                }
                if self.cbuf[..5] != MAGIC {
                    self.bad("no ESPHome magic");
                    return false;
                }
                self.client = Client::Features;
                5
            }
            Client::Features => {
                self.features = Some(self.cbuf[0]);
                self.client = Client::Auth;
                1
            }
            Client::Auth => {
                let Some(auth) = self.auth else { return false };
                if auth == AuthScheme::None {
                    self.client = Client::OtaType;
                    0
                } else {
                    let n = 2 * self.nonce_len;
                    if self.cbuf.len() < n {
                        return false;
                    }
                    self.cnonce = Some(ascii(&self.cbuf[..self.nonce_len]));
                    self.response = Some(ascii(&self.cbuf[self.nonce_len..n]));
                    self.client = Client::OtaType;
                    n
                }
            }
            Client::OtaType => {
                if self.server_flags.is_some() {
                    self.ota_type = Some(self.cbuf[0]);
                    self.client = Client::Size;
                    1
                } else {
                    self.client = Client::Size;
                    0
                }
            }
            Client::Size => {
                if self.cbuf.len() < 4 {
                    return false;
                }
                self.image_size = Some(u32::from_be_bytes([
                    self.cbuf[0],
                    self.cbuf[1],
                    self.cbuf[2],
                    self.cbuf[3],
                ]));
                self.client = Client::Md5;
                4
            }
            Client::Md5 => {
                if self.cbuf.len() < 32 {
                    return false;
                }
                self.image_md5 = Some(ascii(&self.cbuf[..32]).to_ascii_lowercase());
                self.client = if self.image_size == Some(0) {
                    Client::Final
                } else {
                    Client::Data
                };
                32
            }
            Client::Data => return false,
            Client::Final => {
                self.client = Client::Done;
                1
            }
            Client::Done => {
                self.cbuf.clear();
                return false;
            }
        };
        self.cbuf.drain(..take);
        true
    }

    /// `complete` (device confirmed the update), `auth_failed`, `failed` (device error code),
    /// `aborted` (closed before the end).
    pub fn outcome(&self) -> OtaOutcome {
        match self.error {
            _ if self.update_end_ok => OtaOutcome::Complete,
            Some(ERROR_AUTH_INVALID) => OtaOutcome::AuthFailed,
            Some(_) => OtaOutcome::Failed,
            None => OtaOutcome::Aborted,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The exchange of the reference ESPHome capture (espota2.py @33fdbbe, OTA v2, MD5 auth).
    #[test]
    fn a_kept_image_is_the_upload_and_stays_under_its_bound() {
        let image: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
        let upload = |keep: usize| {
            let mut s = Session::default();
            s.keep_image(keep);
            s.client_bytes(&MAGIC);
            s.device_bytes(&[0x00, 0x02]);
            s.client_bytes(&[0x00]);
            s.device_bytes(&[HEADER_OK, AUTH_OK]);
            s.client_bytes(&(image.len() as u32).to_be_bytes());
            s.device_bytes(&[PREPARE_OK]);
            s.client_bytes(crate::hex::lower(&Md5::digest(&image)).as_bytes());
            s.device_bytes(&[BIN_MD5_OK]);
            s.client_bytes(&image);
            s
        };
        let whole = upload(image.len());
        assert_eq!(whole.image.as_deref(), Some(&image[..]));
        assert!(!whole.image_over_cap);
        let capped = upload(image.len() - 1);
        assert_eq!(
            (capped.image.is_none(), capped.image_over_cap),
            (true, true)
        );
        assert_eq!(capped.bytes, image.len() as u64, "still hashed whole");
    }

    #[test]
    fn md5_auth_upload_as_espota2_sends_it() {
        let mut s = Session::default();
        s.client_bytes(&MAGIC);
        s.device_bytes(&[0x00, 0x02]);
        s.client_bytes(&[0x01]);
        s.device_bytes(&[0x40]);
        s.device_bytes(&[0x01]);
        s.device_bytes(b"4f340729fc2a65c6a24f41800622170c");
        s.client_bytes(b"647c179fc1764cd99fdfa9b0cfc343df");
        s.client_bytes(b"784b8749cfff6bda581c4ef76f8f8b5b");
        s.device_bytes(&[0x41]);
        let image = vec![0xe9u8; 10_000];
        s.client_bytes(&(image.len() as u32).to_be_bytes());
        s.device_bytes(&[0x42]);
        s.client_bytes(crate::hex::lower(&Md5::digest(&image)).as_bytes());
        s.device_bytes(&[0x43]);
        s.client_bytes(&image[..8192]);
        s.device_bytes(&[0x47]);
        s.client_bytes(&image[8192..]);
        s.device_bytes(&[0x47, 0x44, 0x45]);
        s.client_bytes(&[0x00]);
        assert_eq!(
            (s.version, s.features, s.header, s.auth),
            (Some(2), Some(1), Some(0x40), Some(AuthScheme::Md5))
        );
        assert_eq!(s.nonce.as_deref(), Some("4f340729fc2a65c6a24f41800622170c"));
        assert_eq!(
            s.cnonce.as_deref(),
            Some("647c179fc1764cd99fdfa9b0cfc343df")
        );
        assert_eq!(
            s.response.as_deref(),
            Some("784b8749cfff6bda581c4ef76f8f8b5b")
        );
        assert_eq!(
            (s.accepted, s.image_size, s.bytes, s.chunk_acks),
            (Some(true), Some(10_000), 10_000, 2)
        );
        assert_eq!(s.image_md5, Some(s.received_md5()));
        assert_eq!((s.outcome(), s.malformed), (OtaOutcome::Complete, None));
        assert_eq!(s.client, Client::Done);
    }

    /// More device responses in one segment than the device buffer holds: all are counted.
    #[test]
    fn a_segment_of_many_chunk_acks_is_read_whole() {
        let mut s = Session::default();
        s.client_bytes(&MAGIC);
        s.device_bytes(&[0x00, 0x02]);
        s.client_bytes(&[0x00]);
        s.device_bytes(&[HEADER_OK, AUTH_OK]);
        s.client_bytes(&100_000u32.to_be_bytes());
        s.device_bytes(&[PREPARE_OK]);
        s.client_bytes(crate::hex::lower(&[0; 16]).as_bytes());
        s.device_bytes(&[BIN_MD5_OK]);
        s.client_bytes(&[0; 100_000]);
        let mut acks = vec![CHUNK_OK; 3 * MAX_BUFFER];
        acks.extend_from_slice(&[RECEIVE_OK, UPDATE_END_OK]);
        s.device_bytes(&acks);
        assert_eq!(s.chunk_acks as usize, 3 * MAX_BUFFER, "{:?}", s.malformed);
        assert!(s.receive_ok && s.update_end_ok);
    }

    #[test]
    fn extended_protocol_no_auth_and_errors() {
        let mut s = Session::default();
        s.client_bytes(&MAGIC);
        s.client_bytes(&[0x07]);
        s.device_bytes(&[0x00, 0x02, 0x48, 0x03, 0x41]);
        s.client_bytes(&[0x00, 0, 0, 0, 4]);
        s.client_bytes(b"0123456789abcdef0123456789abcdef");
        s.device_bytes(&[0x42, 0x43]);
        s.client_bytes(b"abcd");
        s.device_bytes(&[0x8B]);
        assert_eq!(
            (s.server_flags, s.ota_type, s.auth, s.image_size),
            (Some(3), Some(0), Some(AuthScheme::None), Some(4))
        );
        assert_eq!(
            (s.error, s.outcome(), error_name(0x8B)),
            (Some(0x8B), OtaOutcome::Failed, "md5_mismatch")
        );

        let mut f = Session::default();
        f.client_bytes(&MAGIC);
        f.device_bytes(&[0x00, 0x02]);
        f.client_bytes(&[0x03]);
        f.device_bytes(&[0x40, 0x02]);
        f.device_bytes(&[b'a'; 64]);
        f.client_bytes(&[b'b'; 128]);
        f.device_bytes(&[0x82]);
        assert_eq!(
            (f.auth, f.accepted, f.outcome()),
            (
                Some(AuthScheme::Sha256),
                Some(false),
                OtaOutcome::AuthFailed
            )
        );

        let mut m = Session::default();
        m.client_bytes(&MAGIC);
        m.device_bytes(&[0x00, 0x02]);
        m.client_bytes(&[0x01]);
        m.device_bytes(&[0x13]);
        assert_eq!(
            (m.malformed, m.outcome()),
            (
                Some("unexpected device header response"),
                OtaOutcome::Aborted
            )
        );
        assert_eq!(magic_prefix(&MAGIC[..3]), None);
        assert_eq!(magic_prefix(b"GET /"), Some(false));
        assert_eq!(magic_prefix(&[0x6C, 0x26, 0xF7, 0x5C, 0x45, 1]), Some(true));
    }
}
