//! The `arduino_ota` object of an event: the invitation, the challenge, the verdict and the
//! transfer of an espota session, with the image metadata read from the firmware.

use super::EventKind;
use super::{AuthScheme, OtaOutcome};
use serde::Serialize;

/// espota `FLASH = 0`, `SPIFFS = 100`; 200 (`AUTH`) only starts an auth answer (§1.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Command {
    Flash,
    Filesystem,
}

impl Command {
    pub fn as_str(self) -> &'static str {
        match self {
            Command::Flash => "flash",
            Command::Filesystem => "filesystem",
        }
    }
}

/// The `arduino_ota` object of an event; `kind` names the variant.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum OtaDetails {
    Invitation(InvitationDetails),
    AuthChallenge(AuthChallengeDetails),
    AuthResult(AuthResultDetails),
    Transfer(Box<TransferDetails>),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct InvitationDetails {
    /// `flash` (command 0) or `filesystem` (command 100).
    pub command: Command,
    /// TCP port on the uploader that the device will connect back to.
    pub host_port: u16,
    /// Image size in bytes, as announced by the invitation.
    pub image_size: u64,
    /// MD5 of the whole image, lower-case hex.
    pub image_md5: String,
    /// Upload attempt number (1, 2, … in order of first invitation); links the session's events.
    /// With `--workers N`, worker k numbers its sessions k+1, k+1+N, k+1+2N, …: unique in the run.
    pub session_id: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct AuthChallengeDetails {
    /// Upload attempt number (1, 2, … in order of first invitation); links the session's events.
    /// With `--workers N`, worker k numbers its sessions k+1, k+1+N, k+1+2N, …: unique in the run.
    pub session_id: u64,
    /// `md5` (32-hex nonce) or `pbkdf2_sha256` (64-hex nonce), §1.5.
    pub auth_scheme: AuthScheme,
    /// The device's `AUTH` nonce, lower-case hex (32 digits for MD5, 64 for PBKDF2).
    pub nonce: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct AuthResultDetails {
    /// Upload attempt number (1, 2, … in order of first invitation); links the session's events.
    /// With `--workers N`, worker k numbers its sessions k+1, k+1+N, k+1+2N, …: unique in the run.
    pub session_id: u64,
    /// `none` when the device accepted the invitation without a challenge.
    pub auth_scheme: AuthScheme,
    /// True when the device answered `OK`, false on `Authentication Failed`.
    pub accepted: bool,
    /// The uploader's client nonce from its `200 <cnonce> <response>` answer, hex;
    /// null when no answer was seen (no challenge, or the answer is not in the capture).
    pub cnonce: Option<String>,
    /// The uploader's password proof from the same answer, hex; null when no answer was seen.
    pub response: Option<String>,
}

/// The `arduino_ota` object of a `transfer` event (EVENTS.md, plus linking and stream facts).
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct TransferDetails {
    /// Upload attempt number (1, 2, … in order of first invitation); links the session's events.
    /// With `--workers N`, worker k numbers its sessions k+1, k+1+N, k+1+2N, …: unique in the run.
    pub session_id: u64,
    /// `complete`, `failed` (device error text), `aborted` (closed without `OK`),
    /// `auth_failed`, `no_connect` (accepted or unanswered, but no connection back).
    pub outcome: OtaOutcome,
    /// `flash` (command 0) or `filesystem` (command 100).
    pub command: Command,
    /// Image bytes the uploader delivered in order.
    pub bytes: u64,
    /// Image size in bytes, as announced by the invitation.
    pub image_size: u64,
    /// Bytes the device confirmed with its decimal ASCII counts (per-write sum or running total);
    /// 0 when it never connected back.
    pub acked_bytes: u64,
    /// MD5 of the whole image, lower-case hex.
    pub image_md5: String,
    /// MD5 of the bytes received (null when none).
    pub received_md5: Option<String>,
    /// Null unless the whole image was seen.
    pub md5_match: Option<bool>,
    /// The device's final text after its counts (`OK`, `MD5 Check Failed`, …, ≤ 256 bytes), or
    /// its UDP `ERR: …` reply; null when it sent none.
    pub device_message: Option<String>,
    /// Seconds from the connect-back's first packet to its last; without a connection, from the
    /// first invitation to the session's last UDP message. Microsecond precision.
    pub duration_s: f64,
    /// `bytes` divided by `duration_s`, in bytes per second (rounded); null without a connection
    /// or when the duration is 0.
    pub throughput_bps: Option<f64>,
    pub firmware: Option<Firmware>,
    /// `none`, `md5`, `pbkdf2_sha256`; null when the device never answered.
    pub auth_scheme: Option<AuthScheme>,
    /// Invitation datagrams of this session (espota's retries and re-invitations included).
    pub invitations: u32,
    /// `Authentication Failed` replies the device sent in this session.
    pub auth_failures: u32,
    /// The UDP flow of the first invitation, and the TCP connect-back flow.
    pub invitation_flow_id: u64,
    /// `flow_id` of the device's TCP connection back; null when it never connected.
    pub transfer_flow_id: Option<u64>,
    /// TCP port on the uploader that the device will connect back to.
    pub host_port: u16,
    /// Payload bytes seen more than once (TCP retransmissions, overlaps), both directions.
    pub retransmitted_bytes: u64,
    /// TCP segments that arrived ahead of a gap and were buffered, both directions.
    pub out_of_order_segments: u64,
    /// Bytes missing from the capture (a hole never filled): MD5 and counts are partial.
    pub stream_gaps: bool,
    /// Digit runs from the device that fit neither count reading; omitted when 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub unparsed_acks: u64,
    /// With `--extract-firmware`: the file written, or why not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extracted: Option<String>,
    /// With `--extract-firmware`: the image was larger than `--max-firmware-bytes`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub firmware_over_cap: bool,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// What the image says about itself; every string is `None` when the image has no descriptor.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Firmware {
    /// `esp32` (ESP-IDF app image, extended header) or `esp8266` (8-byte header), `gzip`,
    /// or `unknown` (no magic byte: a filesystem image, encrypted, or not firmware).
    pub image_format: &'static str,
    /// IDF target name from the chip id (`esp32`, `esp32s3`, …); `esp8266` for those images.
    pub chip: Option<&'static str>,
    /// Chip id at offset 12 of an ESP32 image header (`esp_chip_id_t`); null for other formats.
    pub chip_id: Option<u16>,
    /// Segment count (header byte 1); null unless the image starts with magic 0xE9.
    pub segment_count: Option<u8>,
    /// `qio`, `qout`, `dio`, `dout`, `fast_read`, `slow_read`.
    pub flash_mode: Option<&'static str>,
    /// Entry point address from the image header, `0x` and 8 hex digits.
    pub entry_addr: Option<String>,
    /// Project name from the app descriptor (`esp_app_desc_t`); null without one.
    pub project_name: Option<String>,
    /// App version from the app descriptor, e.g. `1.2.3`; null without one.
    pub version: Option<String>,
    /// ESP-IDF version the app was built with, e.g. `v5.5.1`; null without a descriptor.
    pub idf_version: Option<String>,
    /// Build date from the app descriptor, e.g. `Nov 25 2026`; null without one.
    pub compile_date: Option<String>,
    /// Build time from the app descriptor, e.g. `12:34:56`; null without one.
    pub compile_time: Option<String>,
    /// ELF SHA-256 from the app descriptor, hex.
    pub elf_sha256: Option<String>,
    /// Anti-rollback secure version from the app descriptor; null without one.
    pub secure_version: Option<u32>,
}

/// The `kind` of an `arduino_ota` event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OtaKind {
    Invitation,
    AuthChallenge,
    AuthResult,
    Transfer,
}

impl EventKind for OtaKind {
    fn as_str(self) -> &'static str {
        match self {
            OtaKind::Invitation => "invitation",
            OtaKind::AuthChallenge => "auth_challenge",
            OtaKind::AuthResult => "auth_result",
            OtaKind::Transfer => "transfer",
        }
    }
}
