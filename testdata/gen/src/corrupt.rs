//! Damaged and hostile captures, made by mutating valid ones (the bundled `testdata/` files).
//!
//! [`cases`] takes the bytes of valid little-endian pcap / pcapng files (as [`crate::capture`]
//! writes them) and returns mutants: truncation at every offset class (file header, record
//! header, record data), bit flips in headers, caplen > len, len > snaplen, huge caplen,
//! zero-length records, the same packets as big-endian and nanosecond pcap, pcapng with
//! unknown blocks, extra interfaces and nanosecond resolution, and files that are no capture at
//! all. Each case says what a reader must still deliver ([`Expect`]); `tests/corrupt.rs` runs
//! the binary over them. Nothing here is written to `testdata/`: the test builds the corpus in
//! a temporary directory.

use crate::capture::{linktype, PcapWriter, PcapngWriter, Record};

/// What reading a case must give.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// Reads without complaint: exit 0, nothing on stderr, and every event of the original's
    /// first `intact` packets comes out unchanged (`u64::MAX`: all of them).
    Clean { intact: u64 },
    /// Cut off inside a record: exit 0, one warning line, `files.truncated = 1`, and every
    /// event of the first `intact` packets.
    Truncated { intact: u64 },
    /// Damaged in a way the reader may or may not notice: exit 0 or 1, at most one line on
    /// stderr, and every event of the first `intact` packets.
    Damaged { intact: u64 },
    /// Cannot be read at all: exit 1, one line `watch3232: error: PATH: …`, `files.failed = 1`.
    Unreadable,
}

/// What to put at the case's path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Content {
    Bytes(Vec<u8>),
    Directory,
    /// Nothing: the path does not exist.
    Missing,
}

#[derive(Clone, Debug)]
pub struct Case {
    /// A file name: `<source>.<mutation>[.<detail>]`.
    pub name: String,
    pub content: Content,
    pub expect: Expect,
}

/// How thoroughly to cut: a few offsets of each class, or every byte offset of the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Depth {
    Classes,
    EveryOffset,
}

/// One packet record of a pcap file, or one block of a pcapng file: byte ranges.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    /// First byte of the packet data (pcap: after the 16-byte header; pcapng EPB: after 28).
    pub data: usize,
    pub end: usize,
    /// pcapng block type (pcap: 0).
    pub block_type: u32,
}

const PCAP_HEADER: usize = 24;
const PCAP_RECORD_HEADER: usize = 16;
const EPB: u32 = 6;
const SPB: u32 = 3;

/// The records of a little-endian microsecond pcap file.
pub fn pcap_records(file: &[u8]) -> Option<Vec<Span>> {
    if file.len() < PCAP_HEADER || file[..4] != 0xA1B2_C3D4u32.to_le_bytes() {
        return None;
    }
    let mut out = Vec::new();
    let mut at = PCAP_HEADER;
    while at + PCAP_RECORD_HEADER <= file.len() {
        let caplen = le32(file, at + 8) as usize;
        let end = at + PCAP_RECORD_HEADER + caplen;
        if end > file.len() {
            return None;
        }
        out.push(Span {
            start: at,
            data: at + PCAP_RECORD_HEADER,
            end,
            block_type: 0,
        });
        at = end;
    }
    (at == file.len()).then_some(out)
}

/// The blocks of a little-endian pcapng file (section header first).
pub fn pcapng_blocks(file: &[u8]) -> Option<Vec<Span>> {
    if file.len() < 12 || file[..4] != 0x0A0D_0D0Au32.to_le_bytes() {
        return None;
    }
    let mut out = Vec::new();
    let mut at = 0;
    while at + 12 <= file.len() {
        let block_type = le32(file, at);
        let len = le32(file, at + 4) as usize;
        if len < 12 || len & 3 != 0 || at + len > file.len() {
            return None;
        }
        let data = match block_type {
            EPB => at + 28,
            SPB => at + 12,
            _ => at + 8,
        };
        out.push(Span {
            start: at,
            data,
            end: at + len,
            block_type,
        });
        at += len;
    }
    (at == file.len()).then_some(out)
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn put_le32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

fn is_packet(s: &Span) -> bool {
    s.block_type == 0 || s.block_type == EPB || s.block_type == SPB
}

/// Packets wholly before byte `offset`.
fn packets_before(spans: &[Span], offset: usize) -> u64 {
    spans
        .iter()
        .filter(|s| is_packet(s) && s.end <= offset)
        .count() as u64
}

/// The records of a pcap file as [`Record`]s (timestamps in microseconds).
pub fn pcap_to_records(file: &[u8]) -> Option<Vec<Record>> {
    let spans = pcap_records(file)?;
    Some(
        spans
            .iter()
            .map(|s| {
                let ts_us =
                    i64::from(le32(file, s.start)) * 1_000_000 + i64::from(le32(file, s.start + 4));
                Record {
                    ts_us,
                    data: file[s.data..s.end].to_vec(),
                    orig_len: le32(file, s.start + 12),
                    interface: 0,
                }
            })
            .collect(),
    )
}

/// Writes pcap with a chosen byte order and timestamp resolution (`nanos`: magic 0xA1B23C4D).
pub fn pcap_variant(
    linktype: u32,
    snaplen: u32,
    records: &[Record],
    big_endian: bool,
    nanos: bool,
) -> Vec<u8> {
    let w32 = |out: &mut Vec<u8>, v: u32| {
        out.extend_from_slice(&if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        })
    };
    let w16 = |out: &mut Vec<u8>, v: u16| {
        out.extend_from_slice(&if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        })
    };
    let mut out = Vec::new();
    w32(&mut out, if nanos { 0xA1B2_3C4D } else { 0xA1B2_C3D4 });
    w16(&mut out, 2);
    w16(&mut out, 4);
    w32(&mut out, 0);
    w32(&mut out, 0);
    w32(&mut out, snaplen);
    w32(&mut out, linktype);
    for r in records {
        let sec = (r.ts_us / 1_000_000) as u32;
        let frac = (r.ts_us % 1_000_000) as u32;
        w32(&mut out, sec);
        w32(&mut out, if nanos { frac * 1000 } else { frac });
        w32(&mut out, r.data.len() as u32);
        w32(&mut out, r.orig_len);
        out.extend_from_slice(&r.data);
    }
    out
}

/// Every mutant of one valid capture. `name` names the source (e.g. `ethernet.pcap`).
pub fn cases(name: &str, file: &[u8], depth: Depth) -> Vec<Case> {
    if let Some(spans) = pcap_records(file) {
        pcap_cases(name, file, &spans, depth)
    } else if let Some(blocks) = pcapng_blocks(file) {
        pcapng_cases(name, file, &blocks, depth)
    } else {
        panic!("{name}: not a capture this generator understands (little-endian pcap or pcapng)")
    }
}

/// Files that are no capture at all, a directory and a missing path.
pub fn foreign_cases() -> Vec<Case> {
    let mut rng = crate::rng::Rng::new(8);
    let v = |name: &str, content: Content| Case {
        name: name.to_string(),
        content,
        expect: Expect::Unreadable,
    };
    let mut elf = b"\x7fELF\x02\x01\x01\0".to_vec();
    elf.resize(64, 0);
    vec![
        v("empty.pcap", Content::Bytes(Vec::new())),
        v(
            "text.pcap",
            Content::Bytes(b"[package]\nname = \"watch3232\"\n".to_vec()),
        ),
        v("random.pcap", Content::Bytes(rng.bytes(4096))),
        v("elf.pcap", Content::Bytes(elf)),
        v(
            "magic-only.pcap",
            Content::Bytes(0xA1B2_C3D4u32.to_le_bytes().to_vec()),
        ),
        v(
            "magic-only.pcapng",
            Content::Bytes(0x0A0D_0D0Au32.to_le_bytes().to_vec()),
        ),
        v("directory.pcap", Content::Directory),
        v("missing.pcap", Content::Missing),
    ]
}

fn case(name: &str, what: impl std::fmt::Display, content: Vec<u8>, expect: Expect) -> Case {
    Case {
        name: format!("{name}.{what}"),
        content: Content::Bytes(content),
        expect,
    }
}

/// Offsets to cut at: all of them, or a few of each class.
fn cut_offsets(file_len: usize, header: usize, spans: &[Span], depth: Depth) -> Vec<usize> {
    if depth == Depth::EveryOffset {
        return (0..file_len).collect();
    }
    let mut offsets = vec![0, 1, 4, header / 2, header - 1, header];
    let packets: Vec<&Span> = spans.iter().filter(|s| is_packet(s)).collect();
    let n = packets.len();
    let picks = [0, 1, n / 2, n.saturating_sub(1)];
    for &i in picks.iter().filter(|&&i| i < n) {
        let s = packets[i];
        let data_len = s.end - s.data;
        offsets.extend([
            s.start,
            s.start + 1,
            s.start + 8,
            s.data - 1,
            s.data,
            s.data + 1,
        ]);
        offsets.extend([s.data + data_len / 2, s.end - 1, s.end]);
    }
    offsets.sort_unstable();
    offsets.dedup();
    offsets.retain(|&o| o <= file_len);
    offsets
}

fn pcap_cases(name: &str, file: &[u8], spans: &[Span], depth: Depth) -> Vec<Case> {
    let mut out = Vec::new();
    let all = u64::MAX;

    // Truncation.
    for cut in cut_offsets(file.len(), PCAP_HEADER, spans, depth) {
        let intact = packets_before(spans, cut);
        let expect = if cut < PCAP_HEADER {
            Expect::Unreadable
        } else if cut == file.len() || spans.iter().any(|s| s.end == cut) || cut == PCAP_HEADER {
            Expect::Clean { intact }
        } else {
            Expect::Truncated { intact }
        };
        out.push(case(
            name,
            format_args!("cut{cut:05}"),
            file[..cut].to_vec(),
            expect,
        ));
    }

    // Bit flips in the file header: magic and version make it unreadable or damaged; the time
    // zone and sigfigs fields are ignored; snaplen and link type change how it reads.
    for byte in 0..PCAP_HEADER {
        for bit in [0, 7] {
            let mut f = file.to_vec();
            f[byte] ^= 1 << bit;
            let expect = match byte {
                8..=15 => Expect::Clean { intact: all },
                _ => Expect::Damaged { intact: 0 },
            };
            out.push(case(
                name,
                format_args!("hdrflip{byte:02}.{bit}"),
                f,
                expect,
            ));
        }
    }

    // Bit flips in record headers: packets before the damaged record survive.
    let n = spans.len();
    for (i, s) in [0, n / 2, n - 1].into_iter().map(|i| (i, spans[i])) {
        for byte in 0..PCAP_RECORD_HEADER {
            for bit in [0, 7] {
                let mut f = file.to_vec();
                f[s.start + byte] ^= 1 << bit;
                out.push(case(
                    name,
                    format_args!("recflip{i:03}.{byte:02}.{bit}"),
                    f,
                    Expect::Damaged { intact: i as u64 },
                ));
            }
        }
    }

    // Length fields that lie, one record at a time.
    let mid = spans[n / 2];
    let caplen = (mid.end - mid.data) as u32;
    let lies: [(&str, usize, u32, Expect); 7] = [
        // caplen > len: the reader keeps the bytes; framing is intact.
        (
            "caplen-over-len",
            12,
            caplen / 2,
            Expect::Clean { intact: all },
        ),
        // len > snaplen (65535): ordinary for a snapped capture.
        (
            "len-over-snaplen",
            12,
            1_000_000,
            Expect::Clean { intact: all },
        ),
        ("len-max", 12, u32::MAX, Expect::Clean { intact: all }),
        ("len-zero", 12, 0, Expect::Clean { intact: all }),
        // caplen past the end of the file, huge, or merely wrong: framing is lost from here.
        (
            "caplen-max",
            8,
            u32::MAX,
            Expect::Damaged {
                intact: n as u64 / 2,
            },
        ),
        (
            "caplen-over-snaplen",
            8,
            70_000,
            Expect::Damaged {
                intact: n as u64 / 2,
            },
        ),
        (
            "caplen-plus-one",
            8,
            caplen + 1,
            Expect::Damaged {
                intact: n as u64 / 2,
            },
        ),
    ];
    for (what, field, value, expect) in lies {
        let mut f = file.to_vec();
        put_le32(&mut f, mid.start + field, value);
        out.push(case(name, what, f, expect));
    }
    // A header's snaplen smaller than the records' caplen.
    let mut f = file.to_vec();
    put_le32(&mut f, 16, 32);
    out.push(case(name, "snaplen-32", f, Expect::Damaged { intact: 0 }));
    let mut f = file.to_vec();
    put_le32(&mut f, 16, u32::MAX);
    out.push(case(name, "snaplen-max", f, Expect::Damaged { intact: 0 }));

    // Zero-length records (caplen 0, with len 0 and len 60) before, between and after.
    let records = pcap_to_records(file).expect("parsed above");
    let lt = le32(file, 20);
    let zero = |ts_us: i64, orig_len: u32| Record {
        ts_us,
        data: Vec::new(),
        orig_len,
        interface: 0,
    };
    let mut with_zeros = Vec::new();
    for r in &records {
        with_zeros.push(zero(r.ts_us, 0));
        with_zeros.push(r.clone());
        with_zeros.push(zero(r.ts_us, 60));
    }
    out.push(case(
        name,
        "zero-length-records",
        write_pcap(lt, &with_zeros),
        Expect::Clean { intact: all },
    ));
    // Timestamps out of order and a microsecond field past one second.
    let mut shuffled = records.clone();
    shuffled.reverse();
    out.push(case(
        name,
        "time-reversed",
        write_pcap(lt, &shuffled),
        Expect::Damaged { intact: 0 },
    ));
    let mut f = file.to_vec();
    put_le32(&mut f, mid.start + 4, 3_000_000);
    out.push(case(
        name,
        "usec-overflow",
        f,
        Expect::Damaged {
            intact: n as u64 / 2,
        },
    ));

    // The same packets in the other byte order and with nanosecond stamps: identical events.
    let snaplen = le32(file, 16);
    for (what, be, ns) in [
        ("big-endian", true, false),
        ("nanosecond", false, true),
        ("big-endian-nanosecond", true, true),
    ] {
        out.push(case(
            name,
            what,
            pcap_variant(lt, snaplen, &records, be, ns),
            Expect::Clean { intact: all },
        ));
    }
    // Two captures glued together: the second header reads as a bogus record.
    let mut f = file.to_vec();
    f.extend_from_slice(file);
    out.push(case(
        name,
        "concatenated",
        f,
        Expect::Damaged { intact: n as u64 },
    ));
    out
}

fn write_pcap(linktype: u32, records: &[Record]) -> Vec<u8> {
    let mut w = PcapWriter::new(Vec::new(), linktype, 65535).expect("Vec");
    for r in records {
        w.write(r).expect("Vec");
    }
    w.into_inner()
}

fn pcapng_cases(name: &str, file: &[u8], blocks: &[Span], depth: Depth) -> Vec<Case> {
    let mut out = Vec::new();
    let all = u64::MAX;
    let shb = blocks[0];
    let first_packet = blocks.iter().position(is_packet).unwrap_or(blocks.len());
    let header_end = blocks.get(first_packet).map_or(file.len(), |b| b.start);

    // Truncation: inside the section header, an interface description, a packet block's
    // header, its data, or its trailing length.
    for cut in cut_offsets(file.len(), header_end, blocks, depth) {
        let intact = packets_before(blocks, cut);
        let expect = if cut < header_end {
            // libpcap reads the section header and the first interface when it opens the file.
            if cut == 0 || cut < blocks.get(1).map_or(shb.end, |b| b.end) {
                Expect::Unreadable
            } else {
                Expect::Damaged { intact: 0 }
            }
        } else if cut == file.len() || blocks.iter().any(|b| b.end == cut) {
            Expect::Clean { intact }
        } else {
            Expect::Truncated { intact }
        };
        out.push(case(
            name,
            format_args!("cut{cut:05}"),
            file[..cut].to_vec(),
            expect,
        ));
    }

    // Bit flips in the section header, the interface descriptions and packet block headers.
    for b in blocks.iter().take(first_packet) {
        for byte in (b.start..b.end).step_by(1) {
            let mut f = file.to_vec();
            f[byte] ^= 0x80;
            out.push(case(
                name,
                format_args!("hdrflip{byte:04}"),
                f,
                Expect::Damaged { intact: 0 },
            ));
        }
    }
    let packets: Vec<(usize, &Span)> = blocks.iter().filter(|b| is_packet(b)).enumerate().collect();
    let n = packets.len();
    for &(i, b) in [packets[0], packets[n / 2], packets[n - 1]].iter() {
        for byte in b.start..b.data {
            for bit in [0, 7] {
                let mut f = file.to_vec();
                f[byte] ^= 1 << bit;
                out.push(case(
                    name,
                    format_args!("blkflip{i:03}.{:02}.{bit}", byte - b.start),
                    f,
                    Expect::Damaged { intact: i as u64 },
                ));
            }
        }
    }

    // Length fields that lie in the middle packet block.
    let (mid_i, mid) = packets[n / 2];
    let caplen = le32(file, mid.start + 20);
    let lies: [(&str, usize, u32, Expect); 6] = [
        (
            "caplen-over-len",
            24,
            caplen / 2,
            Expect::Clean { intact: all },
        ),
        // A wire length past 256 KiB: that block is skipped with one warning (issue 15).
        (
            "len-max",
            24,
            u32::MAX,
            Expect::Damaged {
                intact: mid_i as u64,
            },
        ),
        (
            "caplen-max",
            20,
            u32::MAX,
            Expect::Damaged {
                intact: mid_i as u64,
            },
        ),
        (
            "caplen-past-block",
            20,
            caplen + 64,
            Expect::Damaged {
                intact: mid_i as u64,
            },
        ),
        (
            "block-len-max",
            4,
            u32::MAX,
            Expect::Damaged {
                intact: mid_i as u64,
            },
        ),
        (
            "block-len-short",
            4,
            12,
            Expect::Damaged {
                intact: mid_i as u64,
            },
        ),
    ];
    for (what, field, value, expect) in lies {
        let mut f = file.to_vec();
        put_le32(&mut f, mid.start + field, value);
        out.push(case(name, what, f, expect));
    }
    // An interface id that was never described.
    let mut f = file.to_vec();
    put_le32(&mut f, mid.start + 8, 7);
    out.push(case(
        name,
        "unknown-interface",
        f,
        Expect::Damaged {
            intact: mid_i as u64,
        },
    ));

    // Unknown and custom blocks between every packet: skipped, same events.
    let mut f = file[..header_end].to_vec();
    for b in &blocks[first_packet..] {
        for (i, block_type) in [0x0000_0BADu32, 0x4000_0BAD, 0x8000_1234, 0x0000_0099]
            .into_iter()
            .enumerate()
        {
            let body = vec![i as u8; 4 + i];
            f.extend_from_slice(&raw_block(block_type, &body));
        }
        f.extend_from_slice(&file[b.start..b.end]);
    }
    out.push(case(
        name,
        "unknown-blocks",
        f,
        Expect::Clean { intact: all },
    ));
    out
}

fn raw_block(block_type: u32, body: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    let len = (12 + body.len()).div_ceil(4) * 4;
    v.extend_from_slice(&block_type.to_le_bytes());
    v.extend_from_slice(&(len as u32).to_le_bytes());
    v.extend_from_slice(body);
    v.resize(len - 4, 0);
    v.extend_from_slice(&(len as u32).to_le_bytes());
    v
}

/// pcapng files built from pcap records: several interfaces of one link type, several of
/// different link types, nanosecond resolution, two sections, and big-endian byte order.
pub fn pcapng_variants(name: &str, linktype: u32, records: &[Record]) -> Vec<Case> {
    let all = u64::MAX;
    let mut out = Vec::new();
    // libpcap compares a second interface's LINKTYPE_ with the first one's DLT_, which differ for
    // raw IP (101 vs 12): it refuses a second raw-IP interface or section.
    let raw_quirk = linktype == linktype::RAW;
    // Three interfaces of the same link type, packets spread over them: same events.
    let spread: Vec<Record> = records
        .iter()
        .enumerate()
        .map(|(i, r)| Record {
            interface: (i % 3) as u32,
            ..r.clone()
        })
        .collect();
    let expect = if raw_quirk {
        Expect::Damaged { intact: 0 }
    } else {
        Expect::Clean { intact: all }
    };
    out.push(case(
        name,
        "ng-three-interfaces",
        write_pcapng(&[linktype; 3], &spread),
        expect,
    ));
    // A second interface of another link type that carries no packets, and one that does.
    // (libpcap refuses a file whose interfaces differ in link type; this is its error path.)
    let other = if linktype == linktype::RAW {
        linktype::ETHERNET
    } else {
        linktype::RAW
    };
    out.push(case(
        name,
        "ng-mixed-idle-interface",
        write_pcapng(&[linktype, other], records),
        Expect::Damaged { intact: 0 },
    ));
    // Nanosecond resolution (if_tsresol = 9).
    out.push(case(
        name,
        "ng-nanosecond",
        pcapng_nanos(linktype, records),
        Expect::Clean { intact: all },
    ));
    // Big-endian section.
    out.push(case(
        name,
        "ng-big-endian",
        pcapng_big_endian(linktype, records),
        Expect::Clean { intact: all },
    ));
    // Two sections, each with its own interface.
    let half = records.len() / 2;
    let mut f = write_pcapng(&[linktype], &records[..half]);
    f.extend_from_slice(&write_pcapng(&[linktype], &records[half..]));
    let expect = if raw_quirk {
        Expect::Damaged {
            intact: half as u64,
        }
    } else {
        Expect::Clean { intact: all }
    };
    out.push(case(name, "ng-two-sections", f, expect));
    out
}

fn write_pcapng(interfaces: &[u32], records: &[Record]) -> Vec<u8> {
    let mut w = PcapngWriter::new(Vec::new(), interfaces).expect("Vec");
    for r in records {
        w.write(r).expect("Vec");
    }
    w.into_inner()
}

fn pcapng_nanos(linktype: u32, records: &[Record]) -> Vec<u8> {
    let mut f = write_pcapng(&[], &[]);
    // IDB with option if_tsresol (9) = 9 (10^-9 s), then opt_endofopt.
    let mut idb = Vec::new();
    idb.extend_from_slice(&(linktype as u16).to_le_bytes());
    idb.extend_from_slice(&0u16.to_le_bytes());
    idb.extend_from_slice(&0u32.to_le_bytes());
    idb.extend_from_slice(&9u16.to_le_bytes());
    idb.extend_from_slice(&1u16.to_le_bytes());
    idb.extend_from_slice(&[9, 0, 0, 0]);
    idb.extend_from_slice(&[0, 0, 0, 0]);
    f.extend_from_slice(&raw_block(1, &idb));
    for r in records {
        let ts = (r.ts_us as u64) * 1000;
        let mut body = Vec::new();
        body.extend_from_slice(&0u32.to_le_bytes());
        body.extend_from_slice(&((ts >> 32) as u32).to_le_bytes());
        body.extend_from_slice(&(ts as u32).to_le_bytes());
        body.extend_from_slice(&(r.data.len() as u32).to_le_bytes());
        body.extend_from_slice(&r.orig_len.to_le_bytes());
        body.extend_from_slice(&r.data);
        f.extend_from_slice(&raw_block(EPB, &body));
    }
    f
}

fn pcapng_big_endian(linktype: u32, records: &[Record]) -> Vec<u8> {
    fn block(block_type: u32, body: &[u8]) -> Vec<u8> {
        let len = (12 + body.len()).div_ceil(4) * 4;
        let mut v = Vec::new();
        v.extend_from_slice(&block_type.to_be_bytes());
        v.extend_from_slice(&(len as u32).to_be_bytes());
        v.extend_from_slice(body);
        v.resize(len - 4, 0);
        v.extend_from_slice(&(len as u32).to_be_bytes());
        v
    }
    let mut shb = Vec::new();
    shb.extend_from_slice(&0x1A2B_3C4Du32.to_be_bytes());
    shb.extend_from_slice(&1u16.to_be_bytes());
    shb.extend_from_slice(&0u16.to_be_bytes());
    shb.extend_from_slice(&(-1i64).to_be_bytes());
    let mut f = block(0x0A0D_0D0A, &shb);
    let mut idb = Vec::new();
    idb.extend_from_slice(&(linktype as u16).to_be_bytes());
    idb.extend_from_slice(&0u16.to_be_bytes());
    idb.extend_from_slice(&0u32.to_be_bytes());
    f.extend_from_slice(&block(1, &idb));
    for r in records {
        let ts = r.ts_us as u64;
        let mut body = Vec::new();
        body.extend_from_slice(&0u32.to_be_bytes());
        body.extend_from_slice(&((ts >> 32) as u32).to_be_bytes());
        body.extend_from_slice(&(ts as u32).to_be_bytes());
        body.extend_from_slice(&(r.data.len() as u32).to_be_bytes());
        body.extend_from_slice(&r.orig_len.to_be_bytes());
        body.extend_from_slice(&r.data);
        f.extend_from_slice(&block(EPB, &body));
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::Link;
    use crate::scenarios;

    #[test]
    fn parses_what_the_writers_write() {
        let (records, _) = scenarios::ota_invitations(Link::Raw);
        let pcap = write_pcap(linktype::RAW, &records);
        let spans = pcap_records(&pcap).unwrap();
        assert_eq!(spans.len(), records.len());
        assert_eq!(&pcap[spans[3].data..spans[3].end], &records[3].data[..]);
        let back = pcap_to_records(&pcap).unwrap();
        assert_eq!(back[5].ts_us, records[5].ts_us);
        let ng = write_pcapng(&[linktype::RAW], &records);
        let blocks = pcapng_blocks(&ng).unwrap();
        assert_eq!(blocks.len(), records.len() + 2);
        assert_eq!(
            &ng[blocks[2].data..blocks[2].data + records[0].data.len()],
            &records[0].data[..]
        );
    }

    #[test]
    fn variants_keep_the_packets() {
        let (records, _) = scenarios::ota_invitations(Link::Raw);
        let be = pcap_variant(linktype::RAW, 65535, &records, true, true);
        assert_eq!(be[..4], 0xA1B2_3C4Du32.to_be_bytes());
        assert_eq!(be.len(), write_pcap(linktype::RAW, &records).len());
        assert_eq!(raw_block(0xBAD, &[1, 2, 3, 4, 5]).len(), 20);
    }
}
