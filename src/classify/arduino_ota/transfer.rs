//! The espota TCP data phase (shared/docs/arduino-ota.md §1.1 steps 6–9, §1.6, §2): the device
//! connects back to the uploader's `host_port`, the uploader streams the image, the device
//! answers with byte counts and `OK` or an error. Followed in both directions with bounded
//! reassembly; the image is hashed as it passes and kept only for `--extract-firmware`.

use super::acks::Acks;
use super::session::Session;
use crate::classify::ota::{firmware, round6};
use crate::decode::{TcpFlags, TcpView};
use crate::event::arduino_ota::Firmware;
use crate::event::OtaOutcome;
use crate::flow::reasm::Stream;
use crate::time::Timestamp;
use md5::{Digest, Md5};
use std::net::IpAddr;

/// One connect-back TCP connection, from the device's SYN to its close.
pub struct TransferFlow {
    /// The session this connection belongs to, moved out of the session table.
    pub session: Box<Session>,
    pub uploader: (IpAddr, u16),
    /// Uploader → device: the image.
    up: Stream,
    /// Device → uploader: counts and the final message.
    down: Stream,
    pub acks: Acks,
    md5: Md5,
    head: Vec<u8>,
    /// The whole image, only when extracting and while under the cap.
    image: Option<Vec<u8>>,
    cap: u64,
    pub over_cap: bool,
    pub started: Timestamp,
    pub last: Timestamp,
    fin_up: bool,
    fin_down: bool,
    pub rst: bool,
    /// The `transfer` event was written; later packets are only counted.
    pub finished: bool,
}

impl std::fmt::Debug for TransferFlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransferFlow")
            .field("session_id", &self.session.id)
            .field("bytes", &self.up.delivered)
            .field("acked", &self.acks.acked())
            .finish_non_exhaustive()
    }
}

impl TransferFlow {
    pub fn new(
        session: Box<Session>,
        uploader: (IpAddr, u16),
        now: Timestamp,
        keep_image: bool,
        cap: u64,
        max_ooo: usize,
    ) -> Self {
        TransferFlow {
            session,
            uploader,
            up: Stream::new(max_ooo),
            down: Stream::new(max_ooo.min(64 * 1024)),
            acks: Acks::new(),
            md5: Md5::new(),
            head: Vec::with_capacity(firmware::HEAD_LEN),
            image: keep_image.then(Vec::new),
            cap,
            over_cap: false,
            started: now,
            last: now,
            fin_up: false,
            fin_down: false,
            rst: false,
            finished: false,
        }
    }

    /// Feeds one TCP segment. Returns whether the connection is now over (RST, or FIN both ways).
    pub fn packet(&mut self, src: (IpAddr, u16), tcp: &TcpView<'_>, now: Timestamp) -> bool {
        self.last = now;
        let from_uploader = src == self.uploader;
        let TransferFlow {
            up,
            down,
            acks,
            md5,
            head,
            image,
            cap,
            over_cap,
            ..
        } = self;
        let stream = if from_uploader { &mut *up } else { &mut *down };
        if tcp.flags.has(TcpFlags::SYN) {
            stream.syn(tcp.seq);
        }
        if from_uploader {
            up.segment(tcp.seq, tcp.payload, &mut |b| {
                md5.update(b);
                if head.len() < firmware::HEAD_LEN {
                    let n = (firmware::HEAD_LEN - head.len()).min(b.len());
                    head.extend_from_slice(&b[..n]);
                }
                if let Some(img) = image.as_mut() {
                    if img.len() as u64 + b.len() as u64 > *cap {
                        *image = None;
                        *over_cap = true;
                    } else {
                        img.extend_from_slice(b);
                    }
                }
            });
        } else {
            let sent = up.delivered;
            down.segment(tcp.seq, tcp.payload, &mut |b| acks.feed(b, sent));
        }
        if tcp.flags.has(TcpFlags::FIN) {
            if from_uploader {
                self.fin_up = true;
            } else {
                self.fin_down = true;
            }
        }
        if tcp.flags.has(TcpFlags::RST) {
            self.rst = true;
        }
        self.rst || (self.fin_up && self.fin_down)
    }

    pub fn bytes(&self) -> u64 {
        self.up.delivered
    }

    /// What the stream tells us at its end.
    pub fn summary(&mut self, image_size: u64, image_md5: &str) -> TransferSummary {
        self.acks.finish();
        let message = self.acks.message();
        let outcome = match message.as_deref() {
            Some("OK") => OtaOutcome::Complete,
            Some(_) => OtaOutcome::Failed,
            None => OtaOutcome::Aborted,
        };
        let bytes = self.up.delivered;
        let whole = bytes == image_size && !self.up.has_gap();
        let received_md5 = crate::hex::lower(&self.md5.clone().finalize());
        let duration_s = self.last.secs_since(self.started);
        TransferSummary {
            outcome,
            bytes,
            acked_bytes: self.acks.acked(),
            md5_match: whole.then(|| received_md5.eq_ignore_ascii_case(image_md5)),
            received_md5: (bytes > 0).then_some(received_md5),
            device_message: message,
            duration_s: round6(duration_s),
            throughput_bps: (duration_s > 0.0).then(|| (bytes as f64 / duration_s).round()),
            firmware: (!self.head.is_empty()).then(|| firmware::parse(&self.head)),
            retransmitted_bytes: self.up.retransmitted_bytes + self.down.retransmitted_bytes,
            out_of_order_segments: self.up.out_of_order_segments + self.down.out_of_order_segments,
            stream_gaps: self.up.has_gap() || self.down.has_gap(),
            unparsed_acks: self.acks.unparsed,
        }
    }

    /// The kept image when it is whole (for `--extract-firmware`).
    pub fn take_image(&mut self, image_size: u64) -> Option<Vec<u8>> {
        let img = self.image.take()?;
        (img.len() as u64 == image_size && !self.up.has_gap()).then_some(img)
    }
}

/// Facts from the TCP stream, merged into the `transfer` event.
#[derive(Clone, Debug, PartialEq)]
pub struct TransferSummary {
    pub outcome: OtaOutcome,
    pub bytes: u64,
    pub acked_bytes: u64,
    pub md5_match: Option<bool>,
    pub received_md5: Option<String>,
    pub device_message: Option<String>,
    pub duration_s: f64,
    pub throughput_bps: Option<f64>,
    pub firmware: Option<Firmware>,
    pub retransmitted_bytes: u64,
    pub out_of_order_segments: u64,
    pub stream_gaps: bool,
    pub unparsed_acks: u64,
}
