//! Writing capture files: classic pcap (one link type) and pcapng (one Interface Description
//! Block per input interface, each with its own link type, snap length and timestamp
//! resolution). Pure over any [`Write`]: every write error is returned, none is swallowed
//! (libpcap's dump functions do not report them). Little-endian, as libpcap writes on x86.

use crate::time::Timestamp;
use std::io::{self, Write};

const PCAP_MAGIC_MICRO: u32 = 0xA1B2_C3D4;
const SHB: u32 = 0x0A0D_0D0A;
const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;
const IDB: u32 = 1;
const EPB: u32 = 6;
const OPT_END: u16 = 0;
const OPT_SHB_USERAPPL: u16 = 4;
const OPT_IF_DESCRIPTION: u16 = 3;
const OPT_IF_TSRESOL: u16 = 9;
const OPT_IF_TSOFFSET: u16 = 14;

/// A classic pcap file: microsecond timestamps, one link type and snap length for all.
pub struct PcapWriter<W: Write> {
    out: W,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the file header.
    pub fn new(mut out: W, linktype: i32, snaplen: u32) -> io::Result<Self> {
        let mut h = Vec::with_capacity(24);
        h.extend_from_slice(&PCAP_MAGIC_MICRO.to_le_bytes());
        h.extend_from_slice(&2u16.to_le_bytes());
        h.extend_from_slice(&4u16.to_le_bytes());
        h.extend_from_slice(&0i32.to_le_bytes()); // thiszone
        h.extend_from_slice(&0u32.to_le_bytes()); // sigfigs
        h.extend_from_slice(&snaplen.to_le_bytes());
        h.extend_from_slice(&(linktype as u32).to_le_bytes());
        out.write_all(&h)?;
        Ok(PcapWriter { out })
    }

    /// One record: `data` as captured, `wire_len` as on the wire.
    pub fn write(&mut self, ts: Timestamp, wire_len: u32, data: &[u8]) -> io::Result<()> {
        let caplen = record_len(data)?;
        let secs = ts.micros().div_euclid(Timestamp::MICROS_PER_SEC) as u32;
        let usecs = ts.micros().rem_euclid(Timestamp::MICROS_PER_SEC) as u32;
        let mut h = [0u8; 16];
        h[0..4].copy_from_slice(&secs.to_le_bytes());
        h[4..8].copy_from_slice(&usecs.to_le_bytes());
        h[8..12].copy_from_slice(&caplen.to_le_bytes());
        h[12..16].copy_from_slice(&wire_len.to_le_bytes());
        self.out.write_all(&h)?;
        self.out.write_all(data)
    }

    /// The output, as far as it has been written to.
    pub fn get_ref(&self) -> &W {
        &self.out
    }

    /// Flushes and hands the output back.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// An interface of a pcapng file, as its Interface Description Block declares it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interface {
    pub linktype: i32,
    /// 0: no limit declared.
    pub snaplen: u32,
    /// `if_tsresol` (6: microseconds, the default, not written).
    pub tsresol: u8,
    /// `if_tsoffset` in seconds (0: not written).
    pub tsoffset: i64,
    /// `if_description` (where the interface came from), when there is one.
    pub description: Option<String>,
}

/// A pcapng file of one section; interfaces are added as they are met, before their packets.
pub struct PcapngWriter<W: Write> {
    out: W,
    interfaces: u32,
}

impl<W: Write> PcapngWriter<W> {
    /// Writes the Section Header Block, naming `application` (`shb_userappl`).
    pub fn new(mut out: W, application: &str) -> io::Result<Self> {
        let mut body = Vec::with_capacity(64);
        body.extend_from_slice(&BYTE_ORDER_MAGIC.to_le_bytes());
        body.extend_from_slice(&1u16.to_le_bytes());
        body.extend_from_slice(&0u16.to_le_bytes());
        body.extend_from_slice(&(-1i64).to_le_bytes()); // section length: not given
        option(&mut body, OPT_SHB_USERAPPL, application.as_bytes())?;
        option(&mut body, OPT_END, &[])?;
        block(&mut out, SHB, &body)?;
        Ok(PcapngWriter { out, interfaces: 0 })
    }

    /// Writes an Interface Description Block; returns the id its packets are written with.
    pub fn add_interface(&mut self, iface: &Interface) -> io::Result<u32> {
        let linktype = u16::try_from(iface.linktype).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "link type {} does not fit a pcapng interface",
                    iface.linktype
                ),
            )
        })?;
        let mut body = Vec::with_capacity(64);
        body.extend_from_slice(&linktype.to_le_bytes());
        body.extend_from_slice(&0u16.to_le_bytes());
        body.extend_from_slice(&iface.snaplen.to_le_bytes());
        if let Some(d) = &iface.description {
            option(&mut body, OPT_IF_DESCRIPTION, d.as_bytes())?;
        }
        if iface.tsresol != 6 {
            option(&mut body, OPT_IF_TSRESOL, &[iface.tsresol])?;
        }
        if iface.tsoffset != 0 {
            option(&mut body, OPT_IF_TSOFFSET, &iface.tsoffset.to_le_bytes())?;
        }
        option(&mut body, OPT_END, &[])?;
        block(&mut self.out, IDB, &body)?;
        self.interfaces += 1;
        Ok(self.interfaces - 1)
    }

    /// An Enhanced Packet Block on `interface`, `ts` in that interface's `tsresol` units.
    pub fn write(&mut self, interface: u32, ts: u64, wire_len: u32, data: &[u8]) -> io::Result<()> {
        if interface >= self.interfaces {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("packet on interface {interface}, which was not added"),
            ));
        }
        let caplen = record_len(data)?;
        let padded = data.len().div_ceil(4) * 4;
        let total = 32 + padded;
        let total32 = u32::try_from(total).map_err(|_| too_long(data.len()))?;
        let mut h = [0u8; 28];
        h[0..4].copy_from_slice(&EPB.to_le_bytes());
        h[4..8].copy_from_slice(&total32.to_le_bytes());
        h[8..12].copy_from_slice(&interface.to_le_bytes());
        h[12..16].copy_from_slice(&((ts >> 32) as u32).to_le_bytes());
        h[16..20].copy_from_slice(&(ts as u32).to_le_bytes());
        h[20..24].copy_from_slice(&caplen.to_le_bytes());
        h[24..28].copy_from_slice(&wire_len.to_le_bytes());
        self.out.write_all(&h)?;
        self.out.write_all(data)?;
        self.out.write_all(&[0u8; 3][..padded - data.len()])?;
        self.out.write_all(&total32.to_le_bytes())
    }

    /// The output, as far as it has been written to.
    pub fn get_ref(&self) -> &W {
        &self.out
    }

    /// Flushes and hands the output back.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

fn record_len(data: &[u8]) -> io::Result<u32> {
    u32::try_from(data.len()).map_err(|_| too_long(data.len()))
}

fn too_long(len: usize) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("a packet of {len} bytes is too long for a capture file"),
    )
}

/// One option (code, length, value padded to 4 bytes) appended to a block body.
fn option(body: &mut Vec<u8>, code: u16, value: &[u8]) -> io::Result<()> {
    let len = u16::try_from(value.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "pcapng option value too long"))?;
    body.extend_from_slice(&code.to_le_bytes());
    body.extend_from_slice(&len.to_le_bytes());
    body.extend_from_slice(value);
    body.resize(body.len().div_ceil(4) * 4, 0);
    Ok(())
}

/// A whole block: type, total length, body, total length again.
fn block(out: &mut impl Write, block_type: u32, body: &[u8]) -> io::Result<()> {
    let total = u32::try_from(12 + body.len()).map_err(|_| too_long(body.len()))?;
    out.write_all(&block_type.to_le_bytes())?;
    out.write_all(&total.to_le_bytes())?;
    out.write_all(body)?;
    out.write_all(&total.to_le_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::{NativeSource, Next, Origin};
    use crate::packet::LinkType;

    /// Every packet of `bytes` as our reader returns it: (origin, ts, wire_len, data, link).
    fn read_back(bytes: Vec<u8>) -> Vec<(Origin, Timestamp, u32, Vec<u8>, LinkType)> {
        let mut src = NativeSource::open("written", Box::new(std::io::Cursor::new(bytes)))
            .unwrap()
            .expect("recognised");
        let mut out = Vec::new();
        loop {
            let (ts, wire_len, data, link) = match src.next_packet().unwrap() {
                Next::Packet(p) => (p.ts, p.wire_len, p.data.to_vec(), p.link),
                Next::End => return out,
                Next::Idle => unreachable!("a file never idles"),
            };
            out.push((src.origin(), ts, wire_len, data, link));
        }
    }

    #[test]
    fn pcap_round_trips_through_our_reader() {
        let mut w = PcapWriter::new(Vec::new(), 1, 65535).unwrap();
        w.write(Timestamp(1_700_000_000_123_456), 60, &[0xaa; 42])
            .unwrap();
        w.write(Timestamp(1_700_000_001_000_001), 3, &[1, 2, 3])
            .unwrap();
        let got = read_back(w.finish().unwrap());
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].1, Timestamp(1_700_000_000_123_456));
        assert_eq!((got[0].2, got[0].3.len()), (60, 42));
        assert_eq!(
            (got[1].1, got[1].2, &got[1].3[..]),
            (Timestamp(1_700_000_001_000_001), 3, &[1u8, 2, 3][..])
        );
        assert_eq!(
            (got[1].0.linktype, got[1].0.snaplen, got[1].0.tsresol),
            (1, 65535, 6)
        );
    }

    #[test]
    fn pcapng_keeps_each_interface_its_link_type_and_exact_timestamps() {
        let mut w = PcapngWriter::new(Vec::new(), "watch3232 test").unwrap();
        let eth = w
            .add_interface(&Interface {
                linktype: 1,
                snaplen: 262_144,
                tsresol: 6,
                tsoffset: 0,
                description: Some("a.pcap interface 0".into()),
            })
            .unwrap();
        let raw = w
            .add_interface(&Interface {
                linktype: 101,
                snaplen: 1500,
                tsresol: 9,
                tsoffset: 10,
                description: None,
            })
            .unwrap();
        assert_eq!((eth, raw), (0, 1));
        w.write(eth, 1_700_000_000_123_456, 64, &[0x11; 14])
            .unwrap();
        // Nanoseconds, odd length (padding), offset applied by the reader.
        w.write(raw, 1_700_000_000_987_654_321, 20, &[0x45; 5])
            .unwrap();
        let got = read_back(w.finish().unwrap());
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].4, LinkType::Ethernet);
        assert_eq!(got[0].1, Timestamp(1_700_000_000_123_456));
        assert_eq!(got[1].4, LinkType::Raw);
        assert_eq!(got[1].1, Timestamp(1_700_000_010_987_654));
        assert_eq!((got[1].2, &got[1].3[..]), (20, &[0x45u8; 5][..]));
        assert_eq!(
            got[1].0,
            Origin {
                section: 1,
                interface: 1,
                linktype: 101,
                snaplen: 1500,
                tsresol: 9,
                tsoffset: 10,
                raw_ts: 1_700_000_000_987_654_321,
            }
        );
    }

    #[test]
    fn a_packet_on_an_interface_not_added_is_refused() {
        let mut w = PcapngWriter::new(Vec::new(), "t").unwrap();
        let e = w.write(0, 0, 1, &[0]).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
    }

    #[test]
    fn write_errors_are_returned() {
        struct Full;
        impl Write for Full {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::from_raw_os_error(28))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        assert!(PcapWriter::new(Full, 1, 0).is_err());
        assert!(PcapngWriter::new(Full, "t").is_err());
    }
}
