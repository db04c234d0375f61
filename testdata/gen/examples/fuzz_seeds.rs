//! Writes seed corpora for the cargo-fuzz targets (fuzz/) from the bundled captures and the
//! espota builders: `cargo run -p watch3232-testgen --example fuzz_seeds -- fuzz/corpus`.
//! The layouts match fuzz/src/lib.rs (byte 0 = index into its `LINKS`).

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use watch3232_testgen::corrupt::{pcap_records, pcapng_blocks};
use watch3232_testgen::espota;
use watch3232_testgen::rng::Rng;
use watch3232_testgen::{anomaly, mdt, ota};

/// Appends `bytes` for one side in the esphome target's records (header: top bit = device,
/// low 7 bits = length up to 126).
fn esphome_rec(v: &mut Vec<u8>, device: bool, bytes: &[u8]) {
    for c in bytes.chunks(126) {
        v.push(if device { 0x80 } else { 0 } | c.len() as u8);
        v.extend_from_slice(c);
    }
}

/// Seeds of the parser targets added for issue 8 (pim, mdt_join, esphome, mdns, guess, reasm).
fn parser_seeds(out: &Path) -> std::io::Result<usize> {
    let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
    let (v4, v4_all) = (ip(mdt::PE1), ip("224.0.0.13"));
    let (v6, v6_all) = (ip("fe80::1"), ip("ff02::d"));
    let hello = mdt::hello_body(105, 1, 0x1234_5678, &[ip("192.0.2.1"), ip("2001:db8::1")]);
    let jp = mdt::join_prune_body(
        ip(mdt::PE2),
        mdt::MDT_A,
        &["10.0.0.1", "10.0.0.2"],
        &["10.0.0.3"],
    );
    let pim = [
        mdt::pim(0, &hello, v4, v4_all),
        mdt::pim(0, &mdt::hello_body(105, 1, 7, &[]), v6, v6_all),
        mdt::pim(3, &jp, v4, v4_all),
        mdt::pim(3, &jp, v6, v6_all),
        mdt::pim(1, &[0, 0, 0, 0, 0x45, 0, 0, 20], v4, v4_all),
    ];
    let joins = [
        mdt::join_v4("10.1.1.1", "232.1.1.1", "239.1.1.1"),
        [
            mdt::join_v4("10.1.1.1", "232.1.1.1", "239.1.1.1"),
            mdt::join_v4("10.1.1.2", "232.1.1.2", "239.1.1.2"),
        ]
        .concat(),
        mdt::join_v6("2001:db8::1", "ff3e::1", "239.1.1.3"),
        [
            mdt::join_v4("10.1.1.1", "232.1.1.1", "239.1.1.1"),
            mdt::join_v6("2001:db8::1", "ff3e::1", "239.1.1.3"),
            vec![9, 0, 6, 0, 1, 2],
        ]
        .concat(),
    ];
    // esphome: the two exchanges of the parser's unit tests (a 300-byte image here).
    let image = vec![0xe9u8; 300];
    let mut md5_auth = Vec::new();
    for (device, b) in [
        (false, &espota_magic()[..]),
        (true, &[0x00, 0x02][..]),
        (false, &[0x01][..]),
        (true, &[0x40, 0x01][..]),
        (true, b"4f340729fc2a65c6a24f41800622170c"),
        (
            false,
            b"647c179fc1764cd99fdfa9b0cfc343df784b8749cfff6bda581c4ef76f8f8b5b",
        ),
        (true, &[0x41][..]),
        (false, &(image.len() as u32).to_be_bytes()[..]),
        (true, &[0x42][..]),
        (false, espota::md5_hex(&image).as_bytes()),
        (true, &[0x43][..]),
        (false, &image[..]),
        (true, &[0x47, 0x44, 0x45][..]),
        (false, &[0x00][..]),
    ] {
        esphome_rec(&mut md5_auth, device, b);
    }
    let mut extended = Vec::new();
    for (device, b) in [
        (false, &espota_magic()[..]),
        (false, &[0x07][..]),
        (true, &[0x00, 0x02, 0x48, 0x03, 0x41][..]),
        (false, &[0x00, 0, 0, 0, 4][..]),
        (false, b"0123456789abcdef0123456789abcdef"),
        (true, &[0x42, 0x43][..]),
        (false, b"abcd"),
        (true, &[0x8B][..]),
    ] {
        esphome_rec(&mut extended, device, b);
    }
    let mut sha_fail = Vec::new();
    for (device, b) in [
        (false, &espota_magic()[..]),
        (true, &[0x00, 0x02][..]),
        (false, &[0x03][..]),
        (true, &[0x40, 0x02][..]),
        (true, &[b'a'; 64][..]),
        (false, &[b'b'; 128][..]),
        (true, &[0x82][..]),
    ] {
        esphome_rec(&mut sha_fail, device, b);
    }
    let esphome = [md5_auth, extended, sha_fail];
    let announcement = ota::mdns_announcement(
        "esp32-240ac4123456",
        "_arduino._tcp",
        "esp32-240ac4123456",
        3232,
        &["board=esp32s3", "auth_upload=yes"],
        [192, 0, 2, 50],
    );
    // A compressed answer (the PTR target points back at the question name), and a pointer loop.
    let mut compressed = vec![0, 0, 0x84, 0, 0, 1, 0, 1, 0, 0, 0, 0];
    compressed.extend_from_slice(b"\x08_arduino\x04_tcp\x05local\x00\x00\x0c\x00\x01");
    compressed.extend_from_slice(&[0xc0, 12, 0, 12, 0, 1, 0, 0, 0, 120, 0, 7]);
    compressed.extend_from_slice(&[4, b'e', b's', b'p', b'1', 0xc0, 12]);
    let mut looped = vec![0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0];
    looped.extend_from_slice(&[1, b'a', 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 1, 0, 4, 1, 2, 3, 4]);
    let mdns = [announcement, compressed, looped];
    // guess: byte 0 = 1 | split << 1 (127: all to-server, 0: all to-client).
    let mut rng = Rng::new(8);
    let with = |b0: u8, rest: &[u8]| [&[b0][..], rest].concat();
    let guess = [
        with(0xff, &anomaly::client_hello("device.example", &mut rng)),
        with(0x01, &anomaly::server_hello(&mut rng)),
        with(0x80, b"GET /update HTTP/1.1\r\nHost: 192.0.2.50\r\nUser-Agent: curl\r\n\r\nHTTP/1.1 200 OK\r\nServer: esp\r\n\r\n"),
        with(0x41, b"SSH-2.0-OpenSSH_9.6\r\nSSH-2.0-dropbear\r\n"),
        with(0xff, &[0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, b'w', b'w', b'w', 0, 0, 1, 0, 1]),
        with(0x01, &[0, 0, 0, 0x40, 0xfe, b'S', b'M', b'B', 64, 0, 0, 0, 0, 0, 0, 0]),
        with(0xfe, &espota_magic()),
    ];
    // reasm: cap byte, ISN, flags (1 = SYN, 2 = payload from the input), then segments:
    // kind (bits 0-5 = length), 2-byte signed offset from the ISN.
    let seg = |len: u8, off: i16| [&[len][..], &off.to_be_bytes()[..]].concat();
    let reasm = [
        [
            &[64, 0, 0, 0x03, 0xe8, 1][..],
            &seg(16, 0),
            &seg(16, 32),
            &seg(16, 16),
            &seg(8, 4),
        ]
        .concat(),
        [
            &[1, 0xff, 0xff, 0xff, 0xf0, 0][..],
            &seg(20, 0),
            &seg(30, 40),
            &seg(30, 40),
            &seg(40, -10),
        ]
        .concat(),
        [
            &[4, 0, 0, 0, 1, 3][..],
            &seg(4, 0),
            b"abcd",
            &seg(8, 8),
            b"ijklmnop",
            &seg(6, 2),
            b"cdefgh",
        ]
        .concat(),
    ];
    let sets: [(&str, &[Vec<u8>]); 6] = [
        ("pim", &pim),
        ("mdt_join", &joins),
        ("esphome", &esphome),
        ("mdns", &mdns),
        ("guess", &guess),
        ("reasm", &reasm),
    ];
    let mut n = 0;
    for (target, seeds) in sets {
        for (i, b) in seeds.iter().enumerate() {
            write(out, target, i, b)?;
            n += 1;
        }
    }
    Ok(n)
}

fn espota_magic() -> [u8; 5] {
    [0x6C, 0x26, 0xF7, 0x5C, 0x45]
}

/// Index of a pcap LINKTYPE_ in fuzz/src/lib.rs `LINKS`.
fn link_index(linktype: u32) -> Option<u8> {
    Some(match linktype {
        0 => 0,
        1 => 1,
        101 => 2,
        108 => 3,
        113 => 4,
        276 => 5,
        228 => 6,
        229 => 7,
        _ => return None,
    })
}

/// (link index, frames) of a little-endian pcap or pcapng written by the generator.
fn frames(file: &[u8]) -> Option<(u8, Vec<Vec<u8>>)> {
    if let Some(spans) = pcap_records(file) {
        let lt = u32::from_le_bytes(file[20..24].try_into().ok()?);
        let frames = spans.iter().map(|s| file[s.data..s.end].to_vec()).collect();
        return Some((link_index(lt)?, frames));
    }
    let blocks = pcapng_blocks(file)?;
    let idb = blocks.iter().find(|b| b.block_type == 1)?;
    let lt = u32::from(u16::from_le_bytes(
        file[idb.start + 8..idb.start + 10].try_into().ok()?,
    ));
    let frames = blocks
        .iter()
        .filter(|b| b.block_type == 6)
        .map(|b| {
            let caplen = u32::from_le_bytes(file[b.start + 20..b.start + 24].try_into().unwrap());
            file[b.data..b.data + caplen as usize].to_vec()
        })
        .collect();
    Some((link_index(lt)?, frames))
}

fn write(dir: &Path, target: &str, n: usize, bytes: &[u8]) -> std::io::Result<()> {
    let d = dir.join(target);
    fs::create_dir_all(&d)?;
    fs::write(d.join(format!("seed-{n:04}")), bytes)
}

fn main() -> std::io::Result<()> {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "fuzz/corpus".to_string());
    let out = Path::new(&out);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut sources = vec![root.join("demo.pcapng")];
    for e in fs::read_dir(root.join("links"))? {
        sources.push(e?.path());
    }
    sources.sort();
    let (mut pipeline, mut decode) = (0, 0);
    let mut seen = BTreeSet::new();
    for src in &sources {
        let Some((link, frames)) = frames(&fs::read(src)?) else {
            continue;
        };
        // pipeline: the whole capture, and windows of 8 packets.
        let encode = |frames: &[Vec<u8>]| {
            let mut v = vec![link];
            for f in frames {
                v.extend_from_slice(&(f.len() as u16).to_be_bytes());
                v.push(3);
                v.extend_from_slice(f);
            }
            v
        };
        write(out, "pipeline", pipeline, &encode(&frames))?;
        pipeline += 1;
        for w in frames.chunks(8) {
            write(out, "pipeline", pipeline, &encode(w))?;
            pipeline += 1;
        }
        // decode: each distinct frame, with the default tunnel depth.
        for f in frames {
            let mut v = vec![link, 4];
            v.extend_from_slice(&f);
            if seen.insert(v.clone()) {
                write(out, "decode", decode, &v)?;
                decode += 1;
            }
        }
    }
    // espota: the messages of an exchange.
    let md5 = espota::md5_hex(b"image");
    let nonce = espota::device_nonce_md5(12_345_678);
    let (answer, _, _) =
        espota::auth_answer_md5("sketch.ino.bin", 4096, &md5, "192.0.2.50", "secret", &nonce);
    let messages: Vec<Vec<u8>> = vec![
        espota::invitation(0, 41006, 4096, &md5),
        espota::invitation(100, 8266, 1_048_576, &md5),
        espota::auth_challenge(&nonce),
        answer,
        b"OK".to_vec(),
        b"Authentication Failed".to_vec(),
        b"ERROR".to_vec(),
    ];
    for (i, m) in messages.iter().enumerate() {
        write(out, "espota", i, m)?;
    }
    // gre: the GRE headers of shared/docs/mdt.md §5 (plain; C|K|S) with an inner IPv4 start.
    let gre: [&[u8]; 3] = [
        &[0x00, 0x00, 0x08, 0x00, 0x45, 0x00, 0x00, 0x14],
        &[
            0xb0, 0x00, 0x08, 0x00, 0x47, 0x94, 0x00, 0x00, 0, 0, 0, 100, 0, 0, 0, 7, 0x45, 0,
        ],
        &[0x20, 0x00, 0x86, 0xdd, 0, 0, 0, 1, 0x60, 0, 0, 0],
    ];
    for (i, g) in gre.iter().enumerate() {
        write(out, "gre", i, g)?;
    }
    let parsers = parser_seeds(out)?;
    eprintln!(
        "fuzz_seeds: {pipeline} pipeline, {decode} decode, {} espota, {} gre, {parsers} parser \
         seeds in {}",
        messages.len(),
        gre.len(),
        out.display()
    );
    Ok(())
}
