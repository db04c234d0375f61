//! ArduinoOTA ("espota"): ESP32 (UDP 3232), ESP8266 (8266) and RP2040 (2040) firmware updates.
//!
//! `parser` reads the UDP messages (`probe` tells an attempt at one); `session` ties the invitation, the challenge, the answer
//! (from any source port) and the device's verdict into one session; `transfer` follows the
//! device's TCP connection back to the uploader (`acks`; reassembly is `flow::reasm`, the image
//! parser `ota::firmware`). Facts: shared/docs/arduino-ota.md.

pub mod acks;
pub mod parser;
pub mod probe;
pub mod session;
pub mod transfer;

use super::ota::alert::AlertSubject;
use super::ota::{round6, OtaConfig};

use super::{Classifier, Context, Flow, Interest, Pkt, Verdict};
use crate::aggregate::Observation;
use crate::decimal::{ip_port, push_ip};
use crate::decode::Transport;
use crate::event::alert::{AlertDetails, AlertKind};
use crate::event::arduino_ota::{
    AuthChallengeDetails, AuthResultDetails, InvitationDetails, OtaDetails, OtaKind,
    TransferDetails,
};
use crate::event::device::LastUpdate;
use crate::event::{AuthScheme as ReportedScheme, OtaOutcome, OtaProtocol};
use crate::event::{Body, Event, Severity};
use crate::flow::RemovedBy;
use crate::time::Timestamp;
use parser::{parse_auth_answer, parse_device_reply, parse_invitation, AuthScheme, DeviceReply};
use session::{FlowRef, Hold, Session, SessionKey, Sessions, Stage};
use transfer::{TransferFlow, TransferSummary};

/// What we know of one espota flow: a UDP exchange, or the TCP connection back.
#[derive(Debug, Default)]
pub struct OtaFlow {
    pub invitations: u32,
    pub device_replies: u32,
    pub auth_answers: u32,
    pub last_invitation: Option<InvitationDetails>,
    /// Set on the device's TCP connection back to the uploader.
    pub transfer: Option<Box<TransferFlow>>,
}

pub struct ArduinoOta {
    ports: Vec<u16>,
    cfg: OtaConfig,
    sessions: Sessions,
}

impl ArduinoOta {
    /// `ports`: the UDP ports devices listen on.
    pub fn new(ports: &[u16], config: &OtaConfig) -> Self {
        let cfg = config.clone();
        ArduinoOta {
            ports: ports.to_vec(),
            sessions: Sessions::new(
                cfg.max_sessions,
                std::time::Duration::from_secs(cfg.session_timeout_secs),
                cfg.session_ids,
            ),
            cfg,
        }
    }

    fn is_device_port(&self, port: u16) -> bool {
        self.ports.contains(&port)
    }
}

fn state(flow: &mut Flow) -> &mut OtaFlow {
    if !matches!(flow.app, super::AppState::ArduinoOta(_)) {
        flow.app = super::AppState::ArduinoOta(Box::default());
    }
    match &mut flow.app {
        super::AppState::ArduinoOta(s) => s,
        _ => unreachable!("set just above"),
    }
}

/// Whether `flow` must be reversed to read uploader → device.
fn towards_device(flow: &Flow, key: &SessionKey) -> bool {
    !(flow.endpoints.dst == key.device && flow.endpoints.dst_port == key.device_port)
}

impl ArduinoOta {
    #[allow(clippy::too_many_arguments)]
    fn alert(
        &self,
        cx: &mut Context<'_>,
        pkt: &Pkt<'_>,
        flow: &mut Flow,
        reverse: bool,
        kind: AlertKind,
        severity: Severity,
        details: AlertDetails,
    ) {
        cx.counters.arduino_ota.alerts += 1;
        cx.emit_flow_event(
            pkt.ts,
            Some(pkt.index),
            flow,
            reverse,
            kind,
            severity,
            Body::Alert(details),
        );
    }

    fn on_invitation(
        &mut self,
        cx: &mut Context<'_>,
        pkt: &Pkt<'_>,
        flow: &mut Flow,
        inv: parser::Invitation<'_>,
    ) {
        let (uploader, device) = (pkt.decoded.net.src, pkt.decoded.net.dst);
        let Some((_, device_port)) = pkt.decoded.ports() else {
            return;
        };
        let key = SessionKey {
            uploader,
            device,
            device_port,
        };
        let md5 = inv.image_md5.to_ascii_lowercase();
        // A retry of the same upload (espota: fresh socket per try; 3.3.1+: a new invitation
        // after a failed PBKDF2 answer, §1.5) continues the session.
        let is_retry = self.sessions.get(&key).is_some_and(|s| {
            s.invitation.host_port == inv.host_port
                && s.invitation.image_size == inv.image_size
                && s.invitation.image_md5 == md5
                && s.stage != Stage::Accepted
        });
        let retry = if is_retry {
            self.sessions.touch(&key, pkt.ts)
        } else {
            None
        };
        let session_id = if let Some(s) = retry {
            s.invitations += 1;
            s.stage = Stage::Invited;
            s.last_pcap_cnt = pkt.index;
            s.id
        } else {
            if let Some(old) = self.sessions.remove(&key) {
                self.end_session(cx, old, pkt.ts);
            }
            let id = self.sessions.alloc_id();
            let reverse = towards_device(flow, &key);
            let udp = FlowRef {
                flow_id: flow.id,
                fields: flow.fields_oriented(cx.config.community_id_seed, reverse),
                tunnel: flow
                    .tunnel
                    .as_deref()
                    .copied()
                    .map(crate::classify::tunnel_fields),
            };
            let invitation = InvitationDetails {
                command: inv.command,
                host_port: inv.host_port,
                image_size: inv.image_size,
                image_md5: md5,
                session_id: id,
            };
            cx.counters.arduino_ota.sessions += 1;
            let evicted = self.sessions.insert(Session {
                id,
                key,
                invitation,
                invitations: 1,
                stage: Stage::Invited,
                auth_scheme: None,
                unauthenticated: false,
                auth_failures: 0,
                weak_auth_reported: false,
                started: pkt.ts,
                last_seen: pkt.ts,
                last_pcap_cnt: pkt.index,
                udp,
                holds_connect_back: false,
            });
            if let Some(old) = evicted {
                cx.counters.arduino_ota.sessions_evicted += 1;
                self.end_session(cx, old, pkt.ts);
            }
            id
        };
        let details = InvitationDetails {
            command: inv.command,
            host_port: inv.host_port,
            image_size: inv.image_size,
            image_md5: inv.image_md5.to_ascii_lowercase(),
            session_id,
        };
        let st = state(flow);
        st.invitations += 1;
        st.last_invitation = Some(details.clone());
        let reverse = towards_device(flow, &key);
        cx.counters.arduino_ota.invitations += 1;
        cx.emit_flow_event(
            pkt.ts,
            Some(pkt.index),
            flow,
            reverse,
            OtaKind::Invitation,
            Severity::Info,
            Body::ArduinoOta(OtaDetails::Invitation(details)),
        );
        if let Some(allow) = &self.cfg.uploader_allowlist {
            if !allow.contains(&uploader) {
                let subject = AlertSubject {
                    protocol: OtaProtocol::ArduinoOta,
                    session_id: Some(session_id),
                    flow_id: Some(flow.id),
                    uploader,
                    device,
                };
                let d = subject.details(format!("{uploader} is not an allowed OTA uploader; it invited {device}:{device_port} to take a firmware image"), None);
                self.alert(
                    cx,
                    pkt,
                    flow,
                    reverse,
                    AlertKind::OtaUnexpectedUploader,
                    Severity::Medium,
                    d,
                );
            }
        }
    }

    fn on_answer(&mut self, cx: &mut Context<'_>, pkt: &Pkt<'_>, answer: parser::AuthAnswer<'_>) {
        let Some((_, device_port)) = pkt.decoded.ports() else {
            return;
        };
        let key = SessionKey {
            uploader: pkt.decoded.net.src,
            device: pkt.decoded.net.dst,
            device_port,
        };
        let Some(s) = self.sessions.touch(&key, pkt.ts) else {
            cx.counters.arduino_ota.orphan_auth_answers += 1;
            return;
        };
        s.last_pcap_cnt = pkt.index;
        s.stage = Stage::Answered {
            scheme: answer.scheme,
            cnonce: answer.cnonce.to_string(),
            response: answer.response.to_string(),
        };
    }

    fn on_reply(
        &mut self,
        cx: &mut Context<'_>,
        pkt: &Pkt<'_>,
        flow: &mut Flow,
        reply: DeviceReply<'_>,
    ) {
        let Some((device_port, _)) = pkt.decoded.ports() else {
            return;
        };
        let key = SessionKey {
            uploader: pkt.decoded.net.dst,
            device: pkt.decoded.net.src,
            device_port,
        };
        let reverse = towards_device(flow, &key);
        cx.observe(super::device::device_seen(
            key.device,
            pkt.decoded.link.src_mac,
            pkt.ts,
        ));
        if matches!(reply, DeviceReply::Ok | DeviceReply::Auth { .. })
            && self.sessions.hold(&key, cx.interest) == Hold::OverBound
        {
            cx.counters.arduino_ota.connect_backs_not_held += 1;
            tracing::debug!(
                device = %key.device,
                held = self.sessions.held(),
                "connect-back not followed: too many held"
            );
        }
        let Some(s) = self.sessions.touch(&key, pkt.ts) else {
            cx.counters.arduino_ota.orphan_replies += 1;
            return;
        };
        s.last_pcap_cnt = pkt.index;
        let session_id = s.id;
        let flow_id = flow.id;
        let subject = AlertSubject {
            protocol: OtaProtocol::ArduinoOta,
            session_id: Some(session_id),
            flow_id: Some(flow_id),
            uploader: key.uploader,
            device: key.device,
        };
        let alert =
            |detail: String, scheme: Option<ReportedScheme>| subject.details(detail, scheme);
        match reply {
            DeviceReply::Auth { scheme, nonce } => {
                s.stage = Stage::Challenged {
                    scheme,
                    nonce: nonce.to_ascii_lowercase(),
                };
                s.auth_scheme = Some(scheme);
                let weak = scheme == AuthScheme::Md5 && !s.weak_auth_reported;
                s.weak_auth_reported |= weak;
                let details = AuthChallengeDetails {
                    session_id,
                    auth_scheme: scheme.reported(),
                    nonce: nonce.to_ascii_lowercase(),
                };
                cx.emit_flow_event(
                    pkt.ts,
                    Some(pkt.index),
                    flow,
                    reverse,
                    OtaKind::AuthChallenge,
                    Severity::Info,
                    Body::ArduinoOta(OtaDetails::AuthChallenge(details)),
                );
                if weak {
                    let mut detail = ip_port(key.device, key.device_port);
                    detail.push_str(" challenged with an MD5-era nonce: one captured exchange lets anyone brute-force the OTA password offline");
                    let a = alert(detail, Some(ReportedScheme::Md5));
                    self.alert(
                        cx,
                        pkt,
                        flow,
                        reverse,
                        AlertKind::OtaWeakAuth,
                        Severity::Low,
                        a,
                    );
                }
            }
            DeviceReply::Ok => {
                let previous = std::mem::replace(&mut s.stage, Stage::Accepted);
                let details = match previous {
                    Stage::Answered {
                        scheme,
                        cnonce,
                        response,
                    } => AuthResultDetails {
                        session_id,
                        auth_scheme: scheme.reported(),
                        accepted: true,
                        cnonce: Some(cnonce),
                        response: Some(response),
                    },
                    Stage::Invited => {
                        s.unauthenticated = true;
                        AuthResultDetails {
                            session_id,
                            auth_scheme: ReportedScheme::None,
                            accepted: true,
                            cnonce: None,
                            response: None,
                        }
                    }
                    other => {
                        // A repeated OK, or OK without the answer in the capture.
                        if other != Stage::Accepted {
                            cx.counters.arduino_ota.unexpected_ok += 1;
                        }
                        return;
                    }
                };
                let unauthenticated = details.auth_scheme == ReportedScheme::None;
                cx.emit_flow_event(
                    pkt.ts,
                    Some(pkt.index),
                    flow,
                    reverse,
                    OtaKind::AuthResult,
                    Severity::Info,
                    Body::ArduinoOta(OtaDetails::AuthResult(details)),
                );
                if unauthenticated {
                    let mut detail = ip_port(key.device, key.device_port);
                    detail.push_str(" accepted a firmware invitation from ");
                    push_ip(&mut detail, key.uploader);
                    detail.push_str(" without any password challenge");
                    let a = alert(detail, Some(ReportedScheme::None));
                    self.alert(
                        cx,
                        pkt,
                        flow,
                        reverse,
                        AlertKind::OtaUnauthenticated,
                        Severity::Medium,
                        a,
                    );
                }
            }
            DeviceReply::AuthFailed => {
                let previous = std::mem::replace(&mut s.stage, Stage::AuthFailed);
                s.auth_failures += 1;
                let (scheme, cnonce, response) = match previous {
                    Stage::Answered {
                        scheme,
                        cnonce,
                        response,
                    } => (scheme.reported(), Some(cnonce), Some(response)),
                    _ => (
                        s.auth_scheme
                            .map_or(ReportedScheme::Unknown, AuthScheme::reported),
                        None,
                        None,
                    ),
                };
                let details = AuthResultDetails {
                    session_id,
                    auth_scheme: scheme,
                    accepted: false,
                    cnonce,
                    response,
                };
                cx.emit_flow_event(
                    pkt.ts,
                    Some(pkt.index),
                    flow,
                    reverse,
                    OtaKind::AuthResult,
                    Severity::Low,
                    Body::ArduinoOta(OtaDetails::AuthResult(details)),
                );
                // The tracker spans every device of the uploader: the aggregator's.
                let template = cx.flow_event(
                    pkt.ts,
                    Some(pkt.index),
                    flow,
                    reverse,
                    AlertKind::OtaAuthBruteforce,
                    Severity::High,
                    Body::Alert(alert(String::new(), Some(scheme))),
                );
                cx.observe(Observation::AuthFailure {
                    uploader: key.uploader,
                    device_port: key.device_port,
                    alert: Box::new(template),
                });
            }
            DeviceReply::Error(text) => {
                s.stage = Stage::DeviceError(format!("ERR: {text}"));
            }
        }
    }

    /// The device's TCP connection back to `uploader:host_port` (§1.1 step 6).
    fn on_tcp(&mut self, cx: &mut Context<'_>, pkt: &Pkt<'_>, flow: &mut Flow) -> Verdict {
        let Transport::Tcp(tcp) = pkt.decoded.transport else {
            return Verdict::Decline;
        };
        let (src, dst) = (pkt.decoded.net.src, pkt.decoded.net.dst);
        let has_transfer =
            matches!(&flow.app, super::AppState::ArduinoOta(st) if st.transfer.is_some());
        if !has_transfer {
            // Device → uploader (the SYN), or uploader → device if the capture began later.
            let found = self
                .sessions
                .expecting(src, dst, tcp.dst_port)
                .map(|k| (k, (dst, tcp.dst_port)))
                .or_else(|| {
                    self.sessions
                        .expecting(dst, src, tcp.src_port)
                        .map(|k| (k, (src, tcp.src_port)))
                });
            let Some((key, uploader)) = found else {
                return Verdict::Decline;
            };
            let Some(session) = self.sessions.remove(&key) else {
                return Verdict::Decline;
            };
            cx.counters.arduino_ota.connect_backs += 1;
            let keep = self.cfg.extract_dir.is_some();
            let tf = TransferFlow::new(
                Box::new(session),
                uploader,
                pkt.ts,
                keep,
                self.cfg.max_firmware_bytes,
                self.cfg.max_out_of_order_bytes,
            );
            state(flow).transfer = Some(Box::new(tf));
        }
        let st = state(flow);
        let Some(tf) = st.transfer.as_mut() else {
            return Verdict::Decline;
        };
        if tf.finished {
            cx.counters.arduino_ota.packets_after_transfer += 1;
            return Verdict::Claim;
        }
        if tf.packet((src, tcp.src_port), &tcp, pkt.ts) {
            self.end_transfer(cx, flow, pkt.ts, Some(pkt.index));
        }
        Verdict::Claim
    }

    /// Writes the `transfer` event of a TCP connect-back (once).
    fn end_transfer(
        &mut self,
        cx: &mut Context<'_>,
        flow: &mut Flow,
        ts: Timestamp,
        pcap_cnt: Option<u64>,
    ) {
        let flow_id = flow.id;
        let st = state(flow);
        let Some(tf) = st.transfer.as_mut() else {
            return;
        };
        if tf.finished {
            return;
        }
        tf.finished = true;
        let inv = tf.session.invitation.clone();
        let summary = tf.summary(inv.image_size, &inv.image_md5);
        let image = tf.take_image(inv.image_size);
        let over_cap = tf.over_cap;
        let uploader = tf.uploader;
        let mut details = transfer_details(&tf.session, Some(summary), Some(flow_id));
        details.firmware_over_cap = over_cap;
        if let Some(dir) = &self.cfg.extract_dir {
            details.extracted = Some(extract(
                cx,
                dir,
                image,
                details.received_md5.as_deref(),
                over_cap,
            ));
        }
        let severity = if details.outcome == OtaOutcome::Complete {
            Severity::Info
        } else {
            Severity::Low
        };
        if let super::AppState::ArduinoOta(st) = &flow.app {
            if let Some(tf) = &st.transfer {
                record(cx, &tf.session, &details, ts);
            }
        }
        // Flow fields of the device's connection: the device first (EVENTS.md).
        let reverse = flow.endpoints.src == uploader.0 && flow.endpoints.src_port == uploader.1;
        cx.counters.arduino_ota.transfers += 1;
        cx.emit_flow_event(
            ts,
            pcap_cnt,
            flow,
            reverse,
            OtaKind::Transfer,
            severity,
            Body::ArduinoOta(OtaDetails::Transfer(Box::new(details))),
        );
    }

    /// A session that ended before any TCP connection: its `transfer` event, written against
    /// the invitation's UDP flow.
    fn end_session(&mut self, cx: &mut Context<'_>, mut s: Session, _now: Timestamp) {
        self.sessions.release(&mut s, cx.interest);
        let details = transfer_details(&s, None, None);
        record(cx, &s, &details, s.last_seen);
        cx.counters.arduino_ota.transfers += 1;
        let event = Event {
            timestamp: s.last_seen,
            flow_id: Some(s.udp.flow_id),
            origin: cx.origin.clone(),
            pcap_cnt: Some(s.last_pcap_cnt),
            event_type: "arduino_ota",
            kind: "transfer",
            severity: Severity::Low,
            parties: None,
            flow: Some(s.udp.fields),
            tunnel: s.udp.tunnel,
            body: Body::ArduinoOta(OtaDetails::Transfer(Box::new(details))),
        };
        cx.emit(event);
    }
}

/// Tells the device inventory how a session ended.
fn record(cx: &mut Context<'_>, s: &Session, d: &TransferDetails, ts: Timestamp) {
    let fw = d.firmware.as_ref();
    let update = LastUpdate {
        timestamp: ts,
        protocol: OtaProtocol::ArduinoOta,
        outcome: d.outcome,
        uploader: s.key.uploader,
        image_md5: Some(d.image_md5.clone()),
        project_name: fw.and_then(|f| f.project_name.clone()),
        version: fw.and_then(|f| f.version.clone()),
    };
    cx.observe(Observation::DeviceSession {
        device: s.key.device,
        port: s.key.device_port,
        auth: d.auth_scheme,
        update: Box::new(update),
    });
}

/// The `transfer` details from a session and, when the device connected, its stream.
fn transfer_details(
    s: &Session,
    tcp: Option<TransferSummary>,
    tcp_flow_id: Option<u64>,
) -> TransferDetails {
    let (outcome, message) = match (&tcp, &s.stage) {
        (Some(t), _) => (t.outcome, t.device_message.clone()),
        (None, Stage::AuthFailed) => (OtaOutcome::AuthFailed, None),
        (None, Stage::DeviceError(text)) => (OtaOutcome::Failed, Some(text.clone())),
        (None, _) => (OtaOutcome::NoConnect, None),
    };
    let inv = &s.invitation;
    let t = tcp.as_ref();
    TransferDetails {
        session_id: s.id,
        outcome,
        command: inv.command,
        bytes: t.map_or(0, |t| t.bytes),
        image_size: inv.image_size,
        acked_bytes: t.map_or(0, |t| t.acked_bytes),
        image_md5: inv.image_md5.clone(),
        received_md5: t.and_then(|t| t.received_md5.clone()),
        md5_match: t.and_then(|t| t.md5_match),
        device_message: message,
        duration_s: t.map_or_else(
            || round6(s.last_seen.secs_since(s.started)),
            |t| t.duration_s,
        ),
        throughput_bps: t.and_then(|t| t.throughput_bps),
        firmware: t.and_then(|t| t.firmware.clone()),
        auth_scheme: s.reported_scheme(),
        invitations: s.invitations,
        auth_failures: s.auth_failures,
        invitation_flow_id: s.udp.flow_id,
        transfer_flow_id: tcp_flow_id,
        host_port: inv.host_port,
        retransmitted_bytes: t.map_or(0, |t| t.retransmitted_bytes),
        out_of_order_segments: t.map_or(0, |t| t.out_of_order_segments),
        stream_gaps: t.is_some_and(|t| t.stream_gaps),
        unparsed_acks: t.map_or(0, |t| t.unparsed_acks),
        extracted: None,
        firmware_over_cap: false,
    }
}

/// Queues a whole image as `DIR/<md5>.bin` for the driver to write; returns the path, or why
/// nothing will be written. A failed write is reported by [`firmware_not_written`].
fn extract(
    cx: &mut Context<'_>,
    dir: &std::path::Path,
    image: Option<Vec<u8>>,
    md5: Option<&str>,
    over_cap: bool,
) -> String {
    let (shown, how) =
        super::ota::extract::queue_image(cx, dir, image, md5, over_cap, &"ArduinoOTA transfer");
    let c = &mut cx.counters.arduino_ota;
    how.count([
        &mut c.firmware_extracted,
        &mut c.firmware_not_extracted,
        &mut c.firmware_write_errors,
    ]);
    shown
}

impl Classifier for ArduinoOta {
    fn name(&self) -> &'static str {
        "arduino_ota"
    }

    fn interests(&self, interest: &mut Interest) {
        for &p in &self.ports {
            interest.add_udp_port(p);
        }
    }

    fn on_packet(&mut self, cx: &mut Context<'_>, pkt: &Pkt<'_>, flow: &mut Flow) -> Verdict {
        let udp = match pkt.decoded.transport {
            Transport::Udp(udp) => udp,
            Transport::Tcp(_) => return self.on_tcp(cx, pkt, flow),
            _ => return Verdict::Decline,
        };
        let ours = flow.owner.is_some();
        if self.is_device_port(udp.dst_port) {
            if let Ok(inv) = parse_invitation(udp.payload) {
                self.on_invitation(cx, pkt, flow, inv);
                return Verdict::Claim;
            }
            if let Some(answer) = parse_auth_answer(udp.payload) {
                state(flow).auth_answers += 1;
                cx.counters.arduino_ota.auth_answers += 1;
                self.on_answer(cx, pkt, answer);
                return Verdict::Claim;
            }
        }
        if self.is_device_port(udp.src_port) {
            if let Ok(reply) = parse_device_reply(udp.payload) {
                state(flow).device_replies += 1;
                let replies = &mut cx.counters.arduino_ota;
                *match reply {
                    DeviceReply::Ok => &mut replies.replies_ok,
                    DeviceReply::Auth { .. } => &mut replies.replies_auth,
                    DeviceReply::AuthFailed => &mut replies.replies_auth_failed,
                    DeviceReply::Error(_) => &mut replies.replies_error,
                } += 1;
                self.on_reply(cx, pkt, flow, reply);
                return Verdict::Claim;
            }
        }
        if !ours && self.is_device_port(udp.dst_port) && probe::looks_like_invitation(udp.payload) {
            if let Err(e) = parse_invitation(udp.payload) {
                cx.counters.arduino_ota.malformed_invitations += 1;
                flow.malformed = Some(Box::new(super::Malformed {
                    protocol: super::Resembled::ArduinoOta,
                    error: e.to_string(),
                }));
            }
        }
        if ours {
            // Something else inside an espota exchange: keep the flow, count the oddity.
            cx.counters.arduino_ota.unrecognised_packets += 1;
            Verdict::Claim
        } else {
            Verdict::Decline
        }
    }

    fn on_flow_end(&mut self, cx: &mut Context<'_>, flow: &mut Flow, _by: RemovedBy) {
        let has_transfer =
            matches!(&flow.app, super::AppState::ArduinoOta(st) if st.transfer.is_some());
        if !has_transfer || flow.owner.is_none() {
            return;
        }
        let last = flow.last_seen;
        self.end_transfer(cx, flow, last, None);
        if let super::AppState::ArduinoOta(st) = &mut flow.app {
            if let Some(tf) = &mut st.transfer {
                self.sessions.release(&mut tf.session, cx.interest);
            }
        }
    }

    fn on_tick(&mut self, cx: &mut Context<'_>, now: Timestamp) {
        for s in self.sessions.take_idle(now) {
            self.end_session(cx, s, now);
        }
    }

    fn on_finish(&mut self, cx: &mut Context<'_>, now: Timestamp) {
        for s in self.sessions.take_all() {
            self.end_session(cx, s, now);
        }
    }
}
