//! Our pcap/pcapng reader against libpcap, packet by packet: every capture in testdata/, the
//! same captures re-encoded (big-endian, nanosecond, pcapng with other timestamp resolutions,
//! Simple Packet Blocks, unknown blocks), and cut off at many points.

use std::path::{Path, PathBuf};
use watch3232::capture::{CaptureError, FileSource, Next, Reader};
use watch3232::packet::LinkType;

#[derive(Debug, PartialEq, Eq)]
struct Pkt {
    ts: i64,
    wire_len: u32,
    data: Vec<u8>,
    link: LinkType,
    index: u64,
}

#[derive(Debug, PartialEq, Eq)]
enum End {
    Clean,
    Truncated { after: u64 },
    Read { after: u64 },
    Open,
}

fn read_all(path: &Path, reader: Reader) -> (Vec<Pkt>, End) {
    let mut src = match FileSource::open(path.to_str().unwrap(), reader) {
        Ok(s) => s,
        Err(_) => return (Vec::new(), End::Open),
    };
    if reader == Reader::Native {
        assert!(
            matches!(src, FileSource::Native(_)),
            "{} not read natively",
            path.display()
        );
    }
    let mut out = Vec::new();
    loop {
        match src.next_packet() {
            Ok(Next::Packet(p)) => out.push(Pkt {
                ts: p.ts.micros(),
                wire_len: p.wire_len,
                data: p.data.to_vec(),
                link: p.link,
                index: p.index,
            }),
            Ok(Next::End) => return (out, End::Clean),
            Ok(Next::Idle) => {}
            Err(CaptureError::Truncated { after, .. }) => return (out, End::Truncated { after }),
            Err(CaptureError::Read { after, .. }) => return (out, End::Read { after }),
            Err(e) => panic!("{}: {e}", path.display()),
        }
    }
}

fn captures(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            if p.file_name().unwrap() != "gen" {
                captures(&p, out);
            }
        } else if matches!(
            p.extension().and_then(|e| e.to_str()),
            Some("pcap" | "pcapng")
        ) {
            out.push(p);
        }
    }
}

fn testdata() -> Vec<PathBuf> {
    let mut v = Vec::new();
    captures(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata"),
        &mut v,
    );
    v.sort();
    assert!(v.len() >= 9, "{v:?}");
    v
}

fn same(path: &Path) -> usize {
    let (native, end_n) = read_all(path, Reader::Native);
    let (lib, end_l) = read_all(path, Reader::Libpcap);
    assert_eq!(native.len(), lib.len(), "{}", path.display());
    for (a, b) in native.iter().zip(&lib) {
        assert_eq!(a, b, "{}", path.display());
    }
    assert_eq!(end_n, end_l, "{}", path.display());
    native.len()
}

#[test]
fn every_bundled_capture_reads_the_same_as_libpcap() {
    for path in testdata() {
        // libpcap refuses pcapng interfaces of different link types: see the test below, and
        // tests/links.rs for skips.pcapng.
        if path.ends_with("two-interfaces.pcapng") || path.ends_with("pcapng/skips.pcapng") {
            continue;
        }
        assert!(same(&path) > 0, "{}", path.display());
    }
}

#[test]
fn interfaces_of_different_link_types_each_keep_theirs() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/links/two-interfaces.pcapng");
    let (native, end) = read_all(&path, Reader::Native);
    assert_eq!(end, End::Clean);
    let eth = native
        .iter()
        .filter(|p| p.link == LinkType::Ethernet)
        .count();
    let sll2 = native
        .iter()
        .filter(|p| p.link == LinkType::LinuxSll2)
        .count();
    assert_eq!(eth, sll2);
    assert_eq!(eth + sll2, native.len());
    // The Ethernet half is exactly what libpcap reads of the single-interface demo capture.
    let (demo, _) = read_all(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/links/ethernet.pcap"),
        Reader::Libpcap,
    );
    assert_eq!(eth, demo.len());
    for (a, b) in native.iter().zip(&demo) {
        assert_eq!((a.ts, &a.data), (b.ts, &b.data));
    }
    // libpcap stops at the second interface.
    let (lib, end) = read_all(&path, Reader::Libpcap);
    assert!(lib.is_empty());
    assert_eq!(end, End::Read { after: 0 });
}

struct Rec {
    sec: u32,
    usec: u32,
    wire: u32,
    data: Vec<u8>,
}

/// The records of a little-endian microsecond pcap (what testgen writes).
fn records(path: &Path) -> (u32, Vec<Rec>) {
    let b = std::fs::read(path).unwrap();
    assert_eq!(&b[0..4], &0xA1B2_C3D4u32.to_le_bytes());
    let rd = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    let linktype = rd(20);
    let mut at = 24;
    let mut out = Vec::new();
    while at < b.len() {
        let cap = rd(at + 8) as usize;
        out.push(Rec {
            sec: rd(at),
            usec: rd(at + 4),
            wire: rd(at + 12),
            data: b[at + 16..at + 16 + cap].to_vec(),
        });
        at += 16 + cap;
    }
    (linktype, out)
}

fn pcap_bytes(linktype: u32, recs: &[Rec], big_endian: bool, nanos: bool, snaplen: u32) -> Vec<u8> {
    let w = |v: u32| {
        if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let w16 = |v: u16| {
        if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let mut out = Vec::new();
    out.extend_from_slice(&w(if nanos { 0xA1B2_3C4D } else { 0xA1B2_C3D4 }));
    out.extend_from_slice(&w16(2));
    out.extend_from_slice(&w16(4));
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&w(snaplen));
    out.extend_from_slice(&w(linktype));
    for r in recs {
        out.extend_from_slice(&w(r.sec));
        out.extend_from_slice(&w(if nanos { r.usec * 1000 + 999 } else { r.usec }));
        out.extend_from_slice(&w(r.data.len() as u32));
        out.extend_from_slice(&w(r.wire));
        out.extend_from_slice(&r.data);
    }
    out
}

fn block(big_endian: bool, block_type: u32, body: &[u8]) -> Vec<u8> {
    let w = |v: u32| {
        if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let pad = (4 - body.len() % 4) % 4;
    let len = (12 + body.len() + pad) as u32;
    let mut b = Vec::new();
    b.extend_from_slice(&w(block_type));
    b.extend_from_slice(&w(len));
    b.extend_from_slice(body);
    b.extend(std::iter::repeat(0).take(pad));
    b.extend_from_slice(&w(len));
    b
}

/// pcapng: SHB, an unknown block, IDB with `tsresol` (and a 1-hour `if_tsoffset` when asked),
/// then EPBs; every fifth packet a Simple Packet Block when `spb`.
fn pcapng_bytes(
    linktype: u32,
    recs: &[Rec],
    big_endian: bool,
    tsresol: Option<u8>,
    offset: bool,
    spb: bool,
) -> Vec<u8> {
    let w = |v: u32| {
        if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let w16 = |v: u16| {
        if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let mut out = Vec::new();
    let mut shb = w(0x1A2B_3C4D).to_vec();
    shb.extend_from_slice(&w16(1));
    shb.extend_from_slice(&w16(0));
    shb.extend_from_slice(&[0xff; 8]);
    out.extend(block(big_endian, 0x0A0D_0D0A, &shb));
    out.extend(block(big_endian, 0x0BAD_0001, b"custom data, skipped"));
    let mut idb = w16(linktype as u16).to_vec();
    idb.extend_from_slice(&w16(0));
    idb.extend_from_slice(&w(0));
    if let Some(r) = tsresol {
        idb.extend_from_slice(&w16(9));
        idb.extend_from_slice(&w16(1));
        idb.extend_from_slice(&[r, 0, 0, 0]);
    }
    if offset {
        idb.extend_from_slice(&w16(14));
        idb.extend_from_slice(&w16(8));
        let v: u64 = 3600;
        let (hi, lo) = ((v >> 32) as u32, v as u32);
        if big_endian {
            idb.extend_from_slice(&hi.to_be_bytes());
            idb.extend_from_slice(&lo.to_be_bytes());
        } else {
            idb.extend_from_slice(&lo.to_le_bytes());
            idb.extend_from_slice(&hi.to_le_bytes());
        }
    }
    idb.extend_from_slice(&[0; 4]); // opt_endofopt
    out.extend(block(big_endian, 1, &idb));
    let units: u64 = match tsresol {
        None => 1_000_000,
        Some(r) if r & 0x80 != 0 => 1 << (r & 0x7f),
        Some(r) => 10u64.pow(u32::from(r)),
    };
    for (i, r) in recs.iter().enumerate() {
        if spb && i % 5 == 4 {
            let mut body = w(r.wire).to_vec();
            body.extend_from_slice(&r.data);
            out.extend(block(big_endian, 3, &body));
            continue;
        }
        let t =
            u64::from(r.sec) * units + (u128::from(r.usec) * u128::from(units) / 1_000_000) as u64;
        let mut body = w(0).to_vec();
        body.extend_from_slice(&w((t >> 32) as u32));
        body.extend_from_slice(&w(t as u32));
        body.extend_from_slice(&w(r.data.len() as u32));
        body.extend_from_slice(&w(r.wire));
        body.extend_from_slice(&r.data);
        out.extend(block(big_endian, 6, &body));
    }
    out
}

#[test]
fn re_encoded_and_truncated_captures_read_the_same_as_libpcap() {
    let dir = tempfile::tempdir().unwrap();
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/links");
    let mut variants: Vec<(String, Vec<u8>)> = Vec::new();
    for name in ["ethernet", "sll2", "raw", "null"] {
        let (lt, recs) = records(&base.join(format!("{name}.pcap")));
        variants.push((
            format!("{name}-be.pcap"),
            pcap_bytes(lt, &recs, true, false, 65535),
        ));
        variants.push((
            format!("{name}-nano.pcap"),
            pcap_bytes(lt, &recs, false, true, 65535),
        ));
        variants.push((
            format!("{name}-nano-be.pcap"),
            pcap_bytes(lt, &recs, true, true, 0),
        ));
        variants.push((
            format!("{name}-snap64.pcap"),
            pcap_bytes(lt, &recs, false, false, 64),
        ));
        variants.push((
            format!("{name}-le.pcapng"),
            pcapng_bytes(lt, &recs, false, None, false, false),
        ));
        variants.push((
            format!("{name}-be-ns.pcapng"),
            pcapng_bytes(lt, &recs, true, Some(9), true, false),
        ));
        variants.push((
            format!("{name}-ms-spb.pcapng"),
            pcapng_bytes(lt, &recs, false, Some(3), false, true),
        ));
        variants.push((
            format!("{name}-bin.pcapng"),
            pcapng_bytes(lt, &recs, false, Some(0x80 | 20), false, false),
        ));
    }
    let mut checked = 0;
    for (name, bytes) in &variants {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        assert!(same(&path) > 0, "{name}");
        // Cut off at ~60 points, header included: same packets, same Truncated.
        let step = (bytes.len() / 60).max(1);
        for cut in (1..bytes.len())
            .step_by(step)
            .chain([bytes.len() - 1, bytes.len() - 4])
        {
            let p = dir.path().join(format!("cut-{cut}-{name}"));
            std::fs::write(&p, &bytes[..cut]).unwrap();
            same(&p);
            std::fs::remove_file(&p).unwrap();
            checked += 1;
        }
    }
    assert!(checked > 1000, "{checked}");
}
