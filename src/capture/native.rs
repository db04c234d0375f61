//! Our own offline reader for pcap and pcapng: large `read()`s into one reused buffer, records
//! parsed in place, no per-packet copy or allocation. It is the default for regular files
//! (`--reader native`); libpcap ([`super::OfflineSource`]) stays for standard input, for
//! `--reader libpcap`, for live capture, and as the reference the tests compare against.
//!
//! Why not `mmap`: a mapped file's pages count in the process's resident set as they are
//! touched, so a 100 GB capture would show 100 GB of RSS unless the mapping is cycled; a 1 MiB
//! buffer costs one extra copy from the page cache (what `cat` pays) and keeps RSS flat.
//!
//! Formats, as libpcap 1.10 reads them with microsecond precision:
//! - classic pcap, either byte order, micro- or nanosecond magic (nanoseconds truncated);
//!   records longer than the file's snap length are cut to it, longer than 256 KiB rejected;
//! - pcapng: Section Header (either byte order; a new section resets the interfaces),
//!   Interface Description (`if_tsresol`, `if_tsoffset`), Enhanced, Simple and obsolete Packet
//!   Blocks; other blocks are skipped. Unlike libpcap, interfaces may have different link types:
//!   each packet carries its own interface's. An interface of a link type we do not decode is
//!   named in one warning and its packets are skipped and counted
//!   ([`SkippedPackets::unsupported_link`]); the other interfaces are read. A packet block whose
//!   capture length exceeds its interface's snap length or 256 KiB, whose wire length exceeds
//!   256 KiB, or whose time lies past the year 9999 (a bogus option or damaged block) is
//!   skipped and counted ([`SkippedPackets::bad_blocks`]) with one warning per file.
//!
//! A file that ends inside a record yields every complete packet, then
//! [`CaptureError::Truncated`] with libpcap's wording.

use super::{linktype_label, CaptureError, LinkType, Next, Packet, Timestamp, SUPPORTED_LINKS};
use std::io::{self, Read};
use std::ops::Range;

/// libpcap's MAXIMUM_SNAPLEN: larger pcap records are damage, not data.
const MAXIMUM_SNAPLEN: u32 = 262_144;
/// libpcap's bound on one pcapng block.
const MAX_BLOCK: usize = 16 * 1024 * 1024;
/// Read in chunks that stay in the L2 cache: the records are parsed right after the copy.
const READ_CHUNK: usize = 1 << 17;
/// 9999-12-31T23:59:59Z: a later packet time is damage (EVE writes four-digit years).
const LAST_VALID_SECOND: i64 = 253_402_300_799;

const PCAP_MICRO: u32 = 0xA1B2_C3D4;
const PCAP_NANO: u32 = 0xA1B2_3C4D;
const PCAPNG_SHB: u32 = 0x0A0D_0D0A;
const PCAPNG_BOM: u32 = 0x1A2B_3C4D;

/// Does this look like a file we read (pcap in either byte order, or pcapng)?
pub fn recognises(magic: [u8; 4]) -> bool {
    let le = u32::from_le_bytes(magic);
    let be = u32::from_be_bytes(magic);
    [PCAP_MICRO, PCAP_NANO].contains(&le)
        || [PCAP_MICRO, PCAP_NANO].contains(&be)
        || le == PCAPNG_SHB
}

/// Packets a reader skipped rather than hand over, by why.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SkippedPackets {
    /// On a pcapng interface of a link type we do not decode.
    pub unsupported_link: u64,
    /// Packet blocks with an impossible length or time.
    pub bad_blocks: u64,
}

#[derive(Clone, Copy, Debug)]
struct Iface {
    /// `None`: a link type we do not decode (its packets are skipped and counted).
    link: Option<LinkType>,
    /// The link type as declared (kept for `--write-matched`).
    linktype: i32,
    /// The interface's snap length as declared; 0: none given.
    snaplen: u32,
    /// Timestamp units per second.
    units: u64,
    offset_secs: i64,
    /// `if_tsresol` as written (6: the default, microseconds).
    tsresol: u8,
    /// Set once the description is read, for the inline packet path.
    quick: Option<Quick>,
}

impl Iface {
    /// The longest capture length its packets may have.
    fn limit(&self) -> u32 {
        match self.snaplen {
            0 => MAXIMUM_SNAPLEN,
            s => s.min(MAXIMUM_SNAPLEN),
        }
    }

    /// What [`NativeSource::enhanced_packet_in_buffer`] needs, for an interface whose packets
    /// it can read: decoded, micro- or nanosecond stamps, no time offset.
    fn quick(&self) -> Option<Quick> {
        match (self.link, self.units, self.offset_secs) {
            (Some(link), 1_000_000 | 1_000_000_000, 0) => Some(Quick {
                link,
                limit: self.limit(),
                nanos: self.units == 1_000_000_000,
            }),
            _ => None,
        }
    }
}

/// An interface as the inline packet path reads it.
#[derive(Clone, Copy, Debug)]
struct Quick {
    link: LinkType,
    limit: u32,
    nanos: bool,
}

/// Where the last packet came from, as the file declared it: what a writer needs to keep
/// every interface and exact timestamps (`--write-matched` pcapng).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Origin {
    /// pcapng: which section (from 1; interface ids restart in each); pcap: 0.
    pub section: u32,
    /// The interface id within the section (pcap: 0).
    pub interface: u32,
    pub linktype: i32,
    /// As the file declared it (0: none).
    pub snaplen: u32,
    /// Timestamp resolution, pcapng `if_tsresol` encoding (6: µs, 9: ns, high bit: base 2).
    pub tsresol: u8,
    /// Seconds added to every timestamp (pcapng `if_tsoffset`).
    pub tsoffset: i64,
    /// The packet's timestamp in `tsresol` units, before `tsoffset` (0: the block had none).
    pub raw_ts: u64,
}

enum Format {
    Pcap {
        swap: bool,
        nanos: bool,
        link: LinkType,
        snaplen: u32,
    },
    Pcapng {
        swap: bool,
        ifaces: Vec<Iface>,
        snaplen: u32,
    },
}

pub struct NativeSource {
    name: String,
    /// pcapng: the current section is in the other byte order (a copy of the format's flag,
    /// read on every field).
    ng_swap: bool,
    input: Box<dyn Read + Send>,
    buf: Vec<u8>,
    /// Unread bytes are `buf[pos..end]`.
    pos: usize,
    end: usize,
    eof: bool,
    format: Format,
    read: u64,
    link: LinkType,
    /// The last packet's interface and raw timestamp ([`NativeSource::origin`]).
    last_iface: u32,
    last_raw_ts: u64,
    sections: u32,
    skipped: SkippedPackets,
}

/// Where a packet block's packet is in the buffer, and what it says.
struct Located {
    ts: Timestamp,
    wire_len: u32,
    data: Range<usize>,
    link: LinkType,
}

/// Why [`NativeSource::fill`] could not provide the bytes asked for.
enum Short {
    /// End of input with `got` of the bytes present (0: a clean end between records).
    Eof {
        got: usize,
    },
    Io(io::Error),
}

impl NativeSource {
    /// Reads the file header from `input`. `Ok(None)`: not a format this reader knows (the
    /// caller falls back to libpcap, which has the error messages for everything else).
    pub fn open(name: &str, input: Box<dyn Read + Send>) -> Result<Option<Self>, CaptureError> {
        let mut s = NativeSource {
            name: name.to_string(),
            ng_swap: false,
            input,
            buf: vec![0; READ_CHUNK],
            pos: 0,
            end: 0,
            eof: false,
            format: Format::Pcap {
                swap: false,
                nanos: false,
                link: LinkType::Ethernet,
                snaplen: 0,
            },
            read: 0,
            link: LinkType::Ethernet,
            last_iface: 0,
            last_raw_ts: 0,
            sections: 0,
            skipped: SkippedPackets::default(),
        };
        match s.fill(4) {
            Ok(()) => {}
            Err(Short::Eof { .. }) => return Ok(None),
            Err(Short::Io(e)) => return Err(s.open_error(e.to_string())),
        }
        let magic = [
            s.buf[s.pos],
            s.buf[s.pos + 1],
            s.buf[s.pos + 2],
            s.buf[s.pos + 3],
        ];
        if !recognises(magic) {
            return Ok(None);
        }
        if u32::from_le_bytes(magic) == PCAPNG_SHB {
            s.format = Format::Pcapng {
                swap: false,
                ifaces: Vec::new(),
                snaplen: 0,
            };
            // Section header and the first interface: libpcap reports the link type at open.
            s.open_pcapng()?;
        } else {
            s.open_pcap()?;
        }
        Ok(Some(s))
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The link type of the file (pcapng: of its first interface we decode; Ethernet when none).
    pub fn link(&self) -> LinkType {
        self.link
    }

    /// Where the packet last returned came from.
    pub fn origin(&self) -> Origin {
        let mut origin = Origin {
            section: 0,
            interface: self.last_iface,
            linktype: self.link.linktype(),
            snaplen: 0,
            tsresol: 6,
            tsoffset: 0,
            raw_ts: self.last_raw_ts,
        };
        match &self.format {
            Format::Pcap {
                nanos,
                link,
                snaplen,
                ..
            } => {
                origin.linktype = link.linktype();
                origin.snaplen = *snaplen;
                origin.tsresol = if *nanos { 9 } else { 6 };
            }
            Format::Pcapng { ifaces, .. } => {
                origin.section = self.sections;
                if let Some(iface) = ifaces.get(self.last_iface as usize) {
                    origin.linktype = iface.linktype;
                    origin.snaplen = iface.snaplen;
                    origin.tsresol = iface.tsresol;
                    origin.tsoffset = iface.offset_secs;
                }
            }
        }
        origin
    }

    /// What was skipped so far (pcapng only).
    pub fn skipped(&self) -> SkippedPackets {
        self.skipped
    }

    fn open_error(&self, reason: String) -> CaptureError {
        CaptureError::Open {
            name: self.name.clone(),
            reason,
        }
    }

    fn open_pcap(&mut self) -> Result<(), CaptureError> {
        if self.fill(24).is_err() {
            return Err(
                self.open_error("truncated dump file; tried to read 24 file header bytes".into())
            );
        }
        let h = &self.buf[self.pos..self.pos + 24];
        let le = u32::from_le_bytes([h[0], h[1], h[2], h[3]]);
        let swap = le != PCAP_MICRO && le != PCAP_NANO;
        let magic = if swap { le.swap_bytes() } else { le };
        let rd32 = |b: &[u8]| {
            let v = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            if swap {
                v.swap_bytes()
            } else {
                v
            }
        };
        let major = u16::from_le_bytes([h[4], h[5]]);
        let major = if swap { major.swap_bytes() } else { major };
        if major != 2 {
            return Err(self.open_error(format!("archive file has unsupported version {major}")));
        }
        let snaplen = rd32(&h[16..20]);
        let linktype = (rd32(&h[20..24]) & 0x03FF_FFFF) as i32;
        self.pos += 24;
        let link = LinkType::from_linktype(linktype).ok_or(CaptureError::UnsupportedLink {
            name: self.name.clone(),
            linktype,
        })?;
        // libpcap's rule: a snap length of 0 or above the maximum means the maximum.
        let snaplen = if snaplen == 0 || snaplen > MAXIMUM_SNAPLEN {
            MAXIMUM_SNAPLEN
        } else {
            snaplen
        };
        self.format = Format::Pcap {
            swap,
            nanos: magic == PCAP_NANO,
            link,
            snaplen,
        };
        self.link = link;
        Ok(())
    }

    /// Reads blocks up to and including the first Interface Description Block.
    fn open_pcapng(&mut self) -> Result<(), CaptureError> {
        loop {
            let has_iface =
                matches!(&self.format, Format::Pcapng { ifaces, .. } if !ifaces.is_empty());
            if has_iface {
                return Ok(());
            }
            let (block_type, len) = match self.block_header() {
                Ok(Some(h)) => h,
                Ok(None) => {
                    return Err(
                        self.open_error("pcapng file has no Interface Description Block".into())
                    )
                }
                Err(e) => return Err(self.open_error(e)),
            };
            if let Err(e) = self.fill_block(len) {
                return Err(self.open_error(e));
            }
            match self.control_block(block_type, len) {
                Ok(true) => {}
                Ok(false) => {
                    return Err(self.open_error(
                        "pcapng file has a packet before any Interface Description Block".into(),
                    ))
                }
                Err(e) => return Err(self.open_error(e)),
            }
            self.pos += len;
        }
    }

    /// The next packet, or `End`.
    #[inline(always)]
    pub fn next_packet(&mut self) -> Result<Next<'_>, CaptureError> {
        match self.format {
            Format::Pcap { .. } => self.next_pcap(),
            Format::Pcapng { .. } => self.next_pcapng(),
        }
    }

    /// A classic pcap record. Inlined into the read loop; what is not a whole record already
    /// in the buffer (a refill, the end, damage) takes [`Self::next_pcap_slow`].
    #[inline(always)]
    fn next_pcap(&mut self) -> Result<Next<'_>, CaptureError> {
        let (swap, nanos, link, snaplen) = self.pcap_format();
        let available = self.end - self.pos;
        if available < 16 {
            return self.next_pcap_slow();
        }
        let [sec, frac, caplen, wire_len] = self.record_header(swap);
        if caplen > MAXIMUM_SNAPLEN || available - 16 < caplen as usize {
            return self.next_pcap_slow();
        }
        Ok(Next::Packet(self.take_record(
            sec,
            frac,
            caplen as usize,
            wire_len,
            nanos,
            link,
            snaplen,
        )))
    }

    /// A classic pcap file's byte order, time unit, link type and snap length.
    #[inline(always)]
    fn pcap_format(&self) -> (bool, bool, LinkType, u32) {
        let Format::Pcap {
            swap,
            nanos,
            link,
            snaplen,
        } = self.format
        else {
            unreachable!("pcap format")
        };
        (swap, nanos, link, snaplen)
    }

    /// The 16-byte record header at `pos` (in the buffer): seconds, fraction, captured and
    /// original length.
    #[inline(always)]
    fn record_header(&self, swap: bool) -> [u32; 4] {
        let h: &[u8; 16] = self.buf[self.pos..self.pos + 16]
            .try_into()
            .expect("16 bytes");
        let rd = |i: usize| u32::from_le_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
        let fields = [rd(0), rd(4), rd(8), rd(12)];
        if swap {
            fields.map(u32::swap_bytes)
        } else {
            fields
        }
    }

    /// The record at `pos`, whole in the buffer: moves past it.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn take_record(
        &mut self,
        sec: u32,
        frac: u32,
        caplen: usize,
        wire_len: u32,
        nanos: bool,
        link: LinkType,
        snaplen: u32,
    ) -> Packet<'_> {
        let start = self.pos + 16;
        self.pos = start + caplen;
        // Longer than the snap length: libpcap keeps the first `snaplen` bytes.
        let kept = caplen.min(snaplen as usize);
        self.read += 1;
        self.last_raw_ts =
            u64::from(sec) * if nanos { 1_000_000_000 } else { 1_000_000 } + u64::from(frac);
        let usec = if nanos { frac / 1000 } else { frac };
        Packet {
            ts: Timestamp::from_timeval(i64::from(sec), i64::from(usec)),
            wire_len,
            data: &self.buf[start..start + kept],
            link,
            index: self.read,
        }
    }

    /// `next_pcap`'s way when the record is not whole in the buffer.
    #[inline(never)]
    fn next_pcap_slow(&mut self) -> Result<Next<'_>, CaptureError> {
        let (swap, nanos, link, snaplen) = self.pcap_format();
        match self.fill(16) {
            Ok(()) => {}
            Err(Short::Eof { got: 0 }) => return Ok(Next::End),
            Err(Short::Eof { got }) => {
                return Err(self.truncated(format!(
                    "truncated dump file; tried to read 16 header bytes, only got {got}"
                )))
            }
            Err(Short::Io(e)) => return Err(self.read_error(e.to_string())),
        }
        let [sec, frac, caplen, wire_len] = self.record_header(swap);
        if caplen > MAXIMUM_SNAPLEN {
            let reason = if caplen > snaplen {
                format!("invalid packet capture length {caplen}, bigger than snaplen of {snaplen}")
            } else {
                format!("invalid packet capture length {caplen}, bigger than maximum of {MAXIMUM_SNAPLEN}")
            };
            return Err(self.read_error(reason));
        }
        let caplen = caplen as usize;
        match self.fill(16 + caplen) {
            Ok(()) => {}
            Err(Short::Eof { got }) => {
                return Err(self.truncated(format!(
                    "truncated dump file; tried to read {caplen} captured bytes, only got {}",
                    got.saturating_sub(16)
                )))
            }
            Err(Short::Io(e)) => return Err(self.read_error(e.to_string())),
        }
        Ok(Next::Packet(self.take_record(
            sec, frac, caplen, wire_len, nanos, link, snaplen,
        )))
    }

    /// A pcapng block. Inlined into the read loop: an Enhanced Packet Block whole in the
    /// buffer, on a decoded interface with micro- or nanosecond stamps and no time offset (what
    /// Wireshark and dumpcap write), is read at once; everything else takes
    /// [`Self::next_pcapng_slow`].
    #[inline(always)]
    fn next_pcapng(&mut self) -> Result<Next<'_>, CaptureError> {
        match self.enhanced_packet_in_buffer() {
            Some(p) => Ok(Next::Packet(Packet {
                ts: p.ts,
                wire_len: p.wire_len,
                data: &self.buf[p.data],
                link: p.link,
                index: self.read,
            })),
            None => self.next_pcapng_slow(),
        }
    }

    /// [`Self::packet_block`]'s answer for the common case, or `None` for the slow path to
    /// take the block (which it reads, checks and reports in full). Same result: same packet
    /// bytes, time and number.
    #[inline(always)]
    fn enhanced_packet_in_buffer(&mut self) -> Option<Located> {
        const HEADER: usize = 28; // type, length, interface, time (2 words), lengths (2 words)
        let at = self.pos;
        let available = self.end - at;
        if available < HEADER + 4 {
            return None;
        }
        let h: &[u8; HEADER] = self.buf[at..at + HEADER].try_into().ok()?;
        let mut words: [u32; HEADER / 4] = std::array::from_fn(|i| {
            u32::from_le_bytes([h[4 * i], h[4 * i + 1], h[4 * i + 2], h[4 * i + 3]])
        });
        // One test for the byte order, not one a field.
        if self.ng_swap {
            words = words.map(u32::swap_bytes);
        }
        let [block_type, len, iface_id, ts_high, ts_low, caplen, wire_len] = words;
        let (len, caplen) = (len as usize, caplen as usize);
        if block_type != 6 || len < HEADER + 4 || len % 4 != 0 || len > available.min(MAX_BLOCK) {
            return None;
        }
        let raw_ts = (u64::from(ts_high) << 32) | u64::from(ts_low);
        let Format::Pcapng {
            ifaces, snaplen, ..
        } = &self.format
        else {
            return None;
        };
        let Quick { link, limit, nanos } = ifaces.get(iface_id as usize)?.quick?;
        if HEADER + caplen > len - 4 || caplen > limit as usize || wire_len > MAXIMUM_SNAPLEN {
            return None;
        }
        // Constant divisors: multiplies, not `div`s.
        let (sec, usec) = if nanos {
            (raw_ts / 1_000_000_000, raw_ts % 1_000_000_000 / 1000)
        } else {
            (raw_ts / 1_000_000, raw_ts % 1_000_000)
        };
        if sec > LAST_VALID_SECOND as u64 {
            return None;
        }
        let data = at + HEADER..at + HEADER + caplen.min(*snaplen as usize);
        self.pos += len;
        self.read += 1;
        self.last_iface = iface_id;
        self.last_raw_ts = raw_ts;
        Some(Located {
            ts: Timestamp::from_timeval(sec as i64, usec as i64),
            wire_len,
            data,
            link,
        })
    }

    #[inline(never)]
    fn next_pcapng_slow(&mut self) -> Result<Next<'_>, CaptureError> {
        loop {
            let (block_type, len) = match self.block_header() {
                Ok(Some(h)) => h,
                Ok(None) => return Ok(Next::End),
                Err(e) => return Err(self.block_error(e)),
            };
            if let Err(e) = self.fill_block(len) {
                return Err(self.block_error(e));
            }
            match block_type {
                2 | 3 | 6 => {
                    if let Some(p) = self.packet_block(block_type, len)? {
                        return Ok(Next::Packet(Packet {
                            ts: p.ts,
                            wire_len: p.wire_len,
                            data: &self.buf[p.data],
                            link: p.link,
                            index: self.read,
                        }));
                    }
                }
                _ => match self.control_block(block_type, len) {
                    Ok(_) => self.pos += len,
                    Err(e) => return Err(self.read_error(e)),
                },
            }
        }
    }

    fn block_error(&self, e: String) -> CaptureError {
        if e.starts_with("truncated") {
            self.truncated(e)
        } else {
            self.read_error(e)
        }
    }

    #[inline(always)]
    fn swap(&self) -> bool {
        self.ng_swap
    }

    #[inline(always)]
    fn u32_at(&self, at: usize) -> u32 {
        let mut b = [0u8; 4];
        b.copy_from_slice(&self.buf[at..at + 4]);
        let v = u32::from_le_bytes(b);
        if self.swap() {
            v.swap_bytes()
        } else {
            v
        }
    }

    #[inline(always)]
    fn u16_at(&self, at: usize) -> u16 {
        let v = u16::from_le_bytes([self.buf[at], self.buf[at + 1]]);
        if self.swap() {
            v.swap_bytes()
        } else {
            v
        }
    }

    /// Type and total length of the block at `pos` (a Section Header sets the byte order
    /// first). `Ok(None)` at a clean end of file.
    fn block_header(&mut self) -> Result<Option<(u32, usize)>, String> {
        match self.fill(12) {
            Ok(()) => {}
            Err(Short::Eof { got: 0 }) => return Ok(None),
            Err(Short::Eof { got }) => {
                return Err(format!(
                    "truncated pcapng dump file; tried to read 12 bytes, only got {got}"
                ))
            }
            Err(Short::Io(e)) => return Err(e.to_string()),
        }
        let p = self.pos;
        let raw_type = u32::from_le_bytes([
            self.buf[p],
            self.buf[p + 1],
            self.buf[p + 2],
            self.buf[p + 3],
        ]);
        if raw_type == PCAPNG_SHB {
            let bom = u32::from_le_bytes([
                self.buf[p + 8],
                self.buf[p + 9],
                self.buf[p + 10],
                self.buf[p + 11],
            ]);
            let swap = match bom {
                PCAPNG_BOM => false,
                b if b.swap_bytes() == PCAPNG_BOM => true,
                _ => {
                    return Err(format!(
                        "pcapng section header has a bad byte-order magic 0x{bom:08x}"
                    ))
                }
            };
            if let Format::Pcapng { swap: s, .. } = &mut self.format {
                *s = swap;
            }
            self.ng_swap = swap;
        }
        let block_type = self.u32_at(p);
        let len = self.u32_at(p + 4) as usize;
        if len < 12 {
            return Err(format!(
                "block in pcapng dump file has a length of {len} < 12"
            ));
        }
        if len % 4 != 0 {
            return Err(format!(
                "block in pcapng dump file has a length of {len} that is not a multiple of 4"
            ));
        }
        if len > MAX_BLOCK {
            return Err(format!("pcapng block size {len} > maximum {MAX_BLOCK}"));
        }
        Ok(Some((block_type, len)))
    }

    fn fill_block(&mut self, len: usize) -> Result<(), String> {
        match self.fill(len) {
            Ok(()) => Ok(()),
            Err(Short::Eof { got }) => Err(format!(
                "truncated pcapng dump file; tried to read {len} bytes, only got {got}"
            )),
            Err(Short::Io(e)) => Err(e.to_string()),
        }
    }

    /// Section Header, Interface Description and every block that is not a packet. Returns
    /// whether the block was one we accept before the first interface (not a packet).
    fn control_block(&mut self, block_type: u32, len: usize) -> Result<bool, String> {
        let body = self.pos + 8..self.pos + len - 4;
        match block_type {
            PCAPNG_SHB => {
                if body.len() < 16 {
                    return Err("pcapng section header block is too short".into());
                }
                let major = self.u16_at(body.start + 4);
                if major != 1 {
                    return Err(format!("unsupported pcapng savefile version {major}"));
                }
                if let Format::Pcapng { ifaces, .. } = &mut self.format {
                    ifaces.clear();
                }
                self.sections += 1;
                Ok(true)
            }
            1 => {
                if body.len() < 8 {
                    return Err("pcapng interface description block is too short".into());
                }
                let linktype = i32::from(self.u16_at(body.start));
                let snaplen = self.u32_at(body.start + 4);
                let mut iface = Iface {
                    link: LinkType::from_linktype(linktype),
                    linktype,
                    snaplen,
                    units: 1_000_000,
                    offset_secs: 0,
                    tsresol: 6,
                    quick: None,
                };
                let mut at = body.start + 8;
                while at + 4 <= body.end {
                    let (code, olen) = (self.u16_at(at), usize::from(self.u16_at(at + 2)));
                    let value = at + 4..at + 4 + olen;
                    if value.end > body.end || code == 0 {
                        break;
                    }
                    match (code, olen) {
                        (9, 1) => {
                            let r = self.buf[value.start];
                            iface.tsresol = r;
                            let exp = u32::from(r & 0x7f);
                            let base: u64 = if r & 0x80 != 0 { 2 } else { 10 };
                            iface.units = base.checked_pow(exp).ok_or_else(|| {
                                format!("pcapng if_tsresol 0x{r:02x} is out of range")
                            })?;
                        }
                        (14, 8) => {
                            let (a, b) = (self.u32_at(value.start), self.u32_at(value.start + 4));
                            let v = if self.swap() {
                                (u64::from(a) << 32) | u64::from(b)
                            } else {
                                (u64::from(b) << 32) | u64::from(a)
                            };
                            iface.offset_secs = v as i64;
                        }
                        _ => {}
                    }
                    at = value.start + olen.div_ceil(4) * 4;
                }
                let index = match &self.format {
                    Format::Pcapng { ifaces, .. } => ifaces.len(),
                    Format::Pcap { .. } => 0,
                };
                match iface.link {
                    Some(link) if index == 0 => self.link = link,
                    Some(_) => {}
                    None => tracing::warn!(
                        "{}: interface {index} is {}, which is not decoded (supported: {SUPPORTED_LINKS}); its packets are skipped and counted as capture.unsupported_link_packets",
                        self.name,
                        linktype_label(linktype)
                    ),
                }
                if let Format::Pcapng {
                    ifaces, snaplen: s, ..
                } = &mut self.format
                {
                    if ifaces.is_empty() {
                        *s = if snaplen == 0 || snaplen > MAXIMUM_SNAPLEN {
                            MAXIMUM_SNAPLEN
                        } else {
                            snaplen
                        };
                    }
                    iface.quick = iface.quick();
                    ifaces.push(iface);
                }
                Ok(true)
            }
            2 | 3 | 6 => Ok(false),
            _ => Ok(true),
        }
    }

    /// Enhanced (6), Simple (3) or obsolete (2) Packet Block at `pos`, already in the buffer.
    /// `None`: skipped and counted (an unsupported interface, an impossible length or time).
    fn packet_block(
        &mut self,
        block_type: u32,
        len: usize,
    ) -> Result<Option<Located>, CaptureError> {
        let Format::Pcapng {
            ifaces, snaplen, ..
        } = &self.format
        else {
            unreachable!("pcapng format")
        };
        let snaplen = *snaplen as usize;
        let body = self.pos + 8..self.pos + len - 4;
        let (iface_id, ts, caplen, wire_len, data_at) = match block_type {
            6 | 2 => {
                if body.len() < 20 {
                    return Err(
                        self.read_error(format!("pcapng packet block of {len} bytes is too short"))
                    );
                }
                let iface_id = if block_type == 6 {
                    self.u32_at(body.start)
                } else {
                    u32::from(self.u16_at(body.start))
                };
                let ts = (u64::from(self.u32_at(body.start + 4)) << 32)
                    | u64::from(self.u32_at(body.start + 8));
                let caplen = self.u32_at(body.start + 12) as usize;
                (
                    iface_id,
                    Some(ts),
                    caplen,
                    self.u32_at(body.start + 16),
                    body.start + 20,
                )
            }
            _ => {
                if body.len() < 4 {
                    return Err(self.read_error(format!(
                        "pcapng simple packet block of {len} bytes is too short"
                    )));
                }
                let wire_len = self.u32_at(body.start);
                let room = body.len() - 4;
                (
                    0,
                    None,
                    (wire_len as usize).min(room),
                    wire_len,
                    body.start + 4,
                )
            }
        };
        let Some(iface) = ifaces.get(iface_id as usize).copied() else {
            return Err(self.read_error(format!(
                "a packet arrived on interface {iface_id}, but there's no Interface Description Block for that interface"
            )));
        };
        if data_at + caplen > body.end {
            return Err(self.read_error(format!(
                "pcapng packet block: capture length {caplen} exceeds the block"
            )));
        }
        // Skipped packets keep their number, so `pcap_cnt` stays Wireshark's frame number.
        let Some(link) = iface.link else {
            self.skipped.unsupported_link += 1;
            self.read += 1;
            self.pos += len;
            return Ok(None);
        };
        let raw_ts = ts;
        let limit = iface.limit();
        if caplen > limit as usize || wire_len > MAXIMUM_SNAPLEN {
            let what = if caplen > limit as usize {
                format!("capture length {caplen} exceeds the interface's limit of {limit}")
            } else {
                format!("wire length {wire_len} exceeds {MAXIMUM_SNAPLEN}")
            };
            return Ok(self.bad_block(len, &what));
        }
        let ts = ts.map_or(Timestamp(0), |t| {
            // The common microsecond case divides by a constant (a multiply, not a `div`).
            let (sec, frac) = if iface.units == 1_000_000 {
                (t / 1_000_000, t % 1_000_000)
            } else {
                (t / iface.units, t % iface.units)
            };
            let usec = match iface.units {
                1_000_000 => frac,
                // Decimal resolutions: one u64 multiply or divide (no 128-bit division per packet).
                u if u > 1_000_000 && u % 1_000_000 == 0 => frac / (u / 1_000_000),
                u if 1_000_000 % u == 0 => frac * (1_000_000 / u),
                u => (u128::from(frac) * 1_000_000 / u128::from(u)) as u64,
            };
            Timestamp::from_timeval(
                i64::try_from(sec)
                    .unwrap_or(i64::MAX)
                    .saturating_add(iface.offset_secs),
                usec as i64,
            )
        });
        if ts.micros() / 1_000_000 > LAST_VALID_SECOND {
            let what = format!(
                "time {}s after 1970 lies past the year 9999",
                ts.micros() / 1_000_000
            );
            return Ok(self.bad_block(len, &what));
        }
        self.pos += len;
        self.read += 1;
        self.last_iface = iface_id;
        self.last_raw_ts = raw_ts.unwrap_or(0);
        Ok(Some(Located {
            ts,
            wire_len,
            data: data_at..data_at + caplen.min(snaplen),
            link,
        }))
    }

    /// Skips the packet block at `pos` of `len` bytes, counted; the file's first one is named
    /// in a warning.
    fn bad_block(&mut self, len: usize, what: &str) -> Option<Located> {
        if self.skipped.bad_blocks == 0 {
            tracing::warn!(
                "{}: packet block after packet {}: {what}; skipped (such blocks are counted as capture.bad_packet_blocks)",
                self.name,
                self.read
            );
        }
        self.skipped.bad_blocks += 1;
        self.read += 1;
        self.pos += len;
        None
    }

    fn truncated(&self, reason: String) -> CaptureError {
        CaptureError::Truncated {
            name: self.name.clone(),
            after: self.read,
            reason,
        }
    }

    fn read_error(&self, reason: String) -> CaptureError {
        CaptureError::Read {
            name: self.name.clone(),
            after: self.read,
            reason,
        }
    }

    /// Makes `buf[pos..pos + n]` valid, reading more input as needed.
    #[inline]
    fn fill(&mut self, n: usize) -> Result<(), Short> {
        if self.end - self.pos >= n {
            return Ok(());
        }
        self.refill(n)
    }

    #[cold]
    fn refill(&mut self, n: usize) -> Result<(), Short> {
        // Keep the unread tail, at the front.
        self.buf.copy_within(self.pos..self.end, 0);
        self.end -= self.pos;
        self.pos = 0;
        if self.buf.len() < n {
            self.buf.resize(n.next_power_of_two(), 0);
        }
        while self.end < n {
            if self.eof {
                return Err(Short::Eof { got: self.end });
            }
            match self.input.read(&mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(k) => self.end += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Short::Io(e)),
            }
        }
        Ok(())
    }
}
