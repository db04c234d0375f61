//! Capture file writers: classic pcap (microsecond, little-endian) and pcapng.

use std::io::{self, Write};

/// pcap LINKTYPE_* values used by the generators.
pub mod linktype {
    pub const NULL: u32 = 0;
    pub const ETHERNET: u32 = 1;
    pub const RAW: u32 = 101;
    pub const LINUX_SLL: u32 = 113;
    pub const LINUX_SLL2: u32 = 276;
}

/// One record: time in microseconds since the epoch, captured bytes, original length.
#[derive(Clone, Debug)]
pub struct Record {
    pub ts_us: i64,
    pub data: Vec<u8>,
    pub orig_len: u32,
    /// pcapng interface index (ignored by pcap).
    pub interface: u32,
}

impl Record {
    pub fn new(ts_us: i64, data: Vec<u8>) -> Self {
        let orig_len = data.len() as u32;
        Record {
            ts_us,
            data,
            orig_len,
            interface: 0,
        }
    }
}

pub struct PcapWriter<W: Write> {
    out: W,
}

impl<W: Write> PcapWriter<W> {
    pub fn new(mut out: W, linktype: u32, snaplen: u32) -> io::Result<Self> {
        out.write_all(&0xA1B2_C3D4u32.to_le_bytes())?;
        out.write_all(&2u16.to_le_bytes())?;
        out.write_all(&4u16.to_le_bytes())?;
        out.write_all(&0i32.to_le_bytes())?;
        out.write_all(&0u32.to_le_bytes())?;
        out.write_all(&snaplen.to_le_bytes())?;
        out.write_all(&linktype.to_le_bytes())?;
        Ok(PcapWriter { out })
    }

    pub fn write(&mut self, r: &Record) -> io::Result<()> {
        self.write_raw(r.ts_us, &r.data, r.orig_len)
    }

    pub fn write_raw(&mut self, ts_us: i64, data: &[u8], orig_len: u32) -> io::Result<()> {
        let mut hdr = [0u8; 16];
        hdr[0..4].copy_from_slice(&((ts_us / 1_000_000) as u32).to_le_bytes());
        hdr[4..8].copy_from_slice(&((ts_us % 1_000_000) as u32).to_le_bytes());
        hdr[8..12].copy_from_slice(&(data.len() as u32).to_le_bytes());
        hdr[12..16].copy_from_slice(&orig_len.to_le_bytes());
        self.out.write_all(&hdr)?;
        self.out.write_all(data)
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

pub struct PcapngWriter<W: Write> {
    out: W,
}

fn pad4(n: usize) -> usize {
    (4 - n % 4) % 4
}

impl<W: Write> PcapngWriter<W> {
    /// Writes the section header and one interface description block per link type.
    pub fn new(mut out: W, interfaces: &[u32]) -> io::Result<Self> {
        // Section Header Block: no options.
        let shb_len = 28u32;
        out.write_all(&0x0A0D_0D0Au32.to_le_bytes())?;
        out.write_all(&shb_len.to_le_bytes())?;
        out.write_all(&0x1A2B_3C4Du32.to_le_bytes())?;
        out.write_all(&1u16.to_le_bytes())?;
        out.write_all(&0u16.to_le_bytes())?;
        out.write_all(&(-1i64).to_le_bytes())?;
        out.write_all(&shb_len.to_le_bytes())?;
        for &lt in interfaces {
            // Interface Description Block; default timestamp resolution is microseconds.
            let len = 20u32;
            out.write_all(&1u32.to_le_bytes())?;
            out.write_all(&len.to_le_bytes())?;
            out.write_all(&(lt as u16).to_le_bytes())?;
            out.write_all(&0u16.to_le_bytes())?;
            out.write_all(&0u32.to_le_bytes())?; // snaplen: unlimited
            out.write_all(&len.to_le_bytes())?;
        }
        Ok(PcapngWriter { out })
    }

    /// Any block, for tests that need unknown or custom blocks.
    pub fn write_block(&mut self, block_type: u32, body: &[u8]) -> io::Result<()> {
        let len = (12 + body.len() + pad4(body.len())) as u32;
        self.out.write_all(&block_type.to_le_bytes())?;
        self.out.write_all(&len.to_le_bytes())?;
        self.out.write_all(body)?;
        self.out.write_all(&[0u8; 3][..pad4(body.len())])?;
        self.out.write_all(&len.to_le_bytes())
    }

    /// An Enhanced Packet Block straight from a borrowed frame (no per-packet allocation).
    pub fn write_raw(
        &mut self,
        interface: u32,
        ts_us: i64,
        data: &[u8],
        orig_len: u32,
    ) -> io::Result<()> {
        let ts = ts_us as u64;
        let len = (32 + data.len() + pad4(data.len())) as u32;
        let mut hdr = [0u8; 28];
        hdr[0..4].copy_from_slice(&6u32.to_le_bytes());
        hdr[4..8].copy_from_slice(&len.to_le_bytes());
        hdr[8..12].copy_from_slice(&interface.to_le_bytes());
        hdr[12..16].copy_from_slice(&((ts >> 32) as u32).to_le_bytes());
        hdr[16..20].copy_from_slice(&(ts as u32).to_le_bytes());
        hdr[20..24].copy_from_slice(&(data.len() as u32).to_le_bytes());
        hdr[24..28].copy_from_slice(&orig_len.to_le_bytes());
        self.out.write_all(&hdr)?;
        self.out.write_all(data)?;
        self.out.write_all(&[0u8; 3][..pad4(data.len())])?;
        self.out.write_all(&len.to_le_bytes())
    }

    pub fn write(&mut self, r: &Record) -> io::Result<()> {
        let ts = r.ts_us as u64;
        let mut body = Vec::with_capacity(20 + r.data.len() + 3);
        body.extend_from_slice(&r.interface.to_le_bytes());
        body.extend_from_slice(&((ts >> 32) as u32).to_le_bytes());
        body.extend_from_slice(&(ts as u32).to_le_bytes());
        body.extend_from_slice(&(r.data.len() as u32).to_le_bytes());
        body.extend_from_slice(&r.orig_len.to_le_bytes());
        body.extend_from_slice(&r.data);
        self.write_block(6, &body)
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}
