//! Bad and hostile OTA input through the engine: floods, truncation, odd replies. Counted,
//! bounded, reported as outcomes; never a panic.

use watch3232::engine::{Config, Engine};
use watch3232::event::Event;
use watch3232::packet::{LinkType, Packet};
use watch3232::time::Timestamp;
use watch3232_testgen::espota;
use watch3232_testgen::frame::{self, tcp_flags as F};
use watch3232_testgen::scenarios::ip;

struct Feed {
    engine: Engine,
    n: u64,
    ts: i64,
    events: Vec<Event>,
}

impl Feed {
    fn new(config: Config) -> Self {
        Feed {
            engine: Engine::new(config),
            n: 0,
            ts: 1_795_982_400_000_000,
            events: Vec::new(),
        }
    }

    fn ip(&mut self, packet: Vec<u8>) {
        self.n += 1;
        self.ts += 1000;
        let p = Packet {
            ts: Timestamp(self.ts),
            wire_len: packet.len() as u32,
            data: &packet,
            link: LinkType::Raw,
            index: self.n,
        };
        self.engine.process(&p);
        self.events.extend(self.engine.drain_events());
    }

    fn finish(mut self) -> Vec<Event> {
        self.engine.finish();
        self.events.extend(self.engine.drain_events());
        self.events
    }
}

fn json(events: &[Event]) -> Vec<serde_json::Value> {
    events
        .iter()
        .map(|e| serde_json::to_value(e).unwrap())
        .collect()
}

#[test]
fn a_flood_of_invitations_stays_bounded_and_every_session_is_reported() {
    let mut config = Config::default();
    config.classify.ota.max_sessions = 64;
    let mut f = Feed::new(config);
    let md5 = espota::md5_hex(b"x");
    for i in 0..10_000u32 {
        let dev = std::net::IpAddr::V4(std::net::Ipv4Addr::from(0x0A00_0000 + i));
        let inv = espota::invitation(0, 10_000 + (i % 50_000) as u16, 1000, &md5);
        f.ip(frame::udp(ip("192.0.2.10"), dev, 40_000, 3232, &inv));
        f.ip(frame::udp(dev, ip("192.0.2.10"), 3232, 40_000, b"OK"));
    }
    let events = json(&f.finish());
    let transfers: Vec<_> = events.iter().filter(|e| e["kind"] == "transfer").collect();
    assert_eq!(transfers.len(), 10_000);
    assert!(transfers
        .iter()
        .all(|e| e["arduino_ota"]["outcome"] == "no_connect"));
    let stats = &events.last().unwrap()["stats"]["classifiers"];
    assert_eq!(stats["arduino_ota.sessions"], 10_000);
    assert_eq!(stats["arduino_ota.sessions_evicted"], 10_000 - 64);
}

#[test]
fn truncated_stream_odd_challenge_and_text_instead_of_counts() {
    let mut f = Feed::new(Config::default());
    let (up, dev) = (ip("192.0.2.10"), ip("192.0.2.50"));
    let image = vec![0xE9u8; 3000];
    let inv = espota::invitation(0, 45_000, image.len(), &espota::md5_hex(&image));
    f.ip(frame::udp(up, dev, 40_000, 3232, &inv));
    f.ip(frame::udp(dev, up, 3232, 40_000, b"AUTH abc")); // odd, not 32/64: no challenge
    f.ip(frame::udp(dev, up, 3232, 40_000, b"OK"));
    f.ip(frame::tcp(dev, up, 50_000, 45_000, 100, 0, F::SYN, &[]));
    f.ip(frame::tcp(
        up,
        dev,
        45_000,
        50_000,
        900,
        101,
        F::SYN | F::ACK,
        &[],
    ));
    f.ip(frame::tcp(
        up,
        dev,
        45_000,
        50_000,
        901,
        101,
        F::ACK | F::PSH,
        &image[..1024],
    ));
    f.ip(frame::tcp(
        dev,
        up,
        50_000,
        45_000,
        101,
        1925,
        F::ACK | F::PSH,
        b"1024",
    ));
    f.ip(frame::tcp(
        up,
        dev,
        45_000,
        50_000,
        1925,
        105,
        F::ACK | F::PSH,
        &image[1024..2048],
    ));
    f.ip(frame::tcp(
        dev,
        up,
        50_000,
        45_000,
        105,
        2949,
        F::ACK | F::PSH,
        b"\xffgarbage",
    ));
    // The capture ends here: no FIN, no RST.
    let events = json(&f.finish());
    assert!(events.iter().all(|e| e["kind"] != "auth_challenge"));
    let t: Vec<_> = events.iter().filter(|e| e["kind"] == "transfer").collect();
    assert_eq!(t.len(), 1);
    let d = &t[0]["arduino_ota"];
    assert_eq!(
        (&d["outcome"], &d["bytes"], &d["acked_bytes"]),
        (&"failed".into(), &2048.into(), &1024.into())
    );
    assert_eq!(d["device_message"], "?garbage");
    assert_eq!(
        events.last().unwrap()["stats"]["classifiers"]["arduino_ota.unrecognised_packets"],
        1
    );
}
