//! Large benchmark captures (`testgen bench-mixed` / `testgen bench-small`), written straight to
//! a file: never into the repository.
//!
//! - *mixed*: ~1 GB, ~1.5 M packets of realistic sizes. About 1 % is interesting (espota
//!   sessions with their TCP connect-back, GRE/PIM default-MDT hellos, Data-MDT joins on UDP 3232
//!   inside GRE, unknown UDP and TCP on 3232, mDNS `_arduino._tcp` answers); the rest is
//!   background: bulk TCP, ACKs, web, DNS, QUIC, IPv6, VLAN-tagged frames and ARP.
//! - *small*: ~4 M packets of 54–94 bytes (ACKs, DNS, small UDP) with the same 1 % of
//!   interesting packets, minus anything large.
//! - *dense* / *spray*: the small background, 25 µs apart on average, with 0.5 % of espota
//!   invitations and device answers (dense) or of spoofed invitations nobody answers (spray).
//!
//! Background frames are built by hand into one reused buffer (checksums correct); the rare
//! interesting frames go through [`crate::frame`]. A [`BenchSummary`] counts what was written,
//! so the throughput script can check watch3232's events exactly.

use crate::capture::{linktype, PcapWriter, PcapngWriter};
use crate::espota;
use crate::frame::{self, Link};
use crate::rng::Rng;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

/// 2026-11-24T20:00:00Z, as the bundled scenarios.
const EPOCH_US: i64 = 1_795_982_400_000_000;
const WRITE_BUFFER: usize = 8 << 20;

/// Which capture to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    Mixed,
    Small,
    /// One UDP datagram to port 3232 per flow, every flow distinct: the flow-table load test.
    Flows,
    /// The small mix, denser in time, where 0.5 % of the packets are espota invitations and the
    /// devices' answers (`OK`, or an `AUTH` challenge), each naming a random host port
    /// 10000–60000: thousands of sessions wait for a connect-back at once (issue 16).
    Dense,
    /// The dense capture's share as spoofed invitations to ever-new devices that never answer.
    Spray,
}

/// Output container.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Pcap,
    Pcapng,
}

/// What a benchmark capture holds; the throughput script checks watch3232 against it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BenchSummary {
    pub packets: u64,
    /// Sum of the frame lengths (what watch3232 reports as `bytes`).
    pub frame_bytes: u64,
    pub interesting_packets: u64,
    pub ota_sessions: u64,
    /// espota invitations (one `arduino_ota` `invitation` event each).
    pub invitations: u64,
    pub device_replies: u64,
    pub auth_answers: u64,
    pub ota_tcp_packets: u64,
    pub pim_hellos: u64,
    pub data_mdt_joins: u64,
    pub unknown_udp_3232: u64,
    pub unknown_tcp_3232: u64,
    pub mdns: u64,
    /// UDP packets to or from 3232/8266/2040 (inside GRE or not): what the OTA interest passes.
    pub udp_ota_port_packets: u64,
}

impl BenchSummary {
    /// One JSON object, keys as the field names.
    pub fn to_json(&self) -> String {
        let f = [
            ("packets", self.packets),
            ("frame_bytes", self.frame_bytes),
            ("interesting_packets", self.interesting_packets),
            ("ota_sessions", self.ota_sessions),
            ("invitations", self.invitations),
            ("device_replies", self.device_replies),
            ("auth_answers", self.auth_answers),
            ("ota_tcp_packets", self.ota_tcp_packets),
            ("pim_hellos", self.pim_hellos),
            ("data_mdt_joins", self.data_mdt_joins),
            ("unknown_udp_3232", self.unknown_udp_3232),
            ("unknown_tcp_3232", self.unknown_tcp_3232),
            ("mdns", self.mdns),
            ("udp_ota_port_packets", self.udp_ota_port_packets),
        ];
        let body: Vec<String> = f.iter().map(|(k, v)| format!("  \"{k}\": {v}")).collect();
        format!("{{\n{}\n}}\n", body.join(",\n"))
    }
}

enum Sink {
    Pcap(PcapWriter<BufWriter<File>>),
    Pcapng(PcapngWriter<BufWriter<File>>),
}

impl Sink {
    fn write(&mut self, ts_us: i64, data: &[u8]) -> io::Result<()> {
        match self {
            Sink::Pcap(w) => w.write_raw(ts_us, data, data.len() as u32),
            Sink::Pcapng(w) => w.write_raw(0, ts_us, data, data.len() as u32),
        }
    }

    fn finish(self) -> io::Result<()> {
        match self {
            Sink::Pcap(w) => w.into_inner().flush(),
            Sink::Pcapng(w) => w.into_inner().flush(),
        }
    }
}

/// An interesting frame waiting for its slot, with what it counts as.
struct Pending {
    data: Vec<u8>,
    udp_ota_port: bool,
}

struct Gen {
    profile: Profile,
    rng: Rng,
    sink: Sink,
    ts_us: i64,
    buf: Vec<u8>,
    /// Random bytes that payloads are cut from.
    pool: Vec<u8>,
    pending: VecDeque<Pending>,
    next_scenario: u32,
    image_md5: String,
    s: BenchSummary,
}

const ETH_CLIENT: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01];
const ETH_GATEWAY: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0xfe];
const TCP_ACK: u8 = 0x10;
const TCP_PSH: u8 = 0x08;

/// Writes a benchmark capture of about `target_bytes` (mixed) or `target_packets` (small) to
/// `out`, and returns what it holds.
pub fn write(
    out: &Path,
    profile: Profile,
    format: Format,
    target_bytes: u64,
    target_packets: u64,
) -> io::Result<BenchSummary> {
    let file = BufWriter::with_capacity(WRITE_BUFFER, File::create(out)?);
    let sink = match format {
        Format::Pcap => Sink::Pcap(PcapWriter::new(file, linktype::ETHERNET, 65535)?),
        Format::Pcapng => Sink::Pcapng(PcapngWriter::new(file, &[linktype::ETHERNET])?),
    };
    let mut rng = Rng::new(0x3232_beef);
    let pool = rng.bytes(64 * 1024);
    let image_md5 = espota::md5_hex(&pool[..4096]);
    let mut g = Gen {
        profile,
        rng,
        sink,
        ts_us: EPOCH_US,
        buf: Vec::with_capacity(2048),
        pool,
        pending: VecDeque::new(),
        next_scenario: 0,
        image_md5,
        s: BenchSummary::default(),
    };
    loop {
        let done = match profile {
            Profile::Mixed => g.s.frame_bytes >= target_bytes,
            Profile::Small | Profile::Flows | Profile::Dense | Profile::Spray => {
                g.s.packets >= target_packets
            }
        };
        if done {
            break;
        }
        if profile == Profile::Flows {
            g.distinct_flow()?;
            continue;
        }
        let interesting = match profile {
            Profile::Dense | Profile::Spray => g.rng.range(0, 200) == 0,
            _ => g.rng.range(0, 100) == 0,
        };
        if interesting {
            g.interesting()?;
        } else {
            g.background()?;
        }
    }
    // Whatever an interesting scenario still holds is written too, so every session is whole.
    while !g.pending.is_empty() {
        g.interesting()?;
    }
    g.sink.finish()?;
    Ok(g.s)
}

impl Gen {
    /// Microseconds to the next packet.
    fn gap(&mut self) -> i64 {
        let most = match self.profile {
            // The flow test stays well inside the 120 s flow timeout: 1 M packets in ~50 s.
            Profile::Flows => 100,
            // 40 000 packets a second: ~3 000 espota sessions inside their 30 s timeout.
            Profile::Dense | Profile::Spray => 50,
            Profile::Mixed | Profile::Small => 800,
        };
        self.rng.range(1, most) as i64
    }

    fn emit_buf(&mut self) -> io::Result<()> {
        self.ts_us += self.gap();
        self.s.packets += 1;
        self.s.frame_bytes += self.buf.len() as u64;
        self.sink.write(self.ts_us, &self.buf)
    }

    fn interesting(&mut self) -> io::Result<()> {
        if self.pending.is_empty() {
            self.scenario();
        }
        let p = self
            .pending
            .pop_front()
            .expect("a scenario queues at least one frame");
        self.ts_us += self.gap();
        self.s.packets += 1;
        self.s.interesting_packets += 1;
        self.s.frame_bytes += p.data.len() as u64;
        if p.udp_ota_port {
            self.s.udp_ota_port_packets += 1;
        }
        self.sink.write(self.ts_us, &p.data)
    }

    fn queue(&mut self, data: Vec<u8>, udp_ota_port: bool) {
        self.pending.push_back(Pending { data, udp_ota_port });
    }

    fn payload(&mut self, len: usize) -> &[u8] {
        let start = self.rng.range(0, (self.pool.len() - len) as u64) as usize;
        &self.pool[start..start + len]
    }

    /// Queues the next interesting scenario, in turn: OTA session, PIM hello, Data-MDT join,
    /// unknown UDP on 3232, OTA session, mDNS, unknown TCP on 3232.
    fn scenario(&mut self) {
        match self.profile {
            Profile::Dense => return self.dense_session(),
            Profile::Spray => return self.spoofed_invitation(),
            _ => {}
        }
        let n = self.next_scenario;
        self.next_scenario += 1;
        match n % 7 {
            0 | 4 => self.ota_session(),
            1 => self.pim_hello(),
            2 => self.data_mdt_join(),
            3 => self.unknown_udp_3232(),
            5 => self.mdns(),
            _ => self.unknown_tcp_3232(),
        }
    }

    fn host(&mut self, net: [u8; 2]) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(
            net[0],
            net[1],
            self.rng.range(0, 16) as u8,
            self.rng.range(1, 255) as u8,
        ))
    }

    /// Invitation, optional AUTH round, `OK`; on the mixed capture the device then connects
    /// back over TCP and receives a few segments of the image.
    fn ota_session(&mut self) {
        let uploader = self.host([10, 1]);
        let device = self.host([10, 20]);
        let dev_port = match self.rng.range(0, 10) {
            0 => 8266,
            1 => 2040,
            _ => 3232,
        };
        let to_dev = Link::Ethernet {
            src: frame::LAPTOP_MAC,
            dst: frame::ESPRESSIF_MAC,
        };
        let to_up = to_dev.reversed();
        let sport = self.rng.range(32768, 61000) as u16;
        let host_port = self.rng.range(10000, 30000) as u16;
        let size = self.rng.range(200_000, 1_800_000) as usize;
        let command = if self.rng.range(0, 5) == 0 {
            espota::SPIFFS
        } else {
            espota::FLASH
        };
        let inv = espota::invitation(command, host_port, size, &self.image_md5);
        self.queue(
            to_dev.wrap(&frame::udp(uploader, device, sport, dev_port, &inv)),
            true,
        );
        self.s.ota_sessions += 1;
        self.s.invitations += 1;
        if self.rng.range(0, 3) == 0 {
            let nonce = espota::device_nonce_md5(self.rng.range(1_000_000, 90_000_000));
            let challenge = espota::auth_challenge(&nonce);
            self.queue(
                to_up.wrap(&frame::udp(device, uploader, dev_port, sport, &challenge)),
                true,
            );
            let dev_text = device.to_string();
            let (answer, _, _) = espota::auth_answer_md5(
                "firmware.bin",
                size,
                &self.image_md5,
                &dev_text,
                "secret",
                &nonce,
            );
            self.queue(
                to_dev.wrap(&frame::udp(uploader, device, sport, dev_port, &answer)),
                true,
            );
            self.s.device_replies += 1;
            self.s.auth_answers += 1;
        }
        self.queue(
            to_up.wrap(&frame::udp(device, uploader, dev_port, sport, b"OK")),
            true,
        );
        self.s.device_replies += 1;
        if self.profile == Profile::Small {
            return;
        }
        // Connect-back: device → uploader:host_port, image segments uploader → device.
        let dport = self.rng.range(49152, 65000) as u16;
        let (mut useq, mut dseq) = (self.rng.next_u64() as u32, self.rng.next_u64() as u32);
        use frame::tcp_flags::{ACK, FIN, PSH, SYN};
        let tcp = |g: &mut Gen, from_dev: bool, flags: u8, payload: &[u8], seq: u32, ack: u32| {
            let ip = if from_dev {
                frame::tcp(device, uploader, dport, host_port, seq, ack, flags, payload)
            } else {
                frame::tcp(uploader, device, host_port, dport, seq, ack, flags, payload)
            };
            let link = if from_dev { to_up } else { to_dev };
            g.queue(link.wrap(&ip), false);
            g.s.ota_tcp_packets += 1;
        };
        tcp(self, true, SYN, &[], dseq, 0);
        dseq = dseq.wrapping_add(1);
        tcp(self, false, SYN | ACK, &[], useq, dseq);
        useq = useq.wrapping_add(1);
        tcp(self, true, ACK, &[], dseq, useq);
        for _ in 0..8 {
            let chunk = self.payload(1460).to_vec();
            tcp(self, false, ACK | PSH, &chunk, useq, dseq);
            useq = useq.wrapping_add(1460);
            let written = b"1460";
            tcp(self, true, ACK | PSH, written, dseq, useq);
            dseq = dseq.wrapping_add(4);
        }
        tcp(self, true, ACK | PSH, b"OK", dseq, useq);
        dseq = dseq.wrapping_add(2);
        tcp(self, false, FIN | ACK, &[], useq, dseq);
        tcp(self, true, ACK, &[], dseq, useq.wrapping_add(1));
    }

    /// An invitation naming a random host port 10000–60000 and the device's answer: `OK`, or
    /// (one in three) an `AUTH` challenge left unanswered. No connect-back follows.
    fn dense_session(&mut self) {
        let uploader = self.host([10, 1]);
        let device = self.host([10, 20]);
        let to_dev = Link::Ethernet {
            src: frame::LAPTOP_MAC,
            dst: frame::ESPRESSIF_MAC,
        };
        let sport = self.rng.range(32768, 61000) as u16;
        let host_port = self.rng.range(10000, 60001) as u16;
        let size = self.rng.range(200_000, 1_800_000) as usize;
        let inv = espota::invitation(espota::FLASH, host_port, size, &self.image_md5);
        self.queue(
            to_dev.wrap(&frame::udp(uploader, device, sport, 3232, &inv)),
            true,
        );
        self.s.ota_sessions += 1;
        self.s.invitations += 1;
        let answer = if self.rng.range(0, 3) == 0 {
            let nonce = espota::device_nonce_md5(self.rng.range(1_000_000, 90_000_000));
            espota::auth_challenge(&nonce)
        } else {
            b"OK".to_vec()
        };
        self.queue(
            to_dev
                .reversed()
                .wrap(&frame::udp(device, uploader, 3232, sport, &answer)),
            true,
        );
        self.s.device_replies += 1;
    }

    /// A spoofed invitation to a device address no other packet uses, naming a random host
    /// port 10000–60000: nobody answers.
    fn spoofed_invitation(&mut self) {
        let n = self.s.invitations as u32;
        let device = IpAddr::V4(Ipv4Addr::new(
            10,
            128 | (n >> 16) as u8 & 0x7f,
            (n >> 8) as u8,
            n as u8,
        ));
        let uploader = self.host([10, 1]);
        let sport = self.rng.range(32768, 61000) as u16;
        let host_port = self.rng.range(10000, 60001) as u16;
        let size = self.rng.range(200_000, 1_800_000) as usize;
        let inv = espota::invitation(espota::FLASH, host_port, size, &self.image_md5);
        let to_dev = Link::Ethernet {
            src: frame::LAPTOP_MAC,
            dst: frame::ESPRESSIF_MAC,
        };
        self.queue(
            to_dev.wrap(&frame::udp(uploader, device, sport, 3232, &inv)),
            true,
        );
        self.s.ota_sessions += 1;
        self.s.invitations += 1;
    }

    /// PIMv2 Hello (holdtime 105, DR priority 1, a generation ID) from a PE to ALL-PIM-ROUTERS,
    /// inside GRE on the default MDT 239.1.1.1.
    fn pim_hello(&mut self) {
        let pe = IpAddr::V4(Ipv4Addr::new(192, 0, 2, self.rng.range(1, 64) as u8));
        let mut pim = vec![0x20, 0x00, 0x00, 0x00];
        pim.extend_from_slice(&[0, 1, 0, 2, 0, 105]);
        pim.extend_from_slice(&[0, 19, 0, 4, 0, 0, 0, 1]);
        pim.extend_from_slice(&[0, 20, 0, 4]);
        pim.extend_from_slice(&(self.rng.next_u64() as u32).to_be_bytes());
        let sum = internet_checksum(&pim, 0);
        pim[2..4].copy_from_slice(&sum.to_be_bytes());
        let inner = frame::ip_raw(pe, "224.0.0.13".parse().expect("literal"), 103, 1, &pim);
        self.queue(gre_frame(pe, &inner), false);
        self.s.pim_hellos += 1;
    }

    /// Data-MDT Join TLV type 1 on UDP 3232 → 224.0.0.13, inside GRE (mdt.md Ex. 2).
    fn data_mdt_join(&mut self) {
        let pe = IpAddr::V4(Ipv4Addr::new(192, 0, 2, self.rng.range(1, 64) as u8));
        let mut tlv = vec![1, 0, 16, 0];
        tlv.extend_from_slice(&[10, 1, 1, self.rng.range(1, 255) as u8]);
        tlv.extend_from_slice(&[232, 5, 5, self.rng.range(1, 255) as u8]);
        tlv.extend_from_slice(&[239, 1, 2, self.rng.range(0, 255) as u8]);
        let inner = frame::udp(pe, "224.0.0.13".parse().expect("literal"), 3232, 3232, &tlv);
        self.queue(gre_frame(pe, &inner), true);
        self.s.data_mdt_joins += 1;
    }

    /// Random bytes (first byte ≥ 0x80: no espota message) from a scanner to UDP 3232.
    fn unknown_udp_3232(&mut self) {
        let len = self.rng.range(
            16,
            if self.profile == Profile::Small {
                40
            } else {
                400
            },
        ) as usize;
        let mut body = self.payload(len).to_vec();
        body[0] |= 0x80;
        let (src, dst) = (self.host([172, 16]), self.host([10, 20]));
        let sport = self.rng.range(1024, 65000) as u16;
        let ip = frame::udp(src, dst, sport, 3232, &body);
        self.queue(eth().wrap(&ip), true);
        self.s.unknown_udp_3232 += 1;
    }

    /// A TCP SYN to port 3232 (a scan).
    fn unknown_tcp_3232(&mut self) {
        let (src, dst) = (self.host([172, 16]), self.host([10, 20]));
        let sport = self.rng.range(1024, 65000) as u16;
        let ip = frame::tcp(
            src,
            dst,
            sport,
            3232,
            self.rng.next_u64() as u32,
            0,
            frame::tcp_flags::SYN,
            &[],
        );
        self.queue(eth().wrap(&ip), false);
        self.s.unknown_tcp_3232 += 1;
    }

    /// An mDNS answer announcing an `_arduino._tcp` service.
    fn mdns(&mut self) {
        let dev = self.host([10, 20]);
        let mut m = vec![0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0];
        m.extend_from_slice(b"\x08_arduino\x04_tcp\x05local\x00");
        m.extend_from_slice(&[0, 12, 0, 1, 0, 0, 0x11, 0x94, 0, 9]);
        m.extend_from_slice(b"\x06esp32a\xc0\x0c");
        let ip = frame::udp(dev, "224.0.0.251".parse().expect("literal"), 5353, 5353, &m);
        self.queue(eth().wrap(&ip), false);
        self.s.mdns += 1;
    }

    /// A 4-byte datagram (not espota) to UDP 3232 from a source address and port no other
    /// packet of the capture uses.
    fn distinct_flow(&mut self) -> io::Result<()> {
        let n = self.s.packets as u32;
        let src = [
            10,
            64 | (n >> 22) as u8 & 0x3f,
            (n >> 14) as u8,
            (n >> 6) as u8,
        ];
        let cport = 1024 + (n & 0x3f) as u16;
        self.s.interesting_packets += 1;
        self.s.udp_ota_port_packets += 1;
        self.s.unknown_udp_3232 += 1;
        self.buf.clear();
        eth_header(&mut self.buf, false, 0x0800, None);
        ipv4_header(&mut self.buf, src, [10, 20, 0, 1], 17, 12);
        self.buf.extend_from_slice(&cport.to_be_bytes());
        self.buf
            .extend_from_slice(&[0x0c, 0xa0, 0, 12, 0, 0, 0xff, 0xfe, 0xfd, 0xfc]);
        self.emit_buf()
    }

    /// One background frame, by the mix of its profile.
    fn background(&mut self) -> io::Result<()> {
        let r = self.rng.range(0, 1000);
        let conn = self.rng.range(0, 5000) as u32;
        let client = [10, 0, (conn >> 8) as u8 & 0x0f, conn as u8];
        let server = [203, 0, 113, (conn % 200) as u8 + 1];
        let cport = 32768 + (conn.wrapping_mul(7919) % 28000) as u16;
        let down = self.rng.range(0, 2) == 0;
        match self.profile {
            Profile::Mixed => match r {
                0..=299 => self.tcp4(client, server, cport, 443, true, 1448, true),
                300..=659 => self.tcp4(client, server, cport, 443, !down, 0, true),
                660..=779 => {
                    let len = self.rng.range(100, 1400) as usize;
                    self.tcp4(client, server, cport, 80, down, len, true)
                }
                780..=879 => {
                    let len = if down {
                        self.rng.range(60, 300)
                    } else {
                        self.rng.range(28, 60)
                    } as usize;
                    self.udp4(client, [198, 51, 100, 53], cport, 53, down, len, None)
                }
                880..=939 => {
                    let len = self.rng.range(1200, 1350) as usize;
                    self.udp4(client, server, cport, 443, down, len, None)
                }
                940..=979 => {
                    let len = self.rng.range(0, 1420) as usize;
                    self.tcp6(conn, cport, down, len)
                }
                980..=984 => {
                    let len = self.rng.range(20, 600) as usize;
                    self.udp4(client, server, cport, 443, down, len, Some(42))
                }
                _ => self.arp(conn),
            },
            Profile::Small | Profile::Flows | Profile::Dense | Profile::Spray => match r {
                0..=449 => self.tcp4(client, server, cport, 443, down, 0, false),
                450..=749 => self.tcp4(client, server, cport, 443, down, 0, true),
                750..=899 => {
                    let len = self.rng.range(20, 53) as usize;
                    self.udp4(client, [198, 51, 100, 53], cport, 53, down, len, None)
                }
                900..=979 => {
                    let len = self.rng.range(10, 40) as usize;
                    self.tcp4(client, server, cport, 80, down, len, false)
                }
                _ => self.arp(conn),
            },
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn tcp4(
        &mut self,
        client: [u8; 4],
        server: [u8; 4],
        cport: u16,
        sport: u16,
        down: bool,
        len: usize,
        ts_opt: bool,
    ) -> io::Result<()> {
        let (src, dst, sp, dp) = if down {
            (server, client, sport, cport)
        } else {
            (client, server, cport, sport)
        };
        let hlen = if ts_opt { 32 } else { 20 };
        self.buf.clear();
        eth_header(&mut self.buf, down, 0x0800, None);
        ipv4_header(&mut self.buf, src, dst, 6, (hlen + len) as u16);
        let l4 = self.buf.len();
        let seq = self.rng.next_u64() as u32;
        tcp_header(
            &mut self.buf,
            sp,
            dp,
            seq,
            TCP_ACK | if len > 0 { TCP_PSH } else { 0 },
            ts_opt,
        );
        self.push_payload(len);
        let sum = internet_checksum(&self.buf[l4..], pseudo4(src, dst, 6, self.buf.len() - l4));
        self.buf[l4 + 16..l4 + 18].copy_from_slice(&sum.to_be_bytes());
        self.emit_buf()
    }

    #[allow(clippy::too_many_arguments)]
    fn udp4(
        &mut self,
        client: [u8; 4],
        server: [u8; 4],
        cport: u16,
        sport: u16,
        down: bool,
        len: usize,
        vlan: Option<u16>,
    ) -> io::Result<()> {
        let (src, dst, sp, dp) = if down {
            (server, client, sport, cport)
        } else {
            (client, server, cport, sport)
        };
        self.buf.clear();
        eth_header(&mut self.buf, down, 0x0800, vlan);
        ipv4_header(&mut self.buf, src, dst, 17, (8 + len) as u16);
        let l4 = self.buf.len();
        self.buf.extend_from_slice(&sp.to_be_bytes());
        self.buf.extend_from_slice(&dp.to_be_bytes());
        self.buf
            .extend_from_slice(&((8 + len) as u16).to_be_bytes());
        self.buf.extend_from_slice(&[0, 0]);
        self.push_payload(len);
        let sum = internet_checksum(&self.buf[l4..], pseudo4(src, dst, 17, self.buf.len() - l4));
        self.buf[l4 + 6..l4 + 8].copy_from_slice(&sum.to_be_bytes());
        self.emit_buf()
    }

    fn tcp6(&mut self, conn: u32, cport: u16, down: bool, len: usize) -> io::Result<()> {
        let mut client = [0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        client[12..16].copy_from_slice(&conn.to_be_bytes());
        let mut server = [
            0x20, 0x01, 0x0d, 0xb8, 0, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        server[15] = (conn % 200) as u8 + 1;
        let (src, dst, sp, dp) = if down {
            (server, client, 443, cport)
        } else {
            (client, server, cport, 443)
        };
        self.buf.clear();
        eth_header(&mut self.buf, down, 0x86DD, None);
        self.buf.extend_from_slice(&[0x60, 0, 0, 0]);
        self.buf
            .extend_from_slice(&((32 + len) as u16).to_be_bytes());
        self.buf.extend_from_slice(&[6, 64]);
        self.buf.extend_from_slice(&src);
        self.buf.extend_from_slice(&dst);
        let l4 = self.buf.len();
        let seq = self.rng.next_u64() as u32;
        tcp_header(
            &mut self.buf,
            sp,
            dp,
            seq,
            TCP_ACK | if len > 0 { TCP_PSH } else { 0 },
            true,
        );
        self.push_payload(len);
        let mut pseudo = 0u32;
        for c in src.chunks(2).chain(dst.chunks(2)) {
            pseudo += u32::from(u16::from_be_bytes([c[0], c[1]]));
        }
        pseudo += 6 + (self.buf.len() - l4) as u32;
        let sum = internet_checksum(&self.buf[l4..], pseudo);
        self.buf[l4 + 16..l4 + 18].copy_from_slice(&sum.to_be_bytes());
        self.emit_buf()
    }

    fn arp(&mut self, conn: u32) -> io::Result<()> {
        self.buf.clear();
        self.buf.extend_from_slice(&[0xff; 6]);
        self.buf.extend_from_slice(&ETH_CLIENT);
        self.buf
            .extend_from_slice(&[0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1]);
        self.buf.extend_from_slice(&ETH_CLIENT);
        self.buf.extend_from_slice(&[10, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
        self.buf
            .extend_from_slice(&[10, 0, (conn >> 8) as u8 & 0x0f, conn as u8]);
        self.buf.resize(60, 0);
        self.emit_buf()
    }

    fn push_payload(&mut self, len: usize) {
        let start = self.rng.range(0, (self.pool.len() - len) as u64) as usize;
        self.buf.extend_from_slice(&self.pool[start..start + len]);
    }
}

fn eth() -> Link {
    Link::Ethernet {
        src: ETH_GATEWAY,
        dst: frame::ESPRESSIF_MAC,
    }
}

/// Ethernet / IPv4 PE → 239.1.1.1 / GRE (no options) / `inner`.
fn gre_frame(pe: IpAddr, inner: &[u8]) -> Vec<u8> {
    let mut gre = vec![0, 0, 0x08, 0x00];
    gre.extend_from_slice(inner);
    let outer = frame::ip_raw(pe, "239.1.1.1".parse().expect("literal"), 47, 255, &gre);
    Link::Ethernet {
        src: ETH_GATEWAY,
        dst: [0x01, 0x00, 0x5e, 0x01, 0x01, 0x01],
    }
    .wrap(&outer)
}

fn eth_header(buf: &mut Vec<u8>, down: bool, ethertype: u16, vlan: Option<u16>) {
    let (src, dst) = if down {
        (ETH_GATEWAY, ETH_CLIENT)
    } else {
        (ETH_CLIENT, ETH_GATEWAY)
    };
    buf.extend_from_slice(&dst);
    buf.extend_from_slice(&src);
    if let Some(vid) = vlan {
        buf.extend_from_slice(&[0x81, 0x00]);
        buf.extend_from_slice(&vid.to_be_bytes());
    }
    buf.extend_from_slice(&ethertype.to_be_bytes());
}

fn ipv4_header(buf: &mut Vec<u8>, src: [u8; 4], dst: [u8; 4], proto: u8, l4_len: u16) {
    let start = buf.len();
    buf.extend_from_slice(&[0x45, 0]);
    buf.extend_from_slice(&(20 + l4_len).to_be_bytes());
    buf.extend_from_slice(&[0, 0, 0x40, 0, 64, proto, 0, 0]);
    buf.extend_from_slice(&src);
    buf.extend_from_slice(&dst);
    let sum = internet_checksum(&buf[start..], 0);
    buf[start + 10..start + 12].copy_from_slice(&sum.to_be_bytes());
}

fn tcp_header(buf: &mut Vec<u8>, sp: u16, dp: u16, seq: u32, flags: u8, ts_opt: bool) {
    buf.extend_from_slice(&sp.to_be_bytes());
    buf.extend_from_slice(&dp.to_be_bytes());
    buf.extend_from_slice(&seq.to_be_bytes());
    buf.extend_from_slice(&seq.rotate_left(7).to_be_bytes());
    buf.push(if ts_opt { 0x80 } else { 0x50 });
    buf.push(flags);
    buf.extend_from_slice(&[0x01, 0xf5, 0, 0, 0, 0]);
    if ts_opt {
        buf.extend_from_slice(&[1, 1, 8, 10]);
        buf.extend_from_slice(&seq.to_be_bytes());
        buf.extend_from_slice(&seq.rotate_right(3).to_be_bytes());
    }
}

fn pseudo4(src: [u8; 4], dst: [u8; 4], proto: u8, len: usize) -> u32 {
    let w = |a: [u8; 4]| {
        u32::from(u16::from_be_bytes([a[0], a[1]])) + u32::from(u16::from_be_bytes([a[2], a[3]]))
    };
    w(src) + w(dst) + u32::from(proto) + len as u32
}

/// RFC 1071 checksum of `data` plus an already summed pseudo-header.
fn internet_checksum(data: &[u8], initial: u32) -> u16 {
    let mut sum = u64::from(initial);
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum += u64::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        sum += u64::from(*last) << 8;
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_capture_counts_add_up() {
        let dir = std::env::temp_dir().join(format!("w3232-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("small.pcap");
        let s = write(&path, Profile::Small, Format::Pcap, 0, 20_000).unwrap();
        let len = std::fs::metadata(&path).unwrap().len();
        assert_eq!(len, 24 + 16 * s.packets + s.frame_bytes);
        assert!(s.packets >= 20_000 && s.invitations > 0 && s.data_mdt_joins > 0);
        assert_eq!(s.device_replies, s.invitations + s.auth_answers);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn dense_and_spray_hold_half_a_percent_of_espota() {
        let dir = std::env::temp_dir().join(format!("w3232-dense-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let dense = write(
            &dir.join("d.pcap"),
            Profile::Dense,
            Format::Pcap,
            0,
            200_000,
        )
        .unwrap();
        assert_eq!(dense.device_replies, dense.invitations);
        assert_eq!(dense.interesting_packets, 2 * dense.invitations);
        // 0.5 % ± 0.1 % of the packets.
        assert!(
            (800..=1200).contains(&dense.interesting_packets),
            "{dense:?}"
        );
        let spray = write(
            &dir.join("s.pcap"),
            Profile::Spray,
            Format::Pcap,
            0,
            200_000,
        )
        .unwrap();
        assert_eq!(
            (spray.device_replies, spray.interesting_packets),
            (0, spray.invitations)
        );
        assert!((800..=1200).contains(&spray.invitations), "{spray:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn checksum_matches_rfc1071_example() {
        // RFC 1071 §3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2 (one's complement 220d).
        assert_eq!(
            internet_checksum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7], 0),
            0x220d
        );
    }
}
