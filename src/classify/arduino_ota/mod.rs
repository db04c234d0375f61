//! ArduinoOTA ("espota"): ESP32 (UDP 3232), ESP8266 (8266) and RP2040 (2040) firmware updates.
//!
//! `parser` reads the wire messages; this module follows each UDP exchange (invitation, device
//! reply, auth answer) and reports what it sees. Facts: shared/docs/arduino-ota.md.

pub mod parser;

use super::{Classifier, Context, Flow, Interest, Pkt, Verdict};
use crate::decode::Transport;
use crate::engine::Config;
use crate::event::{Body, Severity};
use parser::{parse_auth_answer, parse_device_reply, parse_invitation, DeviceReply};
use serde::Serialize;

/// The `arduino_ota` object of an event; `kind` names the variant.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum OtaDetails {
    Invitation(InvitationDetails),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct InvitationDetails {
    /// `flash` (command 0) or `filesystem` (command 100).
    pub command: &'static str,
    /// TCP port on the uploader that the device will connect back to.
    pub host_port: u16,
    pub image_size: u64,
    /// MD5 of the whole image, lower-case hex.
    pub image_md5: String,
}

/// What we know of one espota UDP exchange (uploader port ↔ device port).
#[derive(Debug, Default)]
pub struct OtaFlow {
    pub invitations: u32,
    pub device_replies: u32,
    pub auth_answers: u32,
    pub last_invitation: Option<InvitationDetails>,
}

pub struct ArduinoOta {
    ports: Vec<u16>,
}

impl ArduinoOta {
    pub fn new(config: &Config) -> Self {
        ArduinoOta {
            ports: config.ota_ports.clone(),
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
        let Transport::Udp(udp) = pkt.decoded.transport else {
            return Verdict::Decline;
        };
        let ours = flow.owner.is_some();
        if self.is_device_port(udp.dst_port) {
            if let Ok(inv) = parse_invitation(udp.payload) {
                let details = InvitationDetails {
                    command: inv.command.name(),
                    host_port: inv.host_port,
                    image_size: inv.image_size,
                    image_md5: inv.image_md5.to_ascii_lowercase(),
                };
                let st = state(flow);
                st.invitations += 1;
                st.last_invitation = Some(details.clone());
                // Report it uploader → device, whichever side spoke first.
                let reverse = flow.endpoints.src != pkt.decoded.net.src;
                cx.counters.bump("arduino_ota.invitations");
                cx.emit_flow_event(
                    pkt.ts,
                    Some(pkt.index),
                    flow,
                    reverse,
                    "invitation",
                    Severity::Info,
                    Body::ArduinoOta(OtaDetails::Invitation(details)),
                );
                return Verdict::Claim;
            }
            if parse_auth_answer(udp.payload).is_some() {
                state(flow).auth_answers += 1;
                cx.counters.bump("arduino_ota.auth_answers");
                return Verdict::Claim;
            }
        }
        if self.is_device_port(udp.src_port) {
            if let Ok(reply) = parse_device_reply(udp.payload) {
                state(flow).device_replies += 1;
                cx.counters.bump(match reply {
                    DeviceReply::Ok => "arduino_ota.replies_ok",
                    DeviceReply::Auth { .. } => "arduino_ota.replies_auth",
                    DeviceReply::AuthFailed => "arduino_ota.replies_auth_failed",
                    DeviceReply::Error(_) => "arduino_ota.replies_error",
                });
                return Verdict::Claim;
            }
        }
        if !ours && self.is_device_port(udp.dst_port) && parser::looks_like_invitation(udp.payload)
        {
            if let Err(e) = parse_invitation(udp.payload) {
                cx.counters.bump("arduino_ota.malformed_invitations");
                flow.malformed = Some(super::Malformed {
                    protocol: "arduino_ota",
                    error: e.to_string(),
                });
            }
        }
        if ours {
            // Something else inside an espota exchange: keep the flow, count the oddity.
            cx.counters.bump("arduino_ota.unrecognised_packets");
            Verdict::Claim
        } else {
            Verdict::Decline
        }
    }
}
