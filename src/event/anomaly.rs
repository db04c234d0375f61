//! The `anomaly` object of an event: why an unclaimed flow on a watched port is reported, the
//! protocol evidence, the flow summary, and the behaviour or scan that explains it.

use super::EventKind;
use crate::time::Timestamp;
use serde::Serialize;
use std::net::IpAddr;

/// Why a flow is reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    UnknownProtocol,
    MalformedOta,
    MalformedMdt,
    UnexpectedTcpService,
    Scan,
    InteractiveSession,
    Beacon,
    Probe,
}

impl Reason {
    pub const ALL: [Reason; 8] = [
        Reason::UnknownProtocol,
        Reason::MalformedOta,
        Reason::MalformedMdt,
        Reason::UnexpectedTcpService,
        Reason::Scan,
        Reason::InteractiveSession,
        Reason::Beacon,
        Reason::Probe,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Reason::UnknownProtocol => "unknown_protocol",
            Reason::MalformedOta => "malformed_ota",
            Reason::MalformedMdt => "malformed_mdt",
            Reason::UnexpectedTcpService => "unexpected_tcp_service",
            Reason::Scan => "scan",
            Reason::InteractiveSession => "interactive_session",
            Reason::Beacon => "beacon",
            Reason::Probe => "probe",
        }
    }

    pub fn from_name(s: &str) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.name() == s)
    }
}

// Which report of a flow an anomaly is (not a doc comment on these enums: schemars would
// append it to the descriptions of optional fields in docs/events.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Report {
    End,
    Early,
    Update,
    Window,
}

// The protocol a flow's first bytes suggest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProtocolGuess {
    Tls,
    Ssh,
    Http,
    Dns,
    Smb,
    EsphomeOta,
    Text,
    Binary,
    Empty,
}

impl ProtocolGuess {
    pub fn as_str(self) -> &'static str {
        match self {
            ProtocolGuess::Tls => "tls",
            ProtocolGuess::Ssh => "ssh",
            ProtocolGuess::Http => "http",
            ProtocolGuess::Dns => "dns",
            ProtocolGuess::Smb => "smb",
            ProtocolGuess::EsphomeOta => "esphome_ota",
            ProtocolGuess::Text => "text",
            ProtocolGuess::Binary => "binary",
            ProtocolGuess::Empty => "empty",
        }
    }
}

// How a scan probed: half-open SYNs, full connections, UDP datagrams, or service probes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScanMethod {
    Syn,
    Connect,
    Udp,
    Version,
}

impl ScanMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            ScanMethod::Syn => "syn",
            ScanMethod::Connect => "connect",
            ScanMethod::Udp => "udp",
            ScanMethod::Version => "version",
        }
    }
}

// The shape of a scan: many hosts, many ports of one host, or both.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub enum ScanShape {
    #[serde(rename = "horizontal")]
    Horizontal,
    #[serde(rename = "vertical")]
    Vertical,
    #[serde(rename = "horizontal+vertical")]
    HorizontalAndVertical,
    /// One host and port, probed for its service (a version scan).
    #[serde(rename = "single")]
    Single,
}

impl ScanShape {
    pub fn as_str(self) -> &'static str {
        match self {
            ScanShape::Horizontal => "horizontal",
            ScanShape::Vertical => "vertical",
            ScanShape::HorizontalAndVertical => "horizontal+vertical",
            ScanShape::Single => "single",
        }
    }
}

/// Flow counters oriented by the service: `toserver` = towards the watched port.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct FlowSummary {
    /// Packets towards the watched port (the service).
    pub pkts_toserver: u64,
    /// Packets from the service.
    pub pkts_toclient: u64,
    /// Payload bytes (TCP/UDP headers excluded) towards the service.
    pub bytes_toserver: u64,
    /// Payload bytes (TCP/UDP headers excluded) from the service.
    pub bytes_toclient: u64,
    /// Seconds from the flow's first packet to its last, millisecond precision.
    pub duration_s: f64,
    /// Shannon entropy (bits per byte) of the first sampled bytes towards the service (or
    /// from it when the client sent none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entropy: Option<f64>,
    /// The first bytes each way; absent when neither side sent payload.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload_preview: Option<Previews>,
    /// TCP flows only: the flags seen each way and whether the handshake completed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tcp: Option<TcpSummary>,
}

#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Previews {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub toserver: Option<Preview>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub toclient: Option<Preview>,
}

#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct TcpSummary {
    /// Every TCP flag seen towards the service, e.g. `SYN,ACK,PSH,FIN`; empty when none.
    pub flags_toserver: String,
    /// Every TCP flag seen from the service, e.g. `SYN,ACK,RST`; empty when none.
    pub flags_toclient: String,
    /// The client ACKed the service's SYN-ACK: the three-way handshake completed.
    pub handshake_completed: bool,
}

/// The `anomaly` object of an event; `kind` repeats `reason`.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct AnomalyDetails {
    pub reason: Reason,
    /// `end` (flow ended), `early` (long-lived flow judged while open), `update` (end of a
    /// flow reported early), `window` (a scan window closed).
    pub report: Report,
    #[serde(flatten)]
    pub evidence: Evidence,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub summary: Option<FlowSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub beacon: Option<Beacon>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interactive: Option<Interactive>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scan: Option<ScanDetails>,
    /// For malformed_*: the parser's error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Why the severity is what it is, in short phrases (e.g. `regular send intervals`).
    pub severity_reasons: Vec<&'static str>,
    /// A sentence explaining the finding (addresses, ports, protocol guess, figures).
    pub detail: String,
}

/// `tls` evidence: the ClientHello (version, SNI, ALPN, JA3, JA4) and the ServerHello answer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct TlsEvidence {
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub client_hello: Option<ClientHello>,
    /// Version the ServerHello negotiated (`TLS 1.3`, `TLS 1.2`, …); absent without one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_version: Option<&'static str>,
    /// Cipher suite the ServerHello chose, e.g. `0x1301`; absent without one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cipher_suite: Option<String>,
}

/// `http` evidence: the request head and/or the response status line.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct HttpEvidence {
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub request: Option<HttpRequest>,
    /// Status code of the response; absent without a response.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// `Server` header of the response (≤ 256 bytes); absent when none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
}

/// `ssh` evidence: the banner (the service's when it sent one) and the client's.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct SshEvidence {
    /// The service's SSH identification line (`SSH-2.0-…`), or the client's when the service
    /// sent none.
    pub banner: String,
    /// The client's identification line when the service sent one too; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_banner: Option<String>,
}

/// The guess for one flow: the protocol's name and the evidence object of that protocol.
#[derive(Clone, Debug, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Evidence {
    /// `tls`, `ssh`, `http`, `dns`, `smb`, `esphome_ota`, `text`, `binary`, `empty`.
    pub protocol_guess: Option<ProtocolGuess>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsEvidence>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpEvidence>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssh: Option<SshEvidence>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns: Option<DnsInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smb: Option<SmbInfo>,
}

/// Hex of the first 64 bytes and the same bytes as printable ASCII (others as `.`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Preview {
    /// The bytes as lower-case hex.
    pub hex: String,
    /// The same bytes as ASCII, non-printable ones as `.`.
    pub printable: String,
}

/// `dns` evidence: the header and first question of a DNS message (either direction).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct DnsInfo {
    /// The DNS message ID.
    pub id: u16,
    /// `query` or `response`.
    pub kind: &'static str,
    /// Name in the first question (`.` for the root).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qname: Option<String>,
    /// Type of the first question (1 A, 28 AAAA, …); absent when the sample ends before it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qtype: Option<u16>,
}

/// `smb` evidence: the SMB header behind a NetBIOS session header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct SmbInfo {
    /// 1 (`\xFFSMB`) or 2 (`\xFESMB`).
    pub version: u8,
    /// SMB1 command byte or SMB2 command code (0 = NEGOTIATE).
    pub command: u16,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct HttpRequest {
    /// Request method (`GET`, `POST`, …).
    pub method: String,
    /// Request target as sent (≤ 256 bytes).
    pub path: String,
    /// `HTTP/x.y` of the request line; empty when the sample cut it off.
    pub version: String,
    /// `Host` header (≤ 256 bytes); absent when not in the sample.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// `User-Agent` header (≤ 256 bytes); absent when not in the sample.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct HttpResponse {
    pub version: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
}

/// What a ClientHello says, with its fingerprints.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ClientHello {
    /// Highest offered version: `TLS 1.3` from supported_versions, else the legacy version.
    pub version: &'static str,
    /// `legacy_version` of the hello (what JA3 uses), e.g. 771 for 0x0303.
    #[serde(skip)]
    pub legacy_version: u16,
    /// Server name (SNI) the client asked for; absent when not sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sni: Option<String>,
    /// ALPN protocols offered, in order (e.g. `h2`, `http/1.1`); omitted when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alpn: Vec<String>,
    /// JA3 string: version, ciphers, extensions, groups, point formats (decimal, no GREASE).
    pub ja3: String,
    /// MD5 of `ja3`, lower-case hex.
    pub ja3_hash: String,
    /// JA4 fingerprint of the ClientHello (TCP form: `t13d…_<12 hex>_<12 hex>`).
    pub ja4: String,
}

/// What a ServerHello says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ServerHello {
    /// The negotiated version (supported_versions when present).
    pub version: &'static str,
    /// The chosen cipher suite, `0x1301` form.
    pub cipher_suite: String,
}

/// `beacon`: regular sends of similar size from the client, in one flow or across flows.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Beacon {
    /// Mean interval between sends, seconds.
    pub period_s: f64,
    /// Standard deviation of those intervals, seconds.
    pub jitter_s: f64,
    /// Sends measured: the client's payload packets, or its flows when `across_flows`.
    pub count: usize,
    /// Mean payload bytes per send (per flow when `across_flows`).
    pub mean_size: f64,
    /// Seen across flows (one connection per check-in), not within one.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub across_flows: bool,
}

/// `interactive_session`: a shell's content, or short text both ways at human pace.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Interactive {
    /// Times the speaker changed over the first 64 payload packets.
    pub turns: usize,
    /// Median pause between the client's payload packets, seconds.
    pub median_gap_s: f64,
    /// Median payload size of those packets (both ways), bytes.
    pub median_size: u32,
    /// What in the content looks like a shell (at most 8); omitted when the pace alone did.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<ShellSign>,
    /// A root prompt or `uid=0(` was seen; omitted when false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub root: bool,
    /// A download piped into a shell (`wget …|sh`); omitted when false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub download_exec: bool,
}

/// One sign of a shell, quoted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ShellSign {
    /// `prompt`, `command`, `output` or `keystrokes`.
    pub kind: ShellSignKind,
    /// Sent towards the watched port (else from it).
    #[serde(rename = "toserver")]
    pub to_server: bool,
    /// The line as sent, non-printable bytes as `\xNN` (`\n`, `\r`, `\t`), at most 80
    /// characters then `…`.
    pub quote: String,
}

// What a sign of a shell is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ShellSignKind {
    Prompt,
    Command,
    Output,
    Keystrokes,
}

impl ShellSignKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ShellSignKind::Prompt => "prompt",
            ShellSignKind::Command => "command",
            ShellSignKind::Output => "output",
            ShellSignKind::Keystrokes => "keystrokes",
        }
    }
}

/// The `scan` object of a `scan` anomaly.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ScanDetails {
    /// The probing source.
    pub src_ip: IpAddr,
    /// Transport of the probes: `TCP` or `UDP`.
    pub proto: &'static str,
    #[serde(skip)]
    pub proto_number: u8,
    /// The one host probed, when there was only one (the event's `dest_ip`).
    #[serde(skip)]
    pub only_host: Option<IpAddr>,
    /// How it probed: `syn` (half-open: SYN, then RST or nothing), `connect` (handshakes
    /// without data), `udp`, `version` (service probes: nmap `-sV`).
    pub kind: ScanMethod,
    /// The tool its probes' fingerprint names (`nmap`); absent when none matched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool: Option<&'static str>,
    /// `horizontal`, `vertical`, `horizontal+vertical`, or `single` (one target's service).
    pub shape: ScanShape,
    /// Distinct (host, port) pairs probed (at least; see `targets_truncated`).
    pub target_count: u64,
    /// Distinct hosts probed (among the remembered targets).
    pub host_count: usize,
    /// Distinct watched ports probed, ascending.
    pub ports: Vec<u16>,
    /// Up to 10 probed targets as `host:port` (`[v6]:port`), sorted.
    pub sample_targets: Vec<String>,
    /// Probes whose host answered (SYN-ACK): open ports.
    pub answered: u64,
    /// Up to 10 of the answered targets (open ports) as `host:port`, sorted; omitted when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub answered_targets: Vec<String>,
    /// Anomaly events of single probes folded into this one.
    pub probes_folded: u64,
    /// Time of the first packet of the window's first probe.
    pub window_start: Timestamp,
    /// Time of the last packet of any probe in the window.
    pub window_end: Timestamp,
    /// The window length (`--scan-window`), seconds.
    pub window_s: u64,
    /// More than 4096 distinct targets: `host_count`, `ports` and the sample cover the first
    /// 4096 only; omitted when false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub targets_truncated: bool,
}

/// An anomaly's `kind` is its reason.
impl EventKind for Reason {
    fn as_str(self) -> &'static str {
        self.name()
    }
}
