//! `testdata/pcapng/skips.pcapng`: what a pcapng reader must skip without losing the rest. The
//! OTA invitation scenario on an Ethernet interface, then, after its last packet: packets of a
//! Bluetooth HCI H4 interface (a link type we do not decode), a block claiming an 808 MB wire
//! length, one whose interface's bogus `if_tsoffset` puts it in the year 112003, and one longer
//! than its interface's snap length. A reader skips and counts each; the findings are the
//! Ethernet capture's.

use crate::capture::{linktype, PcapngWriter};
use crate::frame::{Link, ESPRESSIF_MAC, LAPTOP_MAC};
use crate::scenarios;
use std::io;

pub const LINKTYPE_BLUETOOTH_HCI_H4: u16 = 187;
/// Bluetooth packets in the file.
pub const BLUETOOTH_PACKETS: u64 = 3;
/// Blocks with an impossible length or time.
pub const BAD_BLOCKS: u64 = 3;
/// Seconds that put a 2026 packet in the year 112003.
const BOGUS_OFFSET_SECS: u64 = 3_472_000_000_000;
const SNAPLEN: u32 = 96;

fn idb(linktype: u16, snaplen: u32, tsoffset: Option<u64>) -> Vec<u8> {
    let mut b = linktype.to_le_bytes().to_vec();
    b.extend_from_slice(&[0, 0]);
    b.extend_from_slice(&snaplen.to_le_bytes());
    if let Some(secs) = tsoffset {
        b.extend_from_slice(&14u16.to_le_bytes());
        b.extend_from_slice(&8u16.to_le_bytes());
        b.extend_from_slice(&secs.to_le_bytes());
    }
    b.extend_from_slice(&[0; 4]);
    b
}

pub fn build() -> io::Result<Vec<u8>> {
    let eth = Link::Ethernet {
        src: LAPTOP_MAC,
        dst: ESPRESSIF_MAC,
    };
    let (records, _) = scenarios::ota_invitations(eth);
    // Interface 0 is written by `new`; the others as blocks of their own.
    let mut w = PcapngWriter::new(Vec::new(), &[linktype::ETHERNET])?;
    w.write_block(1, &idb(LINKTYPE_BLUETOOTH_HCI_H4, 0, None))?;
    w.write_block(
        1,
        &idb(linktype::ETHERNET as u16, 0, Some(BOGUS_OFFSET_SECS)),
    )?;
    w.write_block(1, &idb(linktype::ETHERNET as u16, SNAPLEN, None))?;
    for r in &records {
        w.write(r)?;
    }
    let last = records.last().map_or(0, |r| r.ts_us);
    let frame = &records[records.len() - 1].data;
    for i in 0..BLUETOOTH_PACKETS {
        // HCI H4: an HCI event packet (type 4), Command Complete.
        let hci = [4, 0x0e, 4, 1, 0x03, 0x0c, i as u8];
        w.write_raw(1, last, &hci, hci.len() as u32)?;
    }
    w.write_raw(0, last, frame, 808_000_000)?;
    w.write_raw(2, last, frame, frame.len() as u32)?;
    let long = vec![0u8; SNAPLEN as usize + 4];
    w.write_raw(3, last, &long, long.len() as u32)?;
    Ok(w.into_inner())
}
