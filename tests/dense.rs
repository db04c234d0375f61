//! Dense and hostile espota traffic through the engine (issue 16): a connect-back is followed
//! only once the device answered, only between the device and the uploader, within per-device
//! and global bounds; a spray of invitations nobody answers holds nothing.

use std::net::{IpAddr, Ipv4Addr};
use watch3232::engine::{Config, Engine};
use watch3232::packet::{LinkType, Packet};
use watch3232::time::Timestamp;
use watch3232_testgen::espota;
use watch3232_testgen::frame::{self, tcp_flags};

const EPOCH_US: i64 = 1_795_982_400_000_000;
const UPLOADER: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10));

fn v4(n: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(n))
}

struct Run {
    engine: Engine,
    index: u64,
}

impl Run {
    fn new() -> Self {
        Run {
            engine: Engine::new(Config::default()),
            index: 0,
        }
    }

    /// Feeds one raw-IP packet, 10 µs after the previous one.
    fn feed(&mut self, ip: &[u8]) {
        self.index += 1;
        let p = Packet {
            ts: Timestamp(EPOCH_US + 10 * self.index as i64),
            wire_len: ip.len() as u32,
            data: ip,
            link: LinkType::Raw,
            index: self.index,
        };
        self.engine.process(&p);
        self.engine.drain_events().for_each(drop);
    }

    fn invite(&mut self, uploader: IpAddr, device: IpAddr, host_port: u16) {
        let inv = espota::invitation(espota::FLASH, host_port, 4096, &espota::md5_hex(b"i"));
        self.feed(&frame::udp(uploader, device, 40000, 3232, &inv));
    }

    fn answer(&mut self, uploader: IpAddr, device: IpAddr, reply: &[u8]) {
        self.feed(&frame::udp(device, uploader, 3232, 40000, reply));
    }

    fn tcp(&mut self, src: IpAddr, dst: IpAddr, sport: u16, dport: u16) {
        self.feed(&frame::tcp(
            src,
            dst,
            sport,
            dport,
            1,
            0,
            tcp_flags::SYN,
            &[],
        ));
    }

    fn held_ports(&self) -> usize {
        self.engine.interest().dynamic_tcp_ports().count()
    }

    fn counter(&mut self, name: &str) -> u64 {
        let s = self.engine.stats_details();
        match name {
            "interesting_packets" => s.interesting_packets,
            "flows.created" => s.flows.created,
            _ => s.classifiers.get(name).copied().unwrap_or(0),
        }
    }
}

#[test]
fn a_spray_of_unanswered_invitations_holds_no_port() {
    let mut r = Run::new();
    for n in 0..5000u32 {
        r.invite(UPLOADER, v4(0x0a80_0000 + n), 10_000 + (n % 50_000) as u16);
    }
    assert_eq!(r.held_ports(), 0);
    assert_eq!(r.engine.interest().held_count(), 0);
    // The session table is bounded: the oldest sessions were ended to make room.
    assert_eq!(r.counter("arduino_ota.sessions"), 5000);
    assert_eq!(r.counter("arduino_ota.sessions_evicted"), 5000 - 4096);
}

#[test]
fn an_answer_holds_the_connect_back_for_its_two_hosts_only() {
    let mut r = Run::new();
    let device = v4(0xc000_0232);
    r.invite(UPLOADER, device, 41_000);
    assert_eq!(r.held_ports(), 0, "not on the invitation alone");
    r.answer(UPLOADER, device, b"OK");
    assert_eq!(r.held_ports(), 1);
    let before = r.counter("interesting_packets");
    // Background TCP to the held port from another host: rejected before decoding.
    r.tcp(v4(0xcb00_7107), UPLOADER, 50_000, 41_000);
    r.tcp(UPLOADER, v4(0xcb00_7107), 41_000, 50_000);
    assert_eq!(r.counter("interesting_packets"), before);
    // The device's connection back: followed.
    r.tcp(device, UPLOADER, 50_001, 41_000);
    assert_eq!(r.counter("interesting_packets"), before + 1);
    assert_eq!(r.counter("arduino_ota.connect_backs"), 1);
}

#[test]
fn an_auth_challenge_holds_too() {
    let mut r = Run::new();
    let device = v4(0xc000_0233);
    r.invite(UPLOADER, device, 42_000);
    r.answer(UPLOADER, device, b"AUTH 0123456789abcdef0123456789abcdef");
    assert_eq!(r.held_ports(), 1);
}

#[test]
fn holds_per_device_are_bounded_and_counted() {
    let mut r = Run::new();
    let device = v4(0xc000_0234);
    // Five uploaders, five sessions with one device, each answered.
    for n in 0..5u32 {
        let uploader = v4(0xc000_0200 + n);
        r.invite(uploader, device, 43_000 + n as u16);
        r.answer(uploader, device, b"OK");
    }
    assert_eq!(r.held_ports(), 4);
    assert_eq!(r.counter("arduino_ota.connect_backs_not_held"), 1);
    // Another device is not affected.
    r.invite(UPLOADER, v4(0xc000_0235), 44_000);
    r.answer(UPLOADER, v4(0xc000_0235), b"OK");
    assert_eq!(r.held_ports(), 5);
}

#[test]
fn an_ended_session_releases_its_hold() {
    let mut r = Run::new();
    let device = v4(0xc000_0236);
    r.invite(UPLOADER, device, 45_000);
    r.answer(UPLOADER, device, b"OK");
    assert_eq!(r.held_ports(), 1);
    // The session times out (30 s without a datagram) on the next tick.
    r.engine.advance_to(Timestamp(EPOCH_US + 40_000_000));
    assert_eq!(r.held_ports(), 0);
    assert_eq!(r.engine.interest().held_count(), 0);
}
