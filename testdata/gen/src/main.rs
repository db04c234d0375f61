//! `testgen DIR`: writes the bundled captures into DIR (normally `testdata/`).
//! `testgen bench-mixed OUT [--size-mb N] [--pcapng]` / `testgen bench-small OUT [--packets N]
//! [--pcapng]` / `testgen bench-flows OUT [--packets N]` (N distinct UDP 3232 flows) /
//! `testgen bench-dense OUT [--packets N]` (0.5 % espota invitations and answers) /
//! `testgen bench-spray OUT [--packets N]` (0.5 % spoofed invitations): writes one large
//! benchmark capture to OUT and its counts to `OUT.json`.

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

/// `bench-mixed` / `bench-small`: one benchmark capture and its `OUT.json` summary.
fn bench(args: &[String]) -> io::Result<()> {
    use watch3232_testgen::bench::{self, Format, Profile};
    let usage = || {
        io::Error::other("usage: testgen bench-mixed OUT [--size-mb N] [--pcapng] | bench-small|bench-flows|bench-dense|bench-spray OUT [--packets N] [--pcapng]")
    };
    let profile = match args[0].as_str() {
        "bench-mixed" => Profile::Mixed,
        "bench-flows" => Profile::Flows,
        "bench-dense" => Profile::Dense,
        "bench-spray" => Profile::Spray,
        _ => Profile::Small,
    };
    let out = args.get(1).ok_or_else(usage)?;
    let (mut size_mb, mut packets, mut format) = (1000u64, 4_000_000u64, Format::Pcap);
    let mut rest = args[2..].iter();
    while let Some(flag) = rest.next() {
        let mut value = || {
            rest.next()
                .and_then(|v| v.parse::<u64>().ok())
                .ok_or_else(usage)
        };
        match flag.as_str() {
            "--size-mb" => size_mb = value()?,
            "--packets" => packets = value()?,
            "--pcapng" => format = Format::Pcapng,
            _ => return Err(usage()),
        }
    }
    let summary = bench::write(
        Path::new(out),
        profile,
        format,
        size_mb * 1_000_000,
        packets,
    )?;
    fs::write(format!("{out}.json"), summary.to_json())?;
    eprintln!(
        "testgen: wrote {out}: {} packets, {} invitations",
        summary.packets, summary.invitations
    );
    Ok(())
}

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some("bench-mixed" | "bench-small" | "bench-flows" | "bench-dense" | "bench-spray") =
        args.first().map(String::as_str)
    {
        return bench(&args);
    }
    let dir = args
        .first()
        .cloned()
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
    // pcapng with two interfaces of different link types: Ethernet, then Linux SLL2 an hour
    // later (libpcap refuses such a section; our reader takes each interface's own type).
    let second = Link::Sll2;
    let (mut a, _) = scenarios::ota_invitations(eth);
    let (mut b, _) = scenarios::ota_invitations(second);
    for r in &mut b {
        r.interface = 1;
        r.ts_us += 3_600_000_000;
    }
    a.append(&mut b);
    write_pcapng(
        &dir.join("links").join("two-interfaces.pcapng"),
        &[eth.linktype(), second.linktype()],
        &a,
    )?;
    // Reference OTA sessions carried on cooked (loopback, PPP, tun, GRE) and 802.11 links.
    for (name, carrier) in watch3232_testgen::relink::variants() {
        write_pcap(
            &dir.join("links").join(format!("{name}.pcap")),
            carrier.linktype(),
            &watch3232_testgen::relink::carried(carrier),
        )?;
    }
    // A pcapng with packets a reader must skip (and count) without losing the others.
    fs::create_dir_all(dir.join("pcapng"))?;
    fs::write(
        dir.join("pcapng").join("skips.pcapng"),
        watch3232_testgen::pcapng_skips::build()?,
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
    // Real OTA sessions inside mirror tunnels, and PPTP (testdata/tunnels/, see tunnels.rs).
    fs::create_dir_all(dir.join("tunnels"))?;
    for (name, source, how) in watch3232_testgen::tunnels::CAPTURES {
        write_pcap(
            &dir.join("tunnels").join(format!("{name}.pcap")),
            eth.linktype(),
            &watch3232_testgen::tunnels::wrap(source, how)?,
        )?;
    }
    write_pcap(
        &dir.join("tunnels").join("pptp.pcap"),
        eth.linktype(),
        &watch3232_testgen::tunnels::pptp()?,
    )?;
    for (name, build) in watch3232_testgen::anomaly::shells() {
        write_pcap(
            &dir.join("anomaly").join(format!("{name}.pcap")),
            eth.linktype(),
            &build(),
        )?;
    }
    // The tour: every scenario above in one Ethernet pcapng, each an hour after the previous
    // one so no flow of one scenario meets another's (what `.ci/demo` reads).
    let mut tour: Vec<Record> = Vec::new();
    let mut parts = vec![scenarios::ota_invitations(eth).0];
    parts.extend(
        watch3232_testgen::ota::captures()
            .into_iter()
            .map(|(_, build)| build(eth)),
    );
    parts.push(watch3232_testgen::mdt::mvpn());
    parts.push(watch3232_testgen::anomaly::mixed());
    for (hour, mut part) in parts.into_iter().enumerate() {
        for r in &mut part {
            r.ts_us += hour as i64 * 3_600_000_000;
            r.interface = 0;
        }
        tour.extend(part);
    }
    write_pcapng(&dir.join("tour.pcapng"), &[eth.linktype()], &tour)?;
    eprintln!("testgen: wrote captures to {}", dir.display());
    Ok(())
}
