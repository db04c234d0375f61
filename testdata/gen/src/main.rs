//! `testgen DIR`: writes the bundled captures into DIR (normally `testdata/`).

use std::fs::{self, File};
use std::io::{self, BufWriter};
use std::path::Path;
use watch3232_testgen::capture::{PcapWriter, PcapngWriter, Record};
use watch3232_testgen::frame::{Link, ESPRESSIF_MAC, LAPTOP_MAC};
use watch3232_testgen::scenarios;

fn write_pcap(path: &Path, linktype: u32, records: &[Record]) -> io::Result<()> {
    let mut w = PcapWriter::new(BufWriter::new(File::create(path)?), linktype, 65535)?;
    for r in records {
        w.write(r)?;
    }
    Ok(())
}

fn write_pcapng(path: &Path, interfaces: &[u32], records: &[Record]) -> io::Result<()> {
    let mut w = PcapngWriter::new(BufWriter::new(File::create(path)?), interfaces)?;
    for r in records {
        w.write(r)?;
    }
    Ok(())
}

fn main() -> io::Result<()> {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "testdata".to_string());
    let dir = Path::new(&dir);
    fs::create_dir_all(dir.join("links"))?;

    // The demo: the whole OTA scenario over Ethernet, as pcapng.
    let eth = Link::Ethernet { src: LAPTOP_MAC, dst: ESPRESSIF_MAC };
    let (records, _) = scenarios::ota_invitations(eth);
    write_pcapng(&dir.join("demo.pcapng"), &[eth.linktype()], &records)?;

    // The same scenario through every link type we decode, one pcap each.
    for (name, link) in scenarios::link_variants() {
        let (records, _) = scenarios::ota_invitations(link);
        write_pcap(&dir.join("links").join(format!("{name}.pcap")), link.linktype(), &records)?;
    }
    // pcapng with two interfaces of different link types: Ethernet first, then SLL2.
    let (mut a, _) = scenarios::ota_invitations(eth);
    let (mut b, _) = scenarios::ota_invitations(Link::Sll2);
    for r in &mut b {
        r.interface = 1;
        r.ts_us += 3_600_000_000;
    }
    a.append(&mut b);
    write_pcapng(&dir.join("links").join("two-interfaces.pcapng"), &[eth.linktype(), Link::Sll2.linktype()], &a)?;
    // Anomalies on port 3232 with legitimate OTA traffic mixed in.
    fs::create_dir_all(dir.join("anomaly"))?;
    write_pcap(&dir.join("anomaly").join("mixed.pcap"), eth.linktype(), &watch3232_testgen::anomaly::mixed())?;
    eprintln!("testgen: wrote captures to {}", dir.display());
    Ok(())
}
