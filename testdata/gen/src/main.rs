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
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "testdata".to_string());
    let dir = Path::new(&dir);
    fs::create_dir_all(dir.join("links"))?;

    // The demo: the whole OTA scenario over Ethernet, as pcapng.
    let eth = Link::Ethernet {
        src: LAPTOP_MAC,
        dst: ESPRESSIF_MAC,
    };
    let (records, _) = scenarios::ota_invitations(eth);
    write_pcapng(&dir.join("demo.pcapng"), &[eth.linktype()], &records)?;

    // The same scenario through every link type we decode, one pcap each.
    for (name, link) in scenarios::link_variants() {
        let (records, _) = scenarios::ota_invitations(link);
        write_pcap(
            &dir.join("links").join(format!("{name}.pcap")),
            link.linktype(),
            &records,
        )?;
    }
    // pcapng with two Ethernet interfaces (the second one 802.1Q-tagged), an hour apart.
    let tagged = Link::Vlan {
        src: LAPTOP_MAC,
        dst: ESPRESSIF_MAC,
        vids: [42, 0],
        tags: 1,
    };
    let (mut a, _) = scenarios::ota_invitations(eth);
    let (mut b, _) = scenarios::ota_invitations(tagged);
    for r in &mut b {
        r.interface = 1;
        r.ts_us += 3_600_000_000;
    }
    a.append(&mut b);
    write_pcapng(
        &dir.join("links").join("two-interfaces.pcapng"),
        &[eth.linktype(), tagged.linktype()],
        &a,
    )?;
    // Multicast-VPN MDT: the mdt.md examples, a three-PE core, and bad input.
    fs::create_dir_all(dir.join("mdt"))?;
    let eth_link = watch3232_testgen::capture::linktype::ETHERNET;
    write_pcap(
        &dir.join("mdt").join("examples.pcap"),
        eth_link,
        &watch3232_testgen::mdt::examples(),
    )?;
    write_pcap(
        &dir.join("mdt").join("mvpn.pcap"),
        eth_link,
        &watch3232_testgen::mdt::mvpn(),
    )?;
    write_pcap(
        &dir.join("mdt").join("malformed.pcap"),
        eth_link,
        &watch3232_testgen::mdt::malformed(),
    )?;
    // Whole OTA sessions (testdata/ota/, see ota.rs for the events each must produce).
    fs::create_dir_all(dir.join("ota"))?;
    for (name, build) in watch3232_testgen::ota::captures() {
        write_pcap(
            &dir.join("ota").join(format!("{name}.pcap")),
            eth.linktype(),
            &build(eth),
        )?;
    }
    // Anomalies on port 3232 with legitimate OTA traffic mixed in.
    fs::create_dir_all(dir.join("anomaly"))?;
    write_pcap(
        &dir.join("anomaly").join("mixed.pcap"),
        eth.linktype(),
        &watch3232_testgen::anomaly::mixed(),
    )?;
    eprintln!("testgen: wrote captures to {}", dir.display());
    Ok(())
}
