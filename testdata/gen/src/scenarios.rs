//! The bundled captures: what each contains is listed beside its builder, and the integration
//! tests assert exactly those events.

use crate::capture::Record;
use crate::espota;
use crate::frame::{self, Link, ESPRESSIF_MAC, LAPTOP_MAC, ROUTER_MAC};
use crate::rng::Rng;
use std::net::IpAddr;

/// 2026-11-24T20:00:00Z, the capture epoch of every scenario.
pub const EPOCH_US: i64 = 1_795_982_400_000_000;

/// Records in time order, written through one link type.
pub struct Timeline {
    pub link: Link,
    pub records: Vec<Record>,
    pub now_us: i64,
}

impl Timeline {
    pub fn new(link: Link) -> Self {
        Timeline {
            link,
            records: Vec::new(),
            now_us: EPOCH_US,
        }
    }

    pub fn advance_ms(&mut self, ms: i64) {
        self.now_us += ms * 1000;
    }

    /// Appends one IP packet; `towards_device` picks the MAC direction on Ethernet links.
    pub fn push_ip(&mut self, ip: Vec<u8>, towards_device: bool) {
        let link = if towards_device {
            self.link
        } else {
            self.link.reversed()
        };
        self.records.push(Record::new(self.now_us, link.wrap(&ip)));
        self.advance_ms(1);
    }

    pub fn udp(
        &mut self,
        src: (IpAddr, u16),
        dst: (IpAddr, u16),
        payload: &[u8],
        towards_device: bool,
    ) {
        self.push_ip(
            frame::udp(src.0, dst.0, src.1, dst.1, payload),
            towards_device,
        );
    }
}

pub fn ip(s: &str) -> IpAddr {
    s.parse().expect("literal address")
}

pub const UPLOADER: &str = "192.0.2.10";
pub const ESP32: &str = "192.0.2.50";
pub const ESP8266: &str = "192.0.2.51";
pub const PICO: &str = "192.0.2.52";
pub const ESP32_V6: &str = "2001:db8::50";
pub const UPLOADER_V6: &str = "2001:db8::10";

/// One expected `arduino_ota` `invitation` event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpectedInvitation {
    pub uploader: IpAddr,
    pub device: IpAddr,
    pub device_port: u16,
    pub command: &'static str,
    pub host_port: u16,
    pub image_size: u64,
    pub image_md5: String,
}

/// The OTA invitation scenario shared by every link-type capture:
/// 1. ESP32, no password: invitation → `OK`.
/// 2. ESP32, MD5 password right: invitation → `AUTH` → answer → `OK`.
/// 3. ESP32, MD5 password wrong: invitation → `AUTH` → answer → `Authentication Failed`.
/// 4. ESP8266 (port 8266), filesystem image: invitation → `OK`.
/// 5. RP2040 (port 2040): invitation → `OK`.
/// 6. An offline ESP32: espota retries three times, each from a new source port, no reply.
/// 7. IPv6: invitation → `OK`.
/// 8. Malformed on 3232: a 31-character MD5, non-numeric fields, random bytes (no events).
///
/// Background: DNS and HTTP between other hosts. Returns the records and the 9 invitations.
pub fn ota_invitations(link: Link) -> (Vec<Record>, Vec<ExpectedInvitation>) {
    let mut t = Timeline::new(link);
    let mut rng = Rng::new(3232);
    let mut expected = Vec::new();
    let image = rng.bytes(4096);
    let md5 = espota::md5_hex(&image);
    let (uploader, esp32) = (ip(UPLOADER), ip(ESP32));

    background(&mut t, &mut rng, 5);
    let mut invite = |t: &mut Timeline,
                      rng: &mut Rng,
                      up: IpAddr,
                      dev: IpAddr,
                      dev_port: u16,
                      command: u16,
                      reply: Option<&[u8]>| {
        let sport = rng.range(32768, 61000) as u16;
        let host_port = rng.range(10000, 60000) as u16;
        t.udp(
            (up, sport),
            (dev, dev_port),
            &espota::invitation(command, host_port, image.len(), &md5),
            true,
        );
        expected.push(ExpectedInvitation {
            uploader: up,
            device: dev,
            device_port: dev_port,
            command: if command == espota::SPIFFS {
                "filesystem"
            } else {
                "flash"
            },
            host_port,
            image_size: image.len() as u64,
            image_md5: md5.clone(),
        });
        t.advance_ms(3);
        if let Some(reply) = reply {
            t.udp((dev, dev_port), (up, sport), reply, false);
        }
        sport
    };

    // 1. No password.
    invite(
        &mut t,
        &mut rng,
        uploader,
        esp32,
        3232,
        espota::FLASH,
        Some(b"OK"),
    );
    background(&mut t, &mut rng, 3);
    // 2 and 3. MD5 password, right then wrong.
    for password in ["secret", "guess"] {
        let nonce = espota::device_nonce_md5(rng.range(1_000_000, 90_000_000));
        let sport = invite(
            &mut t,
            &mut rng,
            uploader,
            esp32,
            3232,
            espota::FLASH,
            Some(&espota::auth_challenge(&nonce)),
        );
        let (answer, cnonce, response) =
            espota::auth_answer_md5("sketch.ino.bin", image.len(), &md5, ESP32, password, &nonce);
        t.udp((uploader, sport), (esp32, 3232), &answer, true);
        t.advance_ms(20);
        let ok = espota::device_accepts_md5("secret", &nonce, &cnonce, &response);
        let result: &[u8] = if ok { b"OK" } else { b"Authentication Failed" };
        t.udp((esp32, 3232), (uploader, sport), result, false);
        background(&mut t, &mut rng, 2);
    }
    // 4. ESP8266 filesystem image.
    invite(
        &mut t,
        &mut rng,
        uploader,
        ip(ESP8266),
        8266,
        espota::SPIFFS,
        Some(b"OK"),
    );
    // 5. RP2040.
    invite(
        &mut t,
        &mut rng,
        uploader,
        ip(PICO),
        2040,
        espota::FLASH,
        Some(b"OK"),
    );
    // 6. Offline device: three tries, fresh source port each.
    for _ in 0..3 {
        invite(
            &mut t,
            &mut rng,
            uploader,
            ip("192.0.2.99"),
            3232,
            espota::FLASH,
            None,
        );
        t.advance_ms(10_000);
    }
    // 7. IPv6.
    invite(
        &mut t,
        &mut rng,
        ip(UPLOADER_V6),
        ip(ESP32_V6),
        3232,
        espota::FLASH,
        Some(b"OK"),
    );
    // 8. Malformed: no events, counted.
    let bad_md5 = &md5[..31];
    t.udp(
        (uploader, 40001),
        (esp32, 3232),
        format!("0 48266 4096 {bad_md5}\n").as_bytes(),
        true,
    );
    t.udp(
        (uploader, 40002),
        (esp32, 3232),
        format!("0 port size {md5}\n").as_bytes(),
        true,
    );
    let junk = rng.bytes(48);
    t.udp((uploader, 40003), (esp32, 3232), &junk, true);
    background(&mut t, &mut rng, 5);
    (t.records, expected)
}

/// Ordinary traffic between other hosts: DNS queries and answers, HTTP requests.
pub fn background(t: &mut Timeline, rng: &mut Rng, n: usize) {
    let client = ip("198.51.100.20");
    let resolver = ip("198.51.100.53");
    let web = ip("203.0.113.80");
    for _ in 0..n {
        let sport = rng.range(32768, 61000) as u16;
        let id = rng.next_u64() as u16;
        let mut query = id.to_be_bytes().to_vec();
        query.extend_from_slice(&[1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 7]);
        query.extend_from_slice(b"example\x03com\x00\x00\x01\x00\x01");
        t.udp((client, sport), (resolver, 53), &query, true);
        let seq = rng.next_u64() as u32;
        let req = b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n";
        t.push_ip(
            frame::tcp(
                client,
                web,
                sport,
                80,
                seq,
                1,
                frame::tcp_flags::ACK | frame::tcp_flags::PSH,
                req,
            ),
            true,
        );
        t.advance_ms(rng.range(5, 50) as i64);
    }
}

/// The links each capture in `testdata/links/` uses.
pub fn link_variants() -> Vec<(&'static str, Link)> {
    vec![
        (
            "ethernet",
            Link::Ethernet {
                src: LAPTOP_MAC,
                dst: ESPRESSIF_MAC,
            },
        ),
        (
            "vlan",
            Link::Vlan {
                src: LAPTOP_MAC,
                dst: ESPRESSIF_MAC,
                vids: [42, 0],
                tags: 1,
            },
        ),
        (
            "qinq",
            Link::Vlan {
                src: LAPTOP_MAC,
                dst: ESPRESSIF_MAC,
                vids: [100, 42],
                tags: 2,
            },
        ),
        ("sll", Link::Sll),
        ("sll2", Link::Sll2),
        ("null", Link::Null),
        ("raw", Link::Raw),
    ]
}

pub const DEMO_ROUTER_MAC: [u8; 6] = ROUTER_MAC;
