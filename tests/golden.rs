//! Golden output: the exact EVE lines of every bundled capture, byte for byte, against
//! `testdata/golden/`. A change to the code's shape must not change one byte of what a SIEM
//! receives; a change meant to alter findings regenerates the files and shows up in review:
//!
//!     UPDATE_GOLDEN=1 cargo test --test golden

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn golden_path(root: &Path, capture: &Path) -> PathBuf {
    let rel = capture.strip_prefix("testdata").unwrap();
    root.join("testdata/golden")
        .join(rel)
        .with_extension(format!(
            "{}.jsonl",
            rel.extension().unwrap().to_string_lossy()
        ))
}

#[test]
fn every_bundled_capture_gives_its_golden_events() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let captures = common::bundled_captures(common::Captures::Generated);
    assert!(captures.len() >= 15, "found only {captures:?}");
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut differ = Vec::new();
    for capture in &captures {
        let out = Command::new(common::bin())
            .current_dir(root)
            .args(["read", "-F", "eve"])
            .arg(capture)
            .output()
            .expect("run watch3232");
        assert!(
            out.status.success(),
            "{}: exit {:?}: {}",
            capture.display(),
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        let golden = golden_path(root, capture);
        if update {
            std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
            std::fs::write(&golden, &out.stdout).unwrap();
            continue;
        }
        let want = std::fs::read(&golden)
            .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 writes it)", golden.display()));
        if want != out.stdout {
            let got = String::from_utf8_lossy(&out.stdout);
            let want = String::from_utf8_lossy(&want);
            let first = got
                .lines()
                .zip(want.lines())
                .position(|(g, w)| g != w)
                .unwrap_or_else(|| got.lines().count().min(want.lines().count()));
            differ.push(format!(
                "{}: line {}:\n  got  {}\n  want {}",
                capture.display(),
                first + 1,
                got.lines().nth(first).unwrap_or("<end>"),
                want.lines().nth(first).unwrap_or("<end>")
            ));
        }
    }
    assert!(
        differ.is_empty(),
        "events changed (UPDATE_GOLDEN=1 regenerates if meant):\n{}",
        differ.join("\n")
    );
}
