//! mDNS (UDP 5353, RFC 6762) announcements of OTA-capable devices: `_arduino._tcp` (ArduinoOTA
//! and JAndrassy's HTTP ArduinoOTA, shared/docs/arduino-ota.md §1.7, §2, §3.2) and ESPHome's
//! `_esphomelib._tcp`. Reports `device` `announcement` events when a device is first heard or
//! changes what it says, and one `device` `inventory` event per device at the end of the run,
//! merged with the OTA sessions and the MAC vendor (§5).

pub mod parser;

use super::device::oui;
use super::{Classifier, Context, Flow, Interest, Pkt, Verdict};
use crate::aggregate::Observation;
use crate::decode::Transport;
use crate::event::device::{AnnouncementDetails, DeviceDetails, DeviceKind};
use crate::event::{Body, Severity};
use crate::flow::{BoundedMap, Departure};
use parser::Rdata;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

pub const MDNS_PORT: u16 = 5353;

const SERVICES: [(&str, &str); 2] = [
    ("_arduino._tcp.local", "_arduino._tcp"),
    ("_esphomelib._tcp.local", "_esphomelib._tcp"),
];

pub struct Mdns {
    /// Last announcement per instance, to report changes only; when full, the instance heard
    /// least recently is forgotten (its next announcement is reported again).
    last: BoundedMap<String, AnnouncementDetails>,
}

impl Mdns {
    /// `capacity`: announcements remembered (one per instance), as many as OTA sessions.
    pub fn new(capacity: usize) -> Self {
        Mdns {
            // No idle expiry: an instance is forgotten only to make room.
            last: BoundedMap::new(capacity, Duration::MAX),
        }
    }
}

fn service_of(name: &str) -> Option<&'static str> {
    SERVICES
        .iter()
        .find(|(full, _)| {
            // `full` itself, or a name under it (`x.full`), without building ".full".
            name.strip_suffix(*full)
                .is_some_and(|rest| rest.is_empty() || rest.ends_with('.'))
        })
        .map(|(_, s)| *s)
}

/// The announcements in one mDNS response.
pub fn announcements(msg: &parser::Message, src: IpAddr) -> Vec<AnnouncementDetails> {
    let mut out: Vec<AnnouncementDetails> = Vec::new();
    let mut instances: Vec<(String, &'static str)> = Vec::new();
    for r in &msg.records {
        let candidate = match &r.rdata {
            Rdata::Ptr(target)
                if service_of(&r.name).is_some() && SERVICES.iter().any(|s| s.0 == r.name) =>
            {
                Some(target.clone())
            }
            Rdata::Srv { .. } | Rdata::Txt(_)
                if service_of(&r.name).is_some() && !SERVICES.iter().any(|s| s.0 == r.name) =>
            {
                Some(r.name.clone())
            }
            _ => None,
        };
        if let Some(inst) = candidate {
            if let Some(svc) = service_of(&inst) {
                if !instances.iter().any(|(i, _)| *i == inst) {
                    instances.push((inst, svc));
                }
            }
        }
    }
    for (inst, service) in instances {
        let mut a = AnnouncementDetails {
            service,
            instance: inst.split('.').next().unwrap_or("").to_string(),
            hostname: None,
            address: src,
            ota_port: None,
            port: None,
            board: None,
            auth_upload: None,
            txt: BTreeMap::new(),
            mac: None,
            vendor: None,
        };
        let mut target = None;
        for r in msg.records.iter().filter(|r| r.name == inst) {
            match &r.rdata {
                Rdata::Srv { port, target: t } => {
                    a.port = Some(*port);
                    a.ota_port = (service == "_arduino._tcp").then_some(*port);
                    a.hostname = Some(t.strip_suffix(".local").unwrap_or(t).to_string());
                    target = Some(t.clone());
                }
                Rdata::Txt(items) => {
                    for item in items {
                        let (k, v) = item.split_once('=').unwrap_or((item.as_str(), ""));
                        a.txt.insert(k.to_ascii_lowercase(), v.to_string());
                    }
                }
                _ => {}
            }
        }
        if let Some(t) = target {
            if let Some(addr) = msg.records.iter().find_map(|r| match r.rdata {
                Rdata::Addr(ip) if r.name == t && ip.is_ipv4() == src.is_ipv4() => Some(ip),
                _ => None,
            }) {
                a.address = addr;
            }
        }
        a.board = a.txt.get("board").cloned();
        a.auth_upload = a.txt.get("auth_upload").map(|v| v == "yes");
        out.push(a);
    }
    out
}

impl Classifier for Mdns {
    fn name(&self) -> &'static str {
        "mdns"
    }

    fn interests(&self, interest: &mut Interest) {
        interest.add_udp_port(MDNS_PORT);
    }

    fn on_packet(&mut self, cx: &mut Context<'_>, pkt: &Pkt<'_>, flow: &mut Flow) -> Verdict {
        let Transport::Udp(udp) = pkt.decoded.transport else {
            return Verdict::Decline;
        };
        if udp.src_port != MDNS_PORT && udp.dst_port != MDNS_PORT {
            return Verdict::Decline;
        }
        let msg = match parser::parse(udp.payload) {
            Ok(m) => m,
            Err(e) => {
                cx.counters.mdns.malformed += 1;
                tracing::debug!("mDNS message not parsed: {e}");
                return if flow.owner.is_some() {
                    Verdict::Claim
                } else {
                    Verdict::Decline
                };
            }
        };
        cx.counters.mdns.messages += 1;
        if !msg.response {
            return Verdict::Claim;
        }
        let src = pkt.decoded.net.src;
        for mut a in announcements(&msg, src) {
            if a.address == src {
                if let Some(mac) = pkt.decoded.link.src_mac {
                    a.mac = Some(oui::format_mac(mac));
                    a.vendor = oui::vendor(mac);
                }
            }
            // The inventory spans flows (a device's uploads are other IP pairs): the aggregator's.
            cx.observe(Observation::DeviceAnnounced {
                announcement: Box::new(a.clone()),
                ts: pkt.ts,
            });
            let key = [a.service, "|", &a.instance].concat();
            if self.last.get(&key) == Some(&a) {
                self.last.touch(&key, pkt.ts);
                continue;
            }
            let departed = self.last.insert(key, a.clone(), pkt.ts);
            if departed.is_some_and(|d| d.by == Departure::Evicted) {
                cx.counters.mdns.announcements_forgotten += 1;
            }
            cx.counters.mdns.announcements += 1;
            cx.emit_flow_event(
                pkt.ts,
                Some(pkt.index),
                flow,
                false,
                DeviceKind::Announcement,
                Severity::Info,
                Body::Device(DeviceDetails::Announcement(a)),
            );
        }
        Verdict::Claim
    }
}
