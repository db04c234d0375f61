//! ESPHome native OTA (shared/docs/arduino-ota.md §3.3): the uploader (`espota2.py`) connects
//! to the device's TCP OTA port and opens with the magic `6C 26 F7 5C 45`. Such flows are
//! claimed (never anomalies) and reported once, at their end, as an `esphome_ota` `session`.
//! With `--extract-firmware` the upload's bytes are kept (bounded) and written like an
//! ArduinoOTA image.

pub mod parser;
pub mod probe;

use super::ota::alert::AlertSubject;
use super::ota::{firmware, round6, OtaConfig};
use super::{AppState, Classifier, Context, Flow, Interest, Pkt, Verdict};
use crate::aggregate::Observation;
use crate::decode::{TcpFlags, Transport};
use crate::event::alert::AlertKind;
use crate::event::device::LastUpdate;
use crate::event::esphome::{EsphomeDetails, EsphomeKind};
use crate::event::{AuthScheme, Body, OtaOutcome, OtaProtocol, Severity};
use crate::flow::reasm::Stream;
use crate::flow::RemovedBy;
use crate::time::Timestamp;
use std::net::IpAddr;

/// Per-flow state.
#[derive(Debug)]
pub struct EsphomeFlow {
    /// The uploader's address and port (it connects to the device).
    client: (IpAddr, u16),
    up: Stream,
    down: Stream,
    session: parser::Session,
    started: Timestamp,
    fin: [bool; 2],
    finished: bool,
    device_mac: Option<[u8; 6]>,
}

pub struct Esphome {
    ports: Vec<u16>,
    max_ooo: usize,
    extract_dir: Option<std::path::PathBuf>,
    max_firmware_bytes: usize,
}

impl Esphome {
    pub fn new(c: &OtaConfig) -> Self {
        Esphome {
            ports: c.esphome_ports.clone(),
            max_ooo: c.max_out_of_order_bytes,
            extract_dir: c.extract_dir.clone(),
            max_firmware_bytes: usize::try_from(c.max_firmware_bytes).unwrap_or(usize::MAX),
        }
    }

    fn report(
        &mut self,
        cx: &mut Context<'_>,
        flow: &mut Flow,
        ts: Timestamp,
        pcap_cnt: Option<u64>,
    ) {
        let AppState::Esphome(st) = &mut flow.app else {
            return;
        };
        if st.finished {
            return;
        }
        st.finished = true;
        let s = &st.session;
        let client = st.client;
        let compressed = s.header == Some(0x46)
            && s.features
                .is_some_and(|f| f & parser::FEATURE_COMPRESSION != 0)
            || s.server_flags.is_some_and(|f| f & 0x01 != 0)
                && s.features
                    .is_some_and(|f| f & parser::FEATURE_COMPRESSION != 0);
        let whole = s.image_size.is_some_and(|n| u64::from(n) == s.bytes) && !st.up.has_gap();
        let received = (s.bytes > 0).then(|| s.received_md5());
        // Only an upload that began has an image to extract (or to miss).
        let extracted = match &self.extract_dir {
            Some(dir) if s.image_size.is_some() || s.bytes > 0 => {
                let image = if whole { st.session.image.take() } else { None };
                let s = &st.session;
                let what = format!(
                    "ESPHome upload from {}:{} (flow {})",
                    client.0, client.1, flow.id
                );
                let (shown, how) = super::ota::extract::queue_image(
                    cx,
                    dir,
                    image,
                    received.as_deref(),
                    s.image_over_cap,
                    &what,
                );
                let c = &mut cx.counters.esphome_ota;
                how.count([
                    &mut c.firmware_extracted,
                    &mut c.firmware_not_extracted,
                    &mut c.firmware_write_errors,
                ]);
                Some(shown)
            }
            _ => None,
        };
        let s = &st.session;
        let details = EsphomeDetails {
            ota_version: s.version,
            features: s.features,
            server_flags: s.server_flags.or(s.header),
            auth: s.auth,
            nonce: s.nonce.clone(),
            cnonce: s.cnonce.clone(),
            response: s.response.clone(),
            accepted: s.accepted,
            outcome: s.outcome(),
            ota_type: s.ota_type,
            image_size: s.image_size,
            image_md5: s.image_md5.clone(),
            bytes: s.bytes,
            md5_match: if whole {
                received
                    .as_deref()
                    .zip(s.image_md5.as_deref())
                    .map(|(a, b)| a == b)
            } else {
                None
            },
            received_md5: received,
            compressed,
            chunk_acks: s.chunk_acks,
            error_code: s.error,
            error: s.error.map(parser::error_name),
            duration_s: round6(flow.last_seen.secs_since(st.started)),
            firmware: (!s.head.is_empty()).then(|| firmware::parse(&s.head)),
            malformed: s.malformed,
            extracted,
            firmware_over_cap: s.image_over_cap,
        };
        let auth = s.auth;
        let accepted = s.accepted;
        let severity = if details.outcome == OtaOutcome::Complete {
            Severity::Info
        } else {
            Severity::Low
        };
        let reverse = !(flow.endpoints.src == client.0 && flow.endpoints.src_port == client.1);
        let device = if reverse {
            flow.endpoints.src
        } else {
            flow.endpoints.dst
        };
        {
            let fw = details.firmware.as_ref();
            let update = LastUpdate {
                timestamp: ts,
                protocol: OtaProtocol::EsphomeOta,
                outcome: details.outcome,
                uploader: client.0,
                image_md5: details.image_md5.clone(),
                project_name: fw.and_then(|f| f.project_name.clone()),
                version: fw.and_then(|f| f.version.clone()),
            };
            let port = if reverse {
                flow.endpoints.src_port
            } else {
                flow.endpoints.dst_port
            };
            cx.observe(super::device::device_seen(device, st.device_mac, ts));
            cx.observe(Observation::DeviceSession {
                device,
                port,
                auth: details.auth,
                update: Box::new(update),
            });
        }
        cx.counters.esphome_ota.sessions += 1;
        cx.emit_flow_event(
            ts,
            pcap_cnt,
            flow,
            reverse,
            EsphomeKind::Session,
            severity,
            Body::EsphomeOta(Box::new(details)),
        );
        let subject = AlertSubject {
            protocol: OtaProtocol::EsphomeOta,
            session_id: None,
            flow_id: Some(flow.id),
            uploader: client.0,
            device,
        };
        let alert = |detail: String, scheme| subject.details(detail, Some(scheme));
        let mut alerts = Vec::new();
        match auth {
            Some(AuthScheme::None) => alerts.push((
                AlertKind::OtaUnauthenticated,
                Severity::Medium,
                alert(format!("ESPHome device {device} took an OTA upload from {} without a password", client.0), AuthScheme::None),
            )),
            Some(AuthScheme::Md5) => alerts.push((
                AlertKind::OtaWeakAuth,
                Severity::Low,
                alert(format!("ESPHome device {device} uses MD5 OTA authentication (offline brute-force possible)"), AuthScheme::Md5),
            )),
            _ => {}
        }
        let failed = (accepted == Some(false))
            .then(|| alert(String::new(), auth.unwrap_or(AuthScheme::Unknown)));
        for (kind, sev, a) in alerts {
            cx.emit_flow_event(ts, pcap_cnt, flow, reverse, kind, sev, Body::Alert(a));
        }
        if let Some(a) = failed {
            // The tracker spans every device of the uploader: the aggregator's.
            let template = cx.flow_event(
                ts,
                pcap_cnt,
                flow,
                reverse,
                AlertKind::OtaAuthBruteforce,
                Severity::High,
                Body::Alert(a),
            );
            cx.observe(Observation::AuthFailure {
                uploader: client.0,
                device_port: 0,
                alert: Box::new(template),
            });
        }
    }
}

impl Classifier for Esphome {
    fn name(&self) -> &'static str {
        "esphome_ota"
    }

    fn interests(&self, interest: &mut Interest) {
        for &p in &self.ports {
            interest.add_tcp_port(p);
        }
    }

    fn on_packet(&mut self, cx: &mut Context<'_>, pkt: &Pkt<'_>, flow: &mut Flow) -> Verdict {
        let Transport::Tcp(tcp) = pkt.decoded.transport else {
            return Verdict::Decline;
        };
        let src = (pkt.decoded.net.src, tcp.src_port);
        if !matches!(flow.app, AppState::Esphome(_)) {
            if tcp.payload.is_empty() {
                return Verdict::Undecided;
            }
            // The uploader speaks first, to a device OTA port.
            if !self.ports.contains(&tcp.dst_port)
                || parser::magic_prefix(tcp.payload) != Some(true)
            {
                return if parser::magic_prefix(tcp.payload).is_none()
                    && self.ports.contains(&tcp.dst_port)
                {
                    Verdict::Undecided
                } else {
                    Verdict::Decline
                };
            }
            cx.counters.esphome_ota.flows += 1;
            let mut session = parser::Session::default();
            if self.extract_dir.is_some() {
                session.keep_image(self.max_firmware_bytes);
            }
            flow.app = AppState::Esphome(Box::new(EsphomeFlow {
                client: src,
                up: Stream::new(self.max_ooo),
                down: Stream::new(64 * 1024),
                session,
                started: flow.first_seen,
                fin: [false; 2],
                finished: false,
                device_mac: None,
            }));
        }
        let AppState::Esphome(st) = &mut flow.app else {
            return Verdict::Decline;
        };
        if st.finished {
            return Verdict::Claim;
        }
        let from_client = src == st.client;
        let EsphomeFlow {
            up,
            down,
            session,
            fin,
            ..
        } = &mut **st;
        if from_client {
            up.segment(tcp.seq, tcp.payload, &mut |b| session.client_bytes(b));
        } else {
            down.segment(tcp.seq, tcp.payload, &mut |b| session.device_bytes(b));
        }
        if tcp.flags.has(TcpFlags::FIN) {
            fin[usize::from(!from_client)] = true;
        }
        if tcp.flags.has(TcpFlags::RST) || fin[0] && fin[1] {
            self.report(cx, flow, pkt.ts, Some(pkt.index));
        }
        Verdict::Claim
    }

    fn on_flow_end(&mut self, cx: &mut Context<'_>, flow: &mut Flow, _by: RemovedBy) {
        if matches!(flow.app, AppState::Esphome(_)) {
            let last = flow.last_seen;
            self.report(cx, flow, last, None);
        }
    }
}
