//! Writes seed corpora for the cargo-fuzz targets (fuzz/) from the bundled captures and the
//! espota builders: `cargo run -p watch3232-testgen --example fuzz_seeds -- fuzz/corpus`.
//! The layouts match fuzz/src/lib.rs (byte 0 = index into its `LINKS`).

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use watch3232_testgen::corrupt::{pcap_records, pcapng_blocks};
use watch3232_testgen::espota;

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
    eprintln!(
        "fuzz_seeds: {pipeline} pipeline, {decode} decode, {} espota, {} gre seeds in {}",
        messages.len(),
        gre.len(),
        out.display()
    );
    Ok(())
}
