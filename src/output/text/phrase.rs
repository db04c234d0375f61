//! What happened, in words: one phrasing function per event kind. Every match is over the
//! kind enums and details variants of `event/` with no catch-all, so a new kind does not compile
//! until it has its sentence.

use super::{human_bytes, human_secs};
use crate::event::alert::{AlertDetails, AlertKind};
use crate::event::anomaly::{AnomalyDetails, Evidence, ProtocolGuess, Reason, ScanMethod};
use crate::event::arduino_ota::{
    AuthChallengeDetails, AuthResultDetails, Command, Firmware, InvitationDetails, OtaDetails,
    TransferDetails,
};
use crate::event::device::{AnnouncementDetails, DeviceDetails, DeviceEntry};
use crate::event::esphome::EsphomeDetails;
use crate::event::mdt::{
    DataMdtJoinDetails, DefaultMdtDetails, Inventory, MalformedDetails, MdtDetails, PimChange,
    PimDetails,
};
use crate::event::stats::{StatsDetails, StatsKind};
use crate::event::{AuthScheme, Body, Event, EventKind, FlowFields, OtaOutcome};
use std::net::IpAddr;

/// An event in words, and who talked to whom (absent when the words already say it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Phrase {
    pub words: String,
    pub parties: Option<String>,
}

impl Phrase {
    fn new(words: String, parties: Option<String>) -> Self {
        Phrase { words, parties }
    }
}

/// The phrase of one event.
pub fn phrase(event: &Event) -> Phrase {
    let flow = event.flow.as_ref();
    match &event.body {
        Body::ArduinoOta(d) => arduino_ota(d, flow),
        Body::EsphomeOta(d) => esphome(d, flow),
        Body::Device(d) => device(d),
        Body::Mdt(d) => mdt(d, flow),
        Body::Alert(d) => alert(event.kind, d),
        Body::Anomaly(d) => anomaly(d, flow),
        Body::Stats(d) => stats(event.kind, d),
    }
}

/// `src:port → dst:port` of a flow.
pub fn flow_parties(flow: Option<&FlowFields>) -> Option<String> {
    flow.map(|f| {
        format!(
            "{} → {}",
            endpoint(f.src_ip, f.src_port),
            endpoint(f.dest_ip, f.dest_port)
        )
    })
}

fn endpoint(ip: IpAddr, port: Option<u16>) -> String {
    match (ip, port) {
        (IpAddr::V6(a), Some(p)) => format!("[{a}]:{p}"),
        (a, Some(p)) => format!("{a}:{p}"),
        (a, None) => a.to_string(),
    }
}

/// `esp32s3 thermo-7 2.0.1 `: what the image says about itself, with a trailing space; empty
/// when it says nothing.
pub fn firmware_label(fw: Option<&Firmware>) -> String {
    let Some(fw) = fw else {
        return String::new();
    };
    let parts: Vec<&str> = [fw.chip, fw.project_name.as_deref(), fw.version.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        parts.join(" ") + " "
    }
}

fn md5_words(m: Option<bool>) -> &'static str {
    match m {
        Some(true) => "MD5 verified",
        Some(false) => "MD5 MISMATCH",
        None => "MD5 not checked",
    }
}

fn scheme(s: AuthScheme) -> &'static str {
    match s {
        AuthScheme::Md5 => "MD5",
        AuthScheme::None => "no password",
        AuthScheme::Pbkdf2Sha256 => "PBKDF2-SHA256",
        AuthScheme::Sha256 => "SHA-256",
        AuthScheme::Unknown => "unknown scheme",
    }
}

fn short_hex(h: &str) -> &str {
    h.get(..8).unwrap_or(h)
}

/// The uploader and the device of an ArduinoOTA event: the UDP exchange goes uploader → device,
/// the TCP connect-back device → uploader.
fn uploader_device(flow: Option<&FlowFields>) -> (String, String) {
    match flow {
        Some(f) if f.proto == "TCP" => (f.dest_ip.to_string(), f.src_ip.to_string()),
        Some(f) => (f.src_ip.to_string(), f.dest_ip.to_string()),
        None => ("?".into(), "?".into()),
    }
}

/// `uploader → device:port` of an OTA exchange (the uploader's ephemeral port left out).
fn ota_parties(flow: Option<&FlowFields>) -> Option<String> {
    flow.map(|f| format!("{} → {}", f.src_ip, endpoint(f.dest_ip, f.dest_port)))
}

fn arduino_ota(d: &OtaDetails, flow: Option<&FlowFields>) -> Phrase {
    let parties = ota_parties(flow);
    match d {
        OtaDetails::Invitation(InvitationDetails {
            command,
            host_port,
            image_size,
            image_md5,
            session_id,
        }) => Phrase::new(
            format!(
                "OTA #{session_id} invite: {} {}, MD5 {}, to :{host_port}",
                command_words(*command),
                human_bytes(*image_size),
                short_hex(image_md5)
            ),
            parties,
        ),
        OtaDetails::AuthChallenge(AuthChallengeDetails {
            session_id,
            auth_scheme,
            ..
        }) => Phrase::new(
            format!(
                "OTA #{session_id}: device asks for the password ({})",
                scheme(*auth_scheme)
            ),
            parties,
        ),
        OtaDetails::AuthResult(AuthResultDetails {
            session_id,
            auth_scheme,
            accepted,
            ..
        }) => {
            let words = match (accepted, auth_scheme) {
                (true, AuthScheme::None) => "accepted without a password".into(),
                (true, s) => format!("password accepted ({})", scheme(*s)),
                (false, s) => format!("password REJECTED ({})", scheme(*s)),
            };
            Phrase::new(format!("OTA #{session_id}: {words}"), parties)
        }
        OtaDetails::Transfer(t) => transfer(t, flow),
    }
}

fn command_words(c: Command) -> &'static str {
    match c {
        Command::Flash => "flash",
        Command::Filesystem => "filesystem",
    }
}

fn transfer(t: &TransferDetails, flow: Option<&FlowFields>) -> Phrase {
    let (uploader, device) = uploader_device(flow);
    let fw = firmware_label(t.firmware.as_ref());
    let what = match t.command {
        Command::Flash => "firmware",
        Command::Filesystem => "filesystem image",
    };
    let words = match t.outcome {
        OtaOutcome::Complete => format!(
            "{fw}{} {device} from {uploader}, {}, {} in {}",
            match t.command {
                Command::Flash => "flashed",
                Command::Filesystem => "filesystem written to",
            },
            md5_words(t.md5_match),
            human_bytes(t.bytes),
            human_secs(t.duration_s)
        ),
        OtaOutcome::Aborted => format!(
            "{fw}{what} upload to {device} from {uploader} aborted after {} of {}",
            human_bytes(t.bytes),
            human_bytes(t.image_size)
        ),
        OtaOutcome::AuthFailed => format!(
            "{what} upload to {device} from {uploader} refused: wrong password ({})",
            t.auth_scheme.map_or("unknown scheme", scheme)
        ),
        OtaOutcome::Failed => format!(
            "{fw}{what} upload to {device} from {uploader} failed: {}",
            t.device_message.as_deref().unwrap_or("device error")
        ),
        OtaOutcome::NoConnect => {
            format!("{what} upload to {device} from {uploader}: the device never connected back")
        }
    };
    Phrase::new(words, None)
}

fn esphome(d: &EsphomeDetails, flow: Option<&FlowFields>) -> Phrase {
    let (uploader, device) = flow.map_or(("?".into(), "?".into()), |f| {
        (f.src_ip.to_string(), f.dest_ip.to_string())
    });
    let fw = firmware_label(d.firmware.as_ref());
    let size = d.image_size.map(u64::from).unwrap_or(d.bytes);
    let words = match d.outcome {
        OtaOutcome::Complete => format!(
            "{fw}flashed {device} from {uploader} (ESPHome), {}, {} in {}",
            md5_words(d.md5_match),
            human_bytes(d.bytes),
            human_secs(d.duration_s)
        ),
        OtaOutcome::Aborted => format!(
            "{fw}ESPHome upload to {device} from {uploader} aborted after {} of {}",
            human_bytes(d.bytes),
            human_bytes(size)
        ),
        OtaOutcome::AuthFailed => format!(
            "ESPHome upload to {device} from {uploader} refused: wrong password ({})",
            d.auth.map_or("unknown scheme", scheme)
        ),
        OtaOutcome::Failed => format!(
            "{fw}ESPHome upload to {device} from {uploader} failed: {}",
            d.error.or(d.malformed).unwrap_or("device error")
        ),
        OtaOutcome::NoConnect => {
            format!("ESPHome upload to {device} from {uploader}: no connection")
        }
    };
    Phrase::new(words, None)
}

fn device(d: &DeviceDetails) -> Phrase {
    match d {
        DeviceDetails::Announcement(a) => announcement(a),
        DeviceDetails::Inventory(e) => inventory_entry(e),
    }
}

fn password_words(auth_upload: Option<bool>) -> &'static str {
    match auth_upload {
        Some(true) => "password set",
        Some(false) => "NO password",
        None => "password unknown",
    }
}

fn announcement(a: &AnnouncementDetails) -> Phrase {
    let mut words = format!("{} announces {}", a.instance, a.service);
    if let Some(h) = a.hostname.as_deref().filter(|h| *h != a.instance) {
        words.push_str(&format!(" as {h}"));
    }
    if let Some(b) = &a.board {
        words.push_str(&format!(", board {b}"));
    }
    if a.service == "_arduino._tcp" || a.auth_upload.is_some() {
        words.push_str(&format!(", {}", password_words(a.auth_upload)));
    }
    if let Some(v) = a.vendor {
        words.push_str(&format!(", {v}"));
    }
    let port = a.ota_port.or(a.port);
    Phrase::new(words, Some(endpoint(a.address, port)))
}

fn inventory_entry(e: &DeviceEntry) -> Phrase {
    let mut words = match &e.hostname {
        Some(h) => format!("{h} "),
        None => String::new(),
    };
    if let Some(b) = &e.board {
        words.push_str(&format!("({b}) "));
    }
    let outcomes: Vec<String> = e
        .outcomes
        .iter()
        .map(|(o, n)| format!("{n} {}", o.as_str()))
        .collect();
    words.push_str(&format!("inventory: {} OTA session(s)", e.ota_sessions));
    if !outcomes.is_empty() {
        words.push_str(&format!(" ({})", outcomes.join(", ")));
    }
    if let Some(u) = &e.last_update {
        let fw: Vec<&str> = [u.project_name.as_deref(), u.version.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        words.push_str(&format!(
            ", last {} from {}",
            u.outcome.as_str(),
            u.uploader
        ));
        if !fw.is_empty() {
            words.push_str(&format!(" ({})", fw.join(" ")));
        }
    }
    if !e.auth_seen.is_empty() {
        let seen: Vec<&str> = e.auth_seen.iter().map(|s| scheme(*s)).collect();
        words.push_str(&format!(", auth {}", seen.join("/")));
    }
    Phrase::new(words, Some(e.address.to_string()))
}

fn mdt(d: &MdtDetails, flow: Option<&FlowFields>) -> Phrase {
    match d {
        MdtDetails::DefaultMdt(DefaultMdtDetails {
            pe,
            p_group,
            seen_via,
            ..
        }) => Phrase::new(
            format!(
                "PE {pe} is in default MDT {p_group} (seen via {})",
                match seen_via {
                    crate::event::mdt::SeenVia::Pim => "PIM",
                    crate::event::mdt::SeenVia::DataMdtJoin => "a Data-MDT Join",
                }
            ),
            None,
        ),
        MdtDetails::Pim(p) => pim(p, flow),
        MdtDetails::DataMdtJoin(j) => data_mdt_join(j),
        MdtDetails::Malformed(MalformedDetails {
            protocol,
            reason,
            error,
        }) => Phrase::new(
            format!(
                "malformed {} in the MDT ({reason}): {error}",
                match protocol {
                    crate::event::mdt::MalformedProtocol::Pim => "PIM",
                    crate::event::mdt::MalformedProtocol::DataMdtJoin => "Data-MDT Join",
                    crate::event::mdt::MalformedProtocol::Gre => "GRE",
                }
            ),
            flow_parties(flow),
        ),
        MdtDetails::Inventory(i) => mdt_inventory(i),
    }
}

fn in_mdt(p: &PimDetails) -> String {
    match (p.default_mdt, p.pe) {
        (Some(g), Some(pe)) => format!(" in MDT {g} via PE {pe}"),
        (Some(g), None) => format!(" in MDT {g}"),
        _ => String::new(),
    }
}

fn pim(p: &PimDetails, flow: Option<&FlowFields>) -> Phrase {
    let n = p.neighbor;
    let place = in_mdt(p);
    let words = match (p.pim_type, p.change) {
        ("hello", Some(change)) => match change {
            PimChange::New => format!("PIM neighbour {n} up{place}"),
            PimChange::Restart => {
                format!("PIM neighbour {n} RESTARTED{place} (generation ID changed)")
            }
            PimChange::Options => format!("PIM neighbour {n} changed its Hello options{place}"),
            PimChange::Leaving => format!("PIM neighbour {n} leaving{place}"),
            PimChange::Expired => format!("PIM neighbour {n} gone (holdtime ran out){place}"),
        },
        ("join_prune", _) => {
            let (joins, prunes) = p.join_prune.as_ref().map_or((0, 0), |j| {
                j.groups
                    .iter()
                    .fold((0, 0), |(a, b), g| (a + g.joins.len(), b + g.prunes.len()))
            });
            let groups = p.join_prune.as_ref().map_or(0, |j| j.groups.len());
            format!(
                "PIM Join/Prune from {n}{place}: {groups} group(s), {joins} join(s), {prunes} prune(s)"
            )
        }
        (t, _) => format!("PIM {t} from {n}{place}"),
    };
    Phrase::new(words, flow_parties(flow).filter(|_| p.pe.is_none()))
}

fn data_mdt_join(j: &DataMdtJoinDetails) -> Phrase {
    let pe = j.pe;
    let words = match (j.c_source, j.c_group, j.p_group) {
        (Some(s), Some(g), Some(p)) => match j.previous_p_group {
            Some(prev) => format!("PE {pe} moves C-({s}, {g}) from Data-MDT {prev} to {p}"),
            None => format!("PE {pe} switches C-({s}, {g}) to Data-MDT {p}"),
        },
        _ => format!(
            "PE {pe} sent a Data-MDT Join TLV of unknown type {} ({} bytes)",
            j.tlv_type,
            j.tlv_length.unwrap_or(0)
        ),
    };
    Phrase::new(words, None)
}

fn mdt_inventory(i: &Inventory) -> Phrase {
    let up = i
        .pim_neighbors
        .iter()
        .filter(|n| n.state == crate::event::mdt::NeighborState::Up)
        .count();
    Phrase::new(
        format!(
            "MDT inventory: {} PE(s), {} default MDT(s), {} PIM neighbour(s) ({up} up), {} Data-MDT mapping(s)",
            i.pes.len(),
            i.default_mdts.len(),
            i.pim_neighbors.len(),
            i.data_mdts.len()
        ),
        None,
    )
}

/// The alert kinds by name (an event carries its kind as a string).
const ALERT_KINDS: [AlertKind; 4] = [
    AlertKind::OtaUnauthenticated,
    AlertKind::OtaWeakAuth,
    AlertKind::OtaAuthBruteforce,
    AlertKind::OtaUnexpectedUploader,
];

/// An alert in words (its `detail` sentence, which names the addresses too, is for `-v`).
fn alert_words(kind: AlertKind, d: &AlertDetails) -> String {
    let scheme_name = d.auth_scheme.map_or("unknown scheme", scheme);
    match kind {
        AlertKind::OtaUnauthenticated => {
            "ALERT no OTA password: upload accepted without a challenge".into()
        }
        AlertKind::OtaWeakAuth => {
            format!("ALERT weak OTA auth ({scheme_name}): crackable offline from a capture")
        }
        AlertKind::OtaAuthBruteforce => format!(
            "ALERT OTA password guessing: {} failed answers{}",
            d.failures.unwrap_or(0),
            d.window_s
                .map_or(String::new(), |w| format!(" within {w} s"))
        ),
        AlertKind::OtaUnexpectedUploader => {
            "ALERT unexpected OTA uploader: not on the list of known uploaders".into()
        }
    }
}

fn alert(kind: &'static str, d: &AlertDetails) -> Phrase {
    let words = match ALERT_KINDS.into_iter().find(|k| k.as_str() == kind) {
        Some(k) => alert_words(k, d),
        None => format!("ALERT {kind}: {}", d.detail),
    };
    Phrase::new(words, Some(format!("{} → {}", d.uploader, d.device)))
}

fn guess_words(e: &Evidence) -> String {
    let Some(g) = e.protocol_guess else {
        return "unidentified".into();
    };
    let detail = match g {
        ProtocolGuess::Tls => e
            .tls
            .as_ref()
            .and_then(|t| t.client_hello.as_ref())
            .and_then(|c| c.sni.clone())
            .map(|sni| format!(" (SNI {sni})")),
        ProtocolGuess::Ssh => e.ssh.as_ref().map(|s| format!(" ({})", s.banner)),
        ProtocolGuess::Http => e
            .http
            .as_ref()
            .and_then(|h| h.request.as_ref())
            .map(|r| format!(" ({} {})", r.method, r.path)),
        ProtocolGuess::Dns => e
            .dns
            .as_ref()
            .and_then(|d| d.qname.clone())
            .map(|q| format!(" ({q})")),
        ProtocolGuess::Smb => e.smb.as_ref().map(|s| format!(" (SMB{})", s.version)),
        ProtocolGuess::EsphomeOta
        | ProtocolGuess::Text
        | ProtocolGuess::Binary
        | ProtocolGuess::Empty => None,
    };
    let name = match g {
        ProtocolGuess::Tls => "TLS",
        ProtocolGuess::Ssh => "SSH",
        ProtocolGuess::Http => "HTTP",
        ProtocolGuess::Dns => "DNS",
        ProtocolGuess::Smb => "SMB",
        ProtocolGuess::EsphomeOta => "ESPHome OTA",
        ProtocolGuess::Text => "text",
        ProtocolGuess::Binary => "binary",
        ProtocolGuess::Empty => "no payload",
    };
    format!("{name}{}", detail.unwrap_or_default())
}

fn anomaly(d: &AnomalyDetails, flow: Option<&FlowFields>) -> Phrase {
    let guess = guess_words(&d.evidence);
    let volume = d.summary.as_ref().map_or(String::new(), |s| {
        format!(
            ", {} pkts {}",
            s.pkts_toserver + s.pkts_toclient,
            human_bytes(s.bytes_toserver + s.bytes_toclient)
        )
    });
    let parties = flow_parties(flow);
    match d.reason {
        Reason::UnknownProtocol => {
            Phrase::new(format!("unknown protocol: {guess}{volume}"), parties)
        }
        Reason::MalformedOta => Phrase::new(
            format!(
                "malformed OTA: {}",
                d.error.as_deref().unwrap_or("does not parse")
            ),
            parties,
        ),
        Reason::MalformedMdt => Phrase::new(
            format!(
                "malformed MDT control: {}",
                d.error.as_deref().unwrap_or("does not parse")
            ),
            parties,
        ),
        Reason::UnexpectedTcpService => {
            Phrase::new(format!("unexpected service: {guess}{volume}"), parties)
        }
        Reason::Scan => match &d.scan {
            Some(s) => {
                let ports: Vec<String> = s.ports.iter().map(u16::to_string).collect();
                let tool = s.tool.map_or(String::new(), |t| format!(" by {t}"));
                let method = match s.kind {
                    ScanMethod::Syn => "SYN",
                    ScanMethod::Connect => "TCP connect",
                    ScanMethod::Udp => "UDP",
                    ScanMethod::Version => "version",
                };
                Phrase::new(
                    format!(
                        "{method} scan{tool} ({}): {} target(s) on {} host(s), port(s) {}, {} answered, in {}",
                        s.shape.as_str(),
                        s.target_count,
                        s.host_count,
                        ports.join(","),
                        s.answered,
                        human_secs(s.window_end.secs_since(s.window_start))
                    ),
                    Some(s.src_ip.to_string()),
                )
            }
            None => Phrase::new(format!("scan probe: {guess}"), parties),
        },
        Reason::Probe => Phrase::new(format!("single probe: {}", d.detail), parties),
        Reason::InteractiveSession => {
            let how = d.interactive.as_ref().map_or(String::new(), |i| {
                let first = i.evidence.first().map_or(String::new(), |sign| {
                    format!(", {} {:?}", sign.kind.as_str(), sign.quote)
                });
                let root = if i.root { ", root" } else { "" };
                let fetch = if i.download_exec {
                    ", download and execute"
                } else {
                    ""
                };
                format!(
                    ", {} turns{root}{fetch}{first}, {} sign(s)",
                    i.turns,
                    i.evidence.len()
                )
            });
            Phrase::new(format!("interactive session: {guess}{how}"), parties)
        }
        Reason::Beacon => {
            let how = d.beacon.as_ref().map_or(String::new(), |b| {
                format!(
                    " every {} (jitter {}), {} {}",
                    human_secs(b.period_s),
                    human_secs(b.jitter_s),
                    b.count,
                    if b.across_flows {
                        "connections"
                    } else {
                        "sends"
                    }
                )
            });
            Phrase::new(format!("beacon: {guess}{how}"), parties)
        }
    }
}

const STATS_KINDS: [StatsKind; 2] = [StatsKind::Summary, StatsKind::Periodic];

fn stats(kind: &str, s: &StatsDetails) -> Phrase {
    let which = STATS_KINDS.into_iter().find(|k| k.as_str() == kind);
    let events: u64 = s.events.values().sum();
    let lead = match which {
        Some(StatsKind::Summary) | None => "run summary",
        Some(StatsKind::Periodic) => "so far",
    };
    Phrase::new(
        format!(
            "{lead}: {} packets ({}), {} of interest, {} flows, {events} events, {} not decoded",
            s.packets,
            human_bytes(s.bytes),
            s.interesting_packets,
            s.flows.created,
            s.decode_errors
        ),
        None,
    )
}
